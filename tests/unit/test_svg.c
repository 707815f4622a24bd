/* test_svg.c — unit tests for svg.c: nice tick steps, a bar chart's data
 * attributes, escaping and bar lengths in proportion to the values, and a
 * line chart's values, pixel mapping (checked by inverting the plot box
 * attributes), gaps for NaN and legend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/svg.h"

/* The whole content of a temporary file, as a string (caller frees). */
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

static char *render_bars(const svg_bar_chart *c)
{
    FILE *f = tmpfile();
    svg_bar_chart_write(f, c);
    return slurp(f);
}

static size_t count(const char *s, const char *needle)
{
    size_t k = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        k++;
    return k;
}

static void test_nice_step(void **state)
{
    (void)state;
    assert_true(fabs(svg_nice_step(1.0, 4) - 0.25) < 1e-12);
    assert_true(fabs(svg_nice_step(0.93, 4) - 0.25) < 1e-12);
    assert_true(fabs(svg_nice_step(100, 5) - 20) < 1e-12);
    assert_true(fabs(svg_nice_step(7, 4) - 2) < 1e-12);
    assert_true(fabs(svg_nice_step(0, 4) - 1) < 1e-12);
}

static void test_bars(void **state)
{
    (void)state;
    svg_bar bars[] = {{"a", "Alpha <&>", "50.0%", "#111111", 0.5},
                      {"b", "Beta", "25.0%", "#222222", 0.25}};
    svg_bar_chart c = {.id = "share", .title = "Share \"x\"", .axis_label = "share",
                       .width = 600, .vmax = 1.0, .n = 2, .bars = bars};
    char *s = render_bars(&c);
    assert_non_null(strstr(s, "data-chart=\"share\""));
    assert_non_null(strstr(s, "Alpha &lt;&amp;&gt;"));
    assert_non_null(strstr(s, "aria-label=\"Share &quot;x&quot;\""));
    assert_null(strstr(s, "<&>"));
    assert_non_null(strstr(s, "data-key=\"a\" data-value=\"0.5\""));
    assert_non_null(strstr(s, "data-key=\"b\" data-value=\"0.25\""));
    assert_int_equal(count(s, "<g class=\"bar\""), 2);
    /* bar widths: the first is twice the second */
    double w1 = 0, w2 = 0;
    const char *p = strstr(s, "data-key=\"a\"");
    p = strstr(p, "width=\"");
    w1 = atof(p + 7);
    p = strstr(strstr(s, "data-key=\"b\""), "width=\"");
    w2 = atof(p + 7);
    assert_true(w2 > 10 && fabs(w1 - 2 * w2) < 0.02);
    assert_non_null(strstr(s, ">50.0%</text>"));
    free(s);
}

static void test_lines(void **state)
{
    (void)state;
    const char *labels[] = {"d1", "d2", "d3", "d4", "d5"};
    double y1[] = {1, 2, NAN, 4, 3}, y2[] = {0, 0, 0, 0, 0};
    svg_series ser[] = {{"one", "One", "#123456", y1, 0, 0}, {"two", "Two", "#654321", y2, 0, 0}};
    svg_line_chart c = {.id = "ts", .title = "T", .y_label = "count", .x_label = "day",
                        .width = 500, .height = 200, .n = 5, .x_labels = labels,
                        .nseries = 2, .series = ser};
    FILE *f = tmpfile();
    svg_line_chart_write(f, &c);
    char *buf = slurp(f);
    assert_non_null(strstr(buf, "data-values=\"1 2 nan 4 3\""));
    assert_int_equal(count(buf, "class=\"legend\""), 2);
    double x0, x1, py0, py1, ymin, ymax;
    const char *p = strstr(buf, "<g class=\"plot\"");
    assert_int_equal(sscanf(p, "<g class=\"plot\" data-x0=\"%lf\" data-x1=\"%lf\" data-y0=\"%lf\" "
                            "data-y1=\"%lf\" data-ymin=\"%lf\" data-ymax=\"%lf\"", &x0, &x1, &py0,
                            &py1, &ymin, &ymax), 6);
    assert_true(ymin == 0 && ymax >= 4);
    /* the path of series one: two pieces (the NaN is a gap), y values map back */
    p = strstr(strstr(buf, "data-key=\"one\""), " d=\"") + 4;
    double pts[5][2];
    int k = 0;
    while (*p != '"' && k < 5) {
        while (*p == ' ' || *p == 'M' || *p == 'L')
            p++;
        char *e;
        pts[k][0] = strtod(p, &e);
        pts[k][1] = strtod(e, &e);
        p = e;
        k++;
    }
    assert_int_equal(k, 4);
    double want[] = {1, 2, 4, 3};
    for (int i = 0; i < 4; i++) {
        double v = ymin + (py0 - pts[i][1]) / (py0 - py1) * (ymax - ymin);
        assert_true(fabs(v - want[i]) < 0.05);
    }
    assert_int_equal(count(strstr(buf, "data-key=\"one\""), " M") >= 1, 1);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_step),
        cmocka_unit_test(test_bars),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
