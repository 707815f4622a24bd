/* test_period.c — unit tests for period.c: date arithmetic, UTC / fixed
 * offset / IANA zones (including DST changes and times before 1970), period
 * keys and labels, the offset cache, and a cross-check against the C
 * library's localtime_r for several zones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clickseg/period.h"

#define US 1000000LL

/* Microseconds of a UTC date-time. */
static int64_t utc_us(int y, int mo, int d, int h, int mi, int s)
{
    return ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s) * US;
}

/* Opens a zone, failing the test on error. */
static void open_ok(cs_tz *tz, const char *name)
{
    cs_err err;
    cs_err_clear(&err);
    int rc = tz_open(tz, name, &err);
    if (rc != CS_OK)
        fail_msg("tz_open(%s): %s", name, err.msg);
}

static void test_civil_roundtrip(void **state)
{
    (void)state;
    assert_int_equal(days_from_civil(1970, 1, 1), 0);
    assert_int_equal(days_from_civil(1969, 12, 31), -1);
    assert_int_equal(days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(days_from_civil(2024, 2, 29), 19782);
    for (int64_t dn = -800000; dn <= 800000; dn += 97) {
        int64_t y;
        int m, d;
        civil_from_days(dn, &y, &m, &d);
        assert_int_equal(days_from_civil(y, m, d), dn);
    }
}

static void test_utc_known_dates(void **state)
{
    (void)state;
    cs_tz tz;
    open_ok(&tz, "UTC");
    int64_t leap = utc_us(2024, 2, 29, 13, 5, 0);
    assert_int_equal(period_key(&tz, PERIOD_DAY, leap), 20240229);
    assert_int_equal(period_key(&tz, PERIOD_WEEK, leap), 20240226);
    assert_int_equal(period_key(&tz, PERIOD_MONTH, leap), 20240201);
    assert_int_equal(tz_weekday(&tz, leap), 3);   /* Thursday */
    assert_int_equal(tz_hour(&tz, leap), 13);

    /* 1969-12-31 23:59:59 UTC = -1 s; and -1 us is the same day */
    assert_int_equal(period_key(&tz, PERIOD_DAY, -1 * US), 19691231);
    assert_int_equal(period_key(&tz, PERIOD_DAY, -1), 19691231);
    assert_int_equal(period_key(&tz, PERIOD_DAY, 0), 19700101);
    assert_int_equal(tz_hour(&tz, -1 * US), 23);
    assert_int_equal(tz_weekday(&tz, -1 * US), 2);   /* Wednesday */
    assert_int_equal(tz_weekday(&tz, 0), 3);         /* Thursday */
    cs_local_time lt;
    tz_local(&tz, -1, &lt);
    assert_int_equal(lt.year, 1969);
    assert_int_equal(lt.second, 59);
    assert_int_equal(lt.yday, 364);

    /* 2021-01-03 is a Sunday: its ISO week starts Monday 2020-12-28 (W53) */
    int64_t sun = utc_us(2021, 1, 3, 12, 0, 0);
    assert_int_equal(tz_weekday(&tz, sun), 6);
    assert_int_equal(period_key(&tz, PERIOD_WEEK, sun), 20201228);
    assert_int_equal(period_key(&tz, PERIOD_WEEK, utc_us(2021, 1, 4, 0, 0, 0)), 20210104);

    /* a week across 1970-01-01 (Thursday): Monday 1969-12-29 */
    assert_int_equal(period_key(&tz, PERIOD_WEEK, 0), 19691229);
    assert_int_equal(period_key(&tz, PERIOD_MONTH, -1), 19691201);
    assert_int_equal(period_key(&tz, 7, 0), -1);
    tz_close(&tz);
}

static void test_labels(void **state)
{
    (void)state;
    char b[32];
    assert_int_equal(period_label(PERIOD_DAY, 20241231, b, sizeof b), 10);
    assert_string_equal(b, "2024-12-31");
    period_label(PERIOD_MONTH, 20241201, b, sizeof b);
    assert_string_equal(b, "2024-12");
    period_label(PERIOD_WEEK, 20201228, b, sizeof b);
    assert_string_equal(b, "2020-W53");
    period_label(PERIOD_WEEK, 20241230, b, sizeof b);   /* Monday of 2025-W01 */
    assert_string_equal(b, "2025-W01");
    period_label(PERIOD_WEEK, 20240101, b, sizeof b);
    assert_string_equal(b, "2024-W01");
    period_label(PERIOD_DAY, 19691231, b, sizeof b);
    assert_string_equal(b, "1969-12-31");
    assert_int_equal(period_label(9, 20240101, b, sizeof b), -1);
    assert_string_equal(b, "");
    assert_int_equal(period_from_name("week"), PERIOD_WEEK);
    assert_int_equal(period_from_name("year"), -1);
    assert_string_equal(period_name(PERIOD_MONTH), "month");
    assert_null(period_name(3));
}

/* period_index numbers the calendar's periods one after another: walking
 * day by day (1900..2100), it goes up by exactly one where period_key_of_day
 * moves to the next period and nowhere else, and period_key_at gives the
 * key back. */
static void test_period_index(void **state)
{
    (void)state;
    cs_tz tz;
    open_ok(&tz, "UTC");
    for (int p = PERIOD_DAY; p <= PERIOD_MONTH; p++) {
        int64_t first = days_from_civil(1900, 1, 1), last = days_from_civil(2100, 12, 31);
        int64_t prev_key = period_key_of_day(&tz, p, first);
        int64_t prev_idx = period_index(p, prev_key);
        for (int64_t dn = first + 1; dn <= last; dn++) {
            int64_t key = period_key_of_day(&tz, p, dn), idx = period_index(p, key);
            assert_int_equal(idx - prev_idx, key != prev_key);
            assert_int_equal(period_key_at(p, idx), key);
            prev_key = key;
            prev_idx = idx;
        }
    }
    assert_int_equal(period_index(PERIOD_DAY, 19700101), 0);
    assert_int_equal(period_index(PERIOD_WEEK, 19700105), 0);
    assert_int_equal(period_index(PERIOD_WEEK, 19691229), -1);
    assert_int_equal(period_key_at(PERIOD_MONTH, 2024 * 12 + 11), 20241201);
    assert_true(period_index(7, 20240101) == INT64_MIN);
    assert_int_equal(period_key_at(7, 0), -1);
}

static void test_fixed_offsets(void **state)
{
    (void)state;
    cs_tz tz;
    open_ok(&tz, "+05:30");
    /* 2024-12-31 18:29:59 UTC is 23:59:59 local; 18:30 UTC is the new day */
    int64_t before = utc_us(2024, 12, 31, 18, 29, 59);
    assert_int_equal(period_key(&tz, PERIOD_DAY, before), 20241231);
    assert_int_equal(tz_hour(&tz, before), 23);
    assert_int_equal(period_key(&tz, PERIOD_DAY, before + US), 20250101);
    assert_int_equal(period_key(&tz, PERIOD_MONTH, before + US), 20250101);
    assert_int_equal(tz_hour(&tz, before + US), 0);
    assert_int_equal(tz_weekday(&tz, before + US), 2);   /* 2025-01-01 Wednesday */
    assert_int_equal(tz_offset(&tz, 0), 19800);
    tz_close(&tz);

    open_ok(&tz, "-08:00");
    /* 1970-01-01 03:00 UTC is 1969-12-31 19:00 local */
    assert_int_equal(period_key(&tz, PERIOD_DAY, 3 * 3600 * US), 19691231);
    assert_int_equal(tz_hour(&tz, 3 * 3600 * US), 19);
    assert_int_equal(tz_offset(&tz, 0), -28800);
    assert_int_equal(tz.lookups, 0);   /* a fixed offset never searches */
    tz_close(&tz);
}

static void test_berlin_dst(void **state)
{
    (void)state;
    cs_tz tz;
    open_ok(&tz, "Europe/Berlin");
    cs_local_time lt;
    tz_local(&tz, utc_us(2024, 3, 31, 0, 30, 0), &lt);
    assert_int_equal(lt.hour, 1);
    assert_int_equal(lt.minute, 30);
    assert_int_equal(lt.utc_offset, 3600);
    tz_local(&tz, utc_us(2024, 3, 31, 1, 30, 0), &lt);
    assert_int_equal(lt.hour, 3);
    assert_int_equal(lt.minute, 30);
    assert_int_equal(lt.utc_offset, 7200);
    /* back to CET: 2024-10-27 01:00 UTC */
    assert_int_equal(tz_hour(&tz, utc_us(2024, 10, 27, 0, 59, 59)), 2);
    assert_int_equal(tz_hour(&tz, utc_us(2024, 10, 27, 1, 0, 0)), 2);
    assert_int_equal(tz_offset(&tz, utc_us(2024, 10, 27, 1, 0, 0) / US), 3600);
    /* 23:30 UTC on 2024-06-30 is already July 1st in Berlin */
    assert_int_equal(period_key(&tz, PERIOD_MONTH, utc_us(2024, 6, 30, 23, 30, 0)), 20240701);
    /* far future: from the zone's footer rule, not a stored transition */
    assert_int_equal(tz_offset(&tz, utc_us(2100, 7, 1, 12, 0, 0) / US), 7200);
    assert_int_equal(tz_offset(&tz, utc_us(2100, 1, 1, 12, 0, 0) / US), 3600);
    assert_int_equal(tz_hour(&tz, utc_us(2100, 3, 28, 1, 0, 0)), 3);   /* last Sun of March */
    tz_close(&tz);
}

/* The combined call sessionize uses gives what the two single ones give:
 * every 7 minutes 13 seconds across both 2024 DST changes in Berlin, around
 * the epoch (negative times) in a fixed zone, and in UTC. */
static void test_hour_weekday(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Berlin", "-03:30", "UTC"};
    const int64_t from[] = {utc_us(2024, 3, 30, 0, 0, 0), utc_us(1969, 12, 30, 0, 0, 0),
                            utc_us(2024, 12, 30, 0, 0, 0)};
    for (int z = 0; z < 3; z++) {
        cs_tz tz;
        open_ok(&tz, zones[z]);
        for (int64_t t = from[z]; t < from[z] + 220 * 86400 * US; t += 433 * US + 17) {
            int hour = -1, weekday = -1;
            tz_hour_weekday(&tz, t, &hour, &weekday);
            assert_int_equal(hour, tz_hour(&tz, t));
            assert_int_equal(weekday, tz_weekday(&tz, t));
        }
        tz_close(&tz);
    }
}

static void test_cache(void **state)
{
    (void)state;
    cs_tz tz;
    open_ok(&tz, "Europe/Berlin");
    int64_t t0 = utc_us(2024, 5, 1, 0, 0, 0);
    for (int i = 0; i < 24 * 60; i++)
        (void)period_key(&tz, PERIOD_DAY, t0 + (int64_t)i * 60 * US);
    assert_int_equal(tz.lookups, 1);   /* one summer-time interval */
    (void)tz_hour(&tz, utc_us(2024, 12, 1, 0, 0, 0));
    assert_int_equal(tz.lookups, 2);
    tz_close(&tz);
}

static void test_bad_names(void **state)
{
    (void)state;
    const char *bad[] = { "", "Mars/Olympus_Mons", "../etc/passwd", "/usr/share/zoneinfo/UTC",
                          "+5:30", "+25:00", "+05:60", "Europe", "Europe/Berlin ", NULL };
    for (int i = 0; bad[i]; i++) {
        cs_tz tz;
        cs_err err;
        cs_err_clear(&err);
        assert_int_equal(tz_open(&tz, bad[i], &err), CS_ECONFIG);
        assert_non_null(strstr(err.msg, "timezone"));
        tz_close(&tz);
    }
}

/* Our offset and local date-time must agree with glibc's for the zone. */
static void check_against_libc(const char *zone)
{
    cs_tz tz;
    open_ok(&tz, zone);
    setenv("TZ", zone, 1);
    tzset();
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* random instants 1800..2200 (after 2037 the zone's footer rule
         * applies), plus a run of consecutive hours */
        int64_t t = (int64_t)(x % 12600000000ULL) - 5364662400LL;
        if (i >= 15000)
            t = 1700000000LL + (int64_t)(i - 15000) * 3599;
        time_t tt = (time_t)t;
        struct tm tm;
        localtime_r(&tt, &tm);
        cs_local_time lt;
        tz_local(&tz, t * US + 123456, &lt);
        if (lt.utc_offset != tm.tm_gmtoff || lt.hour != tm.tm_hour || lt.day != tm.tm_mday ||
            lt.weekday != (tm.tm_wday + 6) % 7)
            fail_msg("%s at %lld: offset %d vs libc %ld", zone, (long long)t,
                     (int)lt.utc_offset, (long)tm.tm_gmtoff);
    }
    unsetenv("TZ");
    tzset();
    tz_close(&tz);
}

static void test_against_libc(void **state)
{
    (void)state;
    const char *zones[] = { "Europe/Berlin", "America/New_York", "Australia/Sydney",
                            "Asia/Kolkata", "America/Sao_Paulo", "Europe/Dublin",
                            "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago",
                            "Asia/Tehran", "Etc/GMT+5", "UTC", NULL };
    for (int i = 0; zones[i]; i++)
        check_against_libc(zones[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_roundtrip),
        cmocka_unit_test(test_utc_known_dates),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_period_index),
        cmocka_unit_test(test_fixed_offsets),
        cmocka_unit_test(test_berlin_dst),
        cmocka_unit_test(test_hour_weekday),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_against_libc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
