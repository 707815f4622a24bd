/* test_fsutil.c — the output lock and the temporary directories beside an
 * output: the lock is exclusive even while holders come and go (each
 * unlinks the file as it lets go, so a lock on an unlinked file must not
 * count), it makes the output's parents and names its holder, and
 * fs_begin_output under the lock removes the temporary directories of
 * killed jobs and nothing else (for --state, their temporary files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/test_fsutil.XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void touch(const char *p)
{
    int f = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(f >= 0);
    close(f);
}

/* The lock makes the output's parents, names its holder, refuses a second
 * taker (another descriptor, as another job would open) with that name,
 * and is gone once dropped. */
static void test_lock_basics(void **state)
{
    (void)state;
    char final[256], lock[300], sub[256];
    snprintf(final, sizeof final, "%s/a/b/out", root);
    snprintf(lock, sizeof lock, "%s.lock", final);
    snprintf(sub, sizeof sub, "%s/a/b", root);
    cs_err err = {0};
    int fd = -1, fd2 = -1;
    assert_int_equal(fs_lock_output(final, &fd, &err), CS_OK);
    assert_true(fd >= 0);
    assert_true(is_dir(sub));
    char who[64] = "", want[64];
    FILE *f = fopen(lock, "r");
    assert_non_null(f);
    assert_non_null(fgets(who, sizeof who, f));
    fclose(f);
    snprintf(want, sizeof want, "pid %ld on ", (long)getpid());
    assert_true(strncmp(who, want, strlen(want)) == 0);
    assert_int_equal(fs_lock_output(final, &fd2, &err), CS_EIO);
    assert_int_equal(fd2, -1);
    assert_non_null(strstr(err.msg, "is being written by another clickseg job (pid "));
    fs_unlock_output(final, fd);
    assert_int_equal(access(lock, F_OK), -1);
    assert_int_equal(fs_lock_output(final, &fd2, &err), CS_OK);
    fs_unlock_output(final, fd2);
}

/* Processes that take and drop the lock as fast as they can: whoever holds
 * it makes a marker file with O_EXCL, which fails if a second process
 * holds it at the same time. Taking the lock on a file its holder had
 * just unlinked (opened before the unlink, locked after the close) made
 * two holders at once within a few thousand rounds. */
