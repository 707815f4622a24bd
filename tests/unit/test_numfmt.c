/* test_numfmt.c — unit tests for numfmt.c: thousands separators at the
 * int64 limits, rounding, percentages, compact labels, money in minor
 * units for 0-, 2- and 3-decimal currencies and unknown codes, durations
 * and memory sizes. Known answers written by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "clickseg/numfmt.h"


static void test_ints(void **state)
{
    (void)state;
    char b[NUMFMT_MAX];
    assert_string_equal(fmt_int(b, sizeof b, 0), "0");
    assert_string_equal(fmt_int(b, sizeof b, 999), "999");
    assert_string_equal(fmt_int(b, sizeof b, 1000), "1,000");
    assert_string_equal(fmt_int(b, sizeof b, 1234567), "1,234,567");
    assert_string_equal(fmt_int(b, sizeof b, -1234), "-1,234");
    assert_string_equal(fmt_int(b, sizeof b, INT64_MIN), "-9,223,372,036,854,775,808");
    assert_string_equal(fmt_uint(b, sizeof b, UINT64_MAX), "18,446,744,073,709,551,615");
    char small[6];
    assert_string_equal(fmt_int(small, sizeof small, 1234567), "1,234");   /* cut, terminated */
}

static void test_fixed_pct(void **state)
{
    (void)state;
    char b[NUMFMT_MAX];
    assert_string_equal(fmt_fixed(b, sizeof b, 1234.5678, 2), "1,234.57");
    assert_string_equal(fmt_fixed(b, sizeof b, -0.001, 1), "0.0");
    assert_string_equal(fmt_fixed(b, sizeof b, -1234567.25, 1), "-1,234,567.2");
    assert_string_equal(fmt_fixed(b, sizeof b, 12, 0), "12");
    assert_string_equal(fmt_fixed(b, sizeof b, NAN, 1), "\xe2\x80\x93");
    assert_string_equal(fmt_pct(b, sizeof b, 0.1234, 1), "12.3%");
    assert_string_equal(fmt_pct(b, sizeof b, 1.0, 1), "100.0%");
    assert_string_equal(fmt_pct(b, sizeof b, 0.00049, 2), "0.05%");
    assert_string_equal(fmt_pct(b, sizeof b, 12.5, 0), "1,250%");
}

static void test_si(void **state)
{
    (void)state;
    char b[NUMFMT_MAX];
    assert_string_equal(fmt_si(b, sizeof b, 0), "0");
    assert_string_equal(fmt_si(b, sizeof b, 0.25), "0.25");
    assert_string_equal(fmt_si(b, sizeof b, 950), "950");
    assert_string_equal(fmt_si(b, sizeof b, 12500), "12.5k");
    assert_string_equal(fmt_si(b, sizeof b, 3400000), "3.4M");
    assert_string_equal(fmt_si(b, sizeof b, 2e9), "2G");
    assert_string_equal(fmt_si(b, sizeof b, 999999), "1M");
    assert_string_equal(fmt_si(b, sizeof b, -1500), "-1.5k");
}

static void test_money(void **state)
{
    (void)state;
    char b[NUMFMT_MAX];
    assert_string_equal(fmt_money(b, sizeof b, 123456, "EUR"), "\xe2\x82\xac" "1,234.56");
    assert_string_equal(fmt_money(b, sizeof b, -5, "USD"), "-$0.05");
    assert_string_equal(fmt_money(b, sizeof b, 500, "JPY"), "\xc2\xa5" "500");
    assert_string_equal(fmt_money(b, sizeof b, 123456, "CHF"), "CHF 1,234.56");
    assert_string_equal(fmt_money(b, sizeof b, 1234567, "KWD"), "KWD 1,234.567");
    assert_string_equal(fmt_money(b, sizeof b, 123456, "XYZ"), "1,234.56 XYZ");
    assert_string_equal(fmt_money(b, sizeof b, 123456, ""), "1,234.56");
    assert_string_equal(fmt_money(b, sizeof b, INT64_MAX, "USD"), "$92,233,720,368,547,758.07");
    assert_string_equal(fmt_money_si(b, sizeof b, 123456789, "EUR"), "\xe2\x82\xac" "1.23M");
    assert_int_equal(currency_decimals("JPY"), 0);
    assert_int_equal(currency_decimals(""), 2);
}

static void test_duration_mib(void **state)
{
    (void)state;
    char b[NUMFMT_MAX];
    assert_string_equal(fmt_duration(b, sizeof b, 0.25), "250 ms");
    assert_string_equal(fmt_duration(b, sizeof b, 12.34), "12.3 s");
    assert_string_equal(fmt_duration(b, sizeof b, 245), "4 min 05 s");
    assert_string_equal(fmt_duration(b, sizeof b, 7384), "2 h 03 min");
    assert_string_equal(fmt_duration(b, sizeof b, 190000), "2 d 05 h");
    assert_string_equal(fmt_duration(b, sizeof b, -1), "\xe2\x80\x93");
    assert_string_equal(fmt_mib(b, sizeof b, 512), "512 MiB");
    assert_string_equal(fmt_mib(b, sizeof b, 1536), "1.5 GiB");
    assert_string_equal(fmt_mib(b, sizeof b, 0.5), "0.5 MiB");
    assert_string_equal(fmt_mib(b, sizeof b, 358.7), "359 MiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ints),     cmocka_unit_test(test_fixed_pct),
        cmocka_unit_test(test_si),       cmocka_unit_test(test_money),
        cmocka_unit_test(test_duration_mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
