/* test_csvtext.c — unit tests for csvtext.c: which fields a spreadsheet
 * would run as formulas (OWASP's list: = + - @ tab CR first), numbers
 * with a sign left alone, and the quoted field written. Known answers
 * written by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/csvtext.h"

static int risk(const char *s)
{
    return csv_formula_risk(s, strlen(s));
}

static void test_risky(void **state)
{
    (void)state;
    assert_true(risk("=1+1"));
    assert_true(risk("=HYPERLINK(\"http://x\",\"y\")"));
    assert_true(risk("@SUM(A1:A2)"));
    assert_true(risk("+cmd|' /C calc'!A0"));
    assert_true(risk("-2+3+cmd|' /C calc'!A0"));
    assert_true(risk("\t=1"));
    assert_true(risk("\r=1"));
    assert_true(risk("-"));
    assert_true(risk("+"));
    assert_true(risk("-1.2.3"));
    assert_true(risk("+49 170"));
    assert_true(risk("-."));
}

static void test_plain(void **state)
{
    (void)state;
    assert_false(risk(""));
    assert_false(risk("GA1.2.1234.5678"));
    assert_false(risk("user@example.com"));   /* @ inside: not a formula */
    assert_false(risk("a=b"));
    assert_false(risk("+4917012345678"));
    assert_false(risk("-12.5"));
    assert_false(risk("-.5"));
    assert_false(risk("0123"));
    assert_false(risk(" =1"));                 /* a space first: text to a spreadsheet */
    /* only the first n bytes count */
    assert_false(csv_formula_risk("=1", 0));
    assert_true(csv_formula_risk("-x12", 2));
    assert_false(csv_formula_risk("-12x", 3));
}

/* What csv_put_text writes for s. */
static char *written(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    csv_put_text(f, s);
    fclose(f);
    return buf;
}

static void test_put_text(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "\"\""},
        {"abc", "\"abc\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"=1+1", "\"'=1+1\""},
        {"=\"x\"", "\"'=\"\"x\"\"\""},
        {"-12.5", "\"-12.5\""},
        {"-cmd", "\"'-cmd\""},
        {"a,b\nc", "\"a,b\nc\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = written(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_risky),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_put_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
