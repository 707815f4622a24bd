/* test_stopsignal.c — run's stop signals (checkpoint.c): a SIGTERM or
 * SIGUSR1 repeated within 2 s is one stop (slurmstepd sends SIGTERM twice
 * within milliseconds at a time limit, and taking the second for "exit at
 * once" lost the checkpoint), while one 2 s or more later takes the
 * default action. Each case runs in a child process, which the signals
 * may kill; the parent reads how it ended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clickseg/checkpoint.h"

/* Sleeps `s` seconds of CLOCK_MONOTONIC, through signals. */
static void sleep_s(double s)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        struct timespec ten_ms = {0, 10000000};
        nanosleep(&ten_ms, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < s);
}

/* Forks a child that catches the stop signals, sends itself `first` and,
 * `gap` seconds later, `second`, then exits 0 if still alive; returns its
 * wait status. A signal a process sends itself is taken before kill()
 * returns, so the two never merge into one pending signal. */
static int child_status(int first, double gap, int second)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ckpt_catch_signals();
        kill(getpid(), first);
        sleep_s(gap);
        kill(getpid(), second);
        sleep_s(0.05);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_repeat_is_one_stop(void **state)
{
    (void)state;
    int st = child_status(SIGTERM, 0, SIGTERM);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = child_status(SIGUSR1, 0.5, SIGTERM);   /* the warning, then the limit's SIGTERM */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_later_signal_exits(void **state)
{
    (void)state;
    int st = child_status(SIGTERM, 2.2, SIGTERM);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    st = child_status(SIGUSR1, 2.2, SIGUSR1);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeat_is_one_stop),
        cmocka_unit_test(test_later_signal_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
