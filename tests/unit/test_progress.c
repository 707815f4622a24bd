/* test_progress.c — unit tests for progress.c's reporting (no MPI): plain
 * lines are throttled (first and last window always, then one every few
 * seconds), verbose reports every window, a live line is rewritten with \r
 * and blanks and ends with a newline, other ranks and --quiet print nothing,
 * and the numbers (windows, events, percentage, ETA) are right, after a
 * resume too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/progress.h"

static char *slurp(FILE *f)
{
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

static size_t count(const char *s, const char *needle)
{
    size_t k = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        k++;
    return k;
}

/* 10 windows of 1000 rows (the last one short: 9500 rows in all). */
static cs_progress make(FILE *out, int rank, int live, int verbose)
{
    cs_progress p = {.out = out, .rank = rank, .on = 1, .verbose = verbose, .live = live,
                     .nwindows = 10, .total_rows = 9500, .window_rows = 1000, .t_start = 0,
                     .t_loop = 0, .last = -1e30};
    return p;
}

static void test_lines_throttled(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    cs_progress p = make(f, 0, 0, 0);
    for (uint64_t w = 0; w < 10; w++)
        progress_report(&p, w, 100.0, 1.0 + (double)w);   /* a window a second */
    char *s = slurp(f);
    /* windows 1 (first), 6 (5 s later) and 10 (last) */
    assert_int_equal(count(s, "\n"), 3);
    assert_null(strchr(s, '\r'));
    assert_non_null(strstr(s, "clickseg run: window 1/10 (11%), 1,000/9,500 events, 1k events/s"));
    assert_non_null(strstr(s, "window 6/10 (63%), 6,000/9,500 events"));
    assert_non_null(strstr(s, "window 10/10 (100%), 9,500/9,500 events, 950 events/s, elapsed "
                              "10.0 s, ETA 0 s, peak RSS 100 MiB/rank\n"));
    /* ETA of window 6: 3500 rows left at 1000 rows/s */
    assert_non_null(strstr(s, "ETA 3.5 s"));
    free(s);
}

/* Resumed at row 6000 of 9500: 4 windows left. Events and the percentage
 * count the rows before the resume; the rate and the ETA are this start's. */
static void test_resumed(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    cs_progress p = make(f, 0, 0, 0);
    p.nwindows = 4;
    p.start_row = 6000;
    for (uint64_t w = 0; w < 4; w++)
        progress_report(&p, w, 100.0, 1.0 + (double)w);
    char *s = slurp(f);
    assert_non_null(strstr(s, "clickseg run: window 1/4 (74%), 7,000/9,500 events, 1k events/s, "
                              "elapsed 1.0 s, ETA 2.5 s"));
    assert_non_null(strstr(s, "window 4/4 (100%), 9,500/9,500 events, 875 events/s, elapsed "
                              "4.0 s, ETA 0 s"));
    free(s);
}

static void test_verbose_every_window(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    cs_progress p = make(f, 0, 0, 1);
    for (uint64_t w = 0; w < 10; w++)
        progress_report(&p, w, 1.0, 0.01 * (double)(w + 1));
    char *s = slurp(f);
    assert_int_equal(count(s, "clickseg run: window"), 10);
    free(s);
}

static void test_live(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    cs_progress p = make(f, 0, 1, 0);
    progress_report(&p, 0, 2048.0, 1.0);
    progress_report(&p, 1, 2048.0, 1.1);   /* too soon: not shown */
    progress_report(&p, 2, 2048.0, 2.0);
    assert_int_equal(p.pending, 1);
    progress_report(&p, 9, 2048.0, 3.0);   /* last: the line ends */
    assert_int_equal(p.pending, 0);
    progress_end(&p);                      /* nothing more to end */
    char *s = slurp(f);
    assert_int_equal(count(s, "\r"), 3);
    assert_int_equal(count(s, "\n"), 1);
    assert_int_equal(s[strlen(s) - 1], '\n');
    assert_non_null(strstr(s, "peak RSS 2 GiB/rank"));
    free(s);
}

static void test_silent(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    cs_progress p = make(f, 1, 0, 0);      /* rank 1 */
    for (uint64_t w = 0; w < 10; w++)
        progress_report(&p, w, 1.0, (double)w);
    cs_progress q = make(f, 0, 0, 0);
    q.on = 0;                              /* --quiet or a one-window run */
    for (uint64_t w = 0; w < 10; w++)
        progress_report(&q, w, 1.0, (double)w);
    char *s = slurp(f);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(progress_mode_from_name("lines"), PROGRESS_LINES);
    assert_int_equal(progress_mode_from_name("live"), PROGRESS_LIVE);
    assert_int_equal(progress_mode_from_name("auto"), PROGRESS_AUTO);
    assert_int_equal(progress_mode_from_name("tty"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_throttled), cmocka_unit_test(test_verbose_every_window),
        cmocka_unit_test(test_live), cmocka_unit_test(test_silent),
        cmocka_unit_test(test_resumed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