static void test_lock_exclusive_under_churn(void **state)
{
    (void)state;
    enum { NPROC = 4, ROUNDS = 4000 };
    char final[256], held[300];
    snprintf(final, sizeof final, "%s/churn", root);
    snprintf(held, sizeof held, "%s.held", final);
    pid_t pid[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] > 0)
            continue;
        int got = 0;
        for (int r = 0; r < ROUNDS; r++) {
            cs_err err = {0};
            int fd = -1;
            if (fs_lock_output(final, &fd, &err) != CS_OK)
                continue;   /* held by another: the normal refusal */
            int m = open(held, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (m < 0)
                _exit(2);   /* two holders at once */
            close(m);
            got++;
            unlink(held);
            fs_unlock_output(final, fd);
        }
        _exit(got > 0 ? 0 : 3);
    }
    int bad = 0;
    for (int p = 0; p < NPROC; p++) {
        int st = 0;
        assert_int_equal(waitpid(pid[p], &st, 0), pid[p]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "process %d: status %d\n", p, st);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* A mark file as fs_begin_output writes one ("pid N on HOST"). */
static void mark(const char *dir, const char *line)
{
    char p[400];
    snprintf(p, sizeof p, "%s/.clickseg-partial", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(line, f);
    fclose(f);
}

/* A pid no process has: a child that has been waited for. */
static long dead_pid(void)
{
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0)
        _exit(0);
    assert_int_equal(waitpid(c, NULL, 0), c);
    return (long)c;
}

/* Under the lock, fs_begin_output removes "<final>.tmp.<digits>"
 * directories that bear its mark (with what they hold) when their writer
 * is dead or on another host, and keeps every other: a user's directory
 * of such a name without the mark, a live local writer's, a non-numeric
 * suffix, another output's, a plain file. Its own directory gets the mark,
 * and the commit leaves the mark out of the output. */
static void test_begin_sweeps_killed_jobs(void **state)
{
    (void)state;
    char final[256], p[400], tmp[300], host[128] = "";
    gethostname(host, sizeof host - 1);
    snprintf(final, sizeof final, "%s/out", root);
    char dead[160], elsewhere[160], alive[160], zombie[160];
    snprintf(dead, sizeof dead, "pid %ld on %s\n", dead_pid(), host);
    /* a child that has exited and not been reaped: what a killed job's
     * ranks stay where nothing reaps them (a container's init) */
    pid_t z = fork();
    assert_true(z >= 0);
    if (z == 0)
        _exit(0);
    usleep(100000);
    snprintf(zombie, sizeof zombie, "pid %ld on %s\n", (long)z, host);
    snprintf(elsewhere, sizeof elsewhere, "pid %ld on not-%s\n", (long)getpid(), host);
    snprintf(alive, sizeof alive, "pid %ld on %s\n", (long)getpid(), host);
    const char *stale[] = {"out.tmp.12345", "out.tmp.1", "out.tmp.22", "out.tmp.23"};
    const char *stale_mark[] = {dead, elsewhere, "", zombie};   /* "": killed while writing it */
    const char *kept[] = {"out.tmp.x9", "out.tmp.", "outer.tmp.7", "out.tmpl.7",
                          "out.tmp.2024", "out.tmp.31"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", root, stale[i]);
        assert_int_equal(mkdir(p, 0755), 0);
        mark(p, stale_mark[i]);
        snprintf(p, sizeof p, "%s/%s/report.json", root, stale[i]);
        touch(p);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", root, kept[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    snprintf(p, sizeof p, "%s/out.tmp.31", root);   /* a live writer of this host */
    mark(p, alive);
    snprintf(p, sizeof p, "%s/out.tmp.2024/mine.csv", root);   /* the user's, unmarked */
    touch(p);
    snprintf(p, sizeof p, "%s/out.tmp.77", root);   /* not a directory */
    touch(p);
    cs_err err = {0};
    int fd = -1;
    const char *outputs[] = {"report.json", NULL};
    assert_int_equal(fs_lock_output(final, &fd, &err), CS_OK);
    assert_int_equal(fs_begin_output(final, outputs, 0, tmp, sizeof tmp, &err), CS_OK);
    assert_true(is_dir(tmp));
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", root, stale[i]);
        assert_false(is_dir(p));
    }
    assert_int_equal(waitpid(z, NULL, 0), z);
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", root, kept[i]);
        assert_true(is_dir(p));
    }
    snprintf(p, sizeof p, "%s/out.tmp.2024/mine.csv", root);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/out.tmp.77", root);
    assert_int_equal(access(p, F_OK), 0);
    /* our own mark, then none in the committed output */
    snprintf(p, sizeof p, "%s/.clickseg-partial", tmp);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/report.json", tmp);
    touch(p);
    assert_int_equal(fs_commit_output(tmp, final, outputs, &err), CS_OK);
    snprintf(p, sizeof p, "%s/report.json", final);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/.clickseg-partial", final);
    assert_int_equal(access(p, F_OK), -1);
    fs_unlock_output(final, fd);
}

/* For --state files (dirs 0) the same names go when they are HDF5 files
 * (a partial snapshot); a user's file of that name that is not one, and a
 * directory, stay; keep is matched by name, also given relative. */
static void test_sweep_files(void **state)
{
    (void)state;
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    char final[256], f1[300], f2[300], d[300], keep[300], text[300];
    snprintf(final, sizeof final, "%s/chain.state", root);
    snprintf(f1, sizeof f1, "%s.tmp.123", final);
    snprintf(f2, sizeof f2, "%s.tmp.9", final);
    snprintf(d, sizeof d, "%s.tmp.5", final);
    snprintf(keep, sizeof keep, "%s.tmp.x", final);
    snprintf(text, sizeof text, "%s.tmp.44", final);
    const char *h5[] = {f1, f2, keep};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(h5[i], "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(sig, 1, 8, f), 8);
        fclose(f);
    }
    touch(text);
    assert_int_equal(mkdir(d, 0755), 0);
    fs_sweep_stale_tmps(final, f2, 0);
    assert_int_equal(access(f1, F_OK), -1);
    assert_int_equal(access(f2, F_OK), 0);   /* the one to keep */
    assert_int_equal(access(keep, F_OK), 0);
    assert_int_equal(access(text, F_OK), 0);
    assert_true(is_dir(d));
    /* keep given relative to the working directory */
    assert_int_equal(chdir(root), 0);
    fs_sweep_stale_tmps("chain.state", "chain.state.tmp.9", 0);
    assert_int_equal(access(f2, F_OK), 0);
    fs_sweep_stale_tmps("chain.state", NULL, 0);
    assert_int_equal(access(f2, F_OK), -1);
    assert_int_equal(chdir("/"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_exclusive_under_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_sweeps_killed_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
