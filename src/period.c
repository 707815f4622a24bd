/* period.c — report periods: the keys and labels of days, ISO weeks and
 * months in the report timezone (see period.h). */
#include "clickseg/period.h"

#include <stdio.h>
#include <string.h>

/* yyyymmdd of a day number. */
static int64_t ymd_key(int64_t days)
{
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    return y * 10000 + m * 100 + d;
}

/* ymd_key through tz's small cache: a run's sessions fall on few days. */
static int64_t ymd_key_cached(cs_tz *tz, int64_t days)
{
    int i = (int)(days & 15);
    if (tz->ymd_key[i] == 0 || tz->ymd_days[i] != days) {
        tz->ymd_days[i] = days;
        tz->ymd_key[i] = ymd_key(days);   /* never 0: the month is at least 1 */
    }
    return tz->ymd_key[i];
}

int64_t period_key(cs_tz *tz, int period, int64_t ts_us)
{
    return period_key_of_day(tz, period, tz_day(tz, ts_us));
}

int64_t period_key_of_day(cs_tz *tz, int period, int64_t days)
{
    switch (period) {
    case PERIOD_DAY: return ymd_key_cached(tz, days);
    case PERIOD_WEEK: return ymd_key_cached(tz, days - days_weekday(days));
    case PERIOD_MONTH: return ymd_key_cached(tz, days) / 100 * 100 + 1;
    default: return -1;
    }
}

/* Label of a key ("2024-12-31", "2020-W53", "2024-12"); returns the
 * length snprintf needed, -1 (empty buf) for an unknown period. */
int period_label(int period, int64_t key, char *buf, size_t n)
{
    int64_t y = tz_floor_div(key, 10000);
    int md = (int)(key - y * 10000);
    int m = md / 100, d = md % 100;
    switch (period) {
    case PERIOD_DAY:
        return snprintf(buf, n, "%04lld-%02d-%02d", (long long)y, m, d);
    case PERIOD_MONTH:
        return snprintf(buf, n, "%04lld-%02d", (long long)y, m);
    case PERIOD_WEEK: {
        /* ISO week: the week-year is the year of the week's Thursday */
        int64_t thu = days_from_civil(y, m, d) + 3, wy;
        int wm, wd;
        civil_from_days(thu, &wy, &wm, &wd);
        int week = (int)((thu - days_from_civil(wy, 1, 1)) / 7 + 1);
        return snprintf(buf, n, "%04lld-W%02d", (long long)wy, week);
    }
    default:
        if (n > 0)
            buf[0] = '\0';
        return -1;
    }
}

/* Day 4 (1970-01-05) is a Monday: weeks count from it. */
#define MONDAY0 4

int64_t period_index(int period, int64_t key)
{
    int64_t y = tz_floor_div(key, 10000);
    int md = (int)(key - y * 10000);
    int m = md / 100, d = md % 100;
    switch (period) {
    case PERIOD_DAY: return days_from_civil(y, m, d);
    case PERIOD_WEEK: return tz_floor_div(days_from_civil(y, m, d) - MONDAY0, 7);
    case PERIOD_MONTH: return y * 12 + (m - 1);
    default: return INT64_MIN;
    }
}

int64_t period_key_at(int period, int64_t index)
{
    switch (period) {
    case PERIOD_DAY: return ymd_key(index);
    case PERIOD_WEEK: return ymd_key(index * 7 + MONDAY0);
    case PERIOD_MONTH: {
        int64_t y = tz_floor_div(index, 12);
        return y * 10000 + (index - y * 12 + 1) * 100 + 1;
    }
    default: return -1;
    }
}

static const char *const period_names[] = { "day", "week", "month" };

/* Period by name; -1 when unknown. */
int period_from_name(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(period_names[i], name) == 0)
            return i;
    return -1;
}

/* Name of a period; NULL when out of range. */
const char *period_name(int period)
{
    return (period >= 0 && period < 3) ? period_names[period] : NULL;
}
