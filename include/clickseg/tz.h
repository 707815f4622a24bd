/* tz.h — local time in a timezone, and the calendar under it.
 *
 * A cs_tz is built once from the configured timezone ("UTC", a fixed offset
 * "+05:30" / "-08:00" meaning local = UTC + offset, or an IANA name such as
 * "Europe/Berlin" read from the system's TZif file under CS_ZONEINFO_DIR).
 * It converts event times (int64 microseconds since the Unix epoch, UTC) to
 * local calendar fields and day numbers: for the report's periods
 * (period.h) and the sessions' entry hour and weekday (sessionize) in the
 * report timezone, and for the import's local source times (textparse). The
 * zone is read by this module itself: the process's TZ variable and
 * localtime() are never touched.
 *
 * Each cs_tz caches the UTC interval in which the offset is constant (for an
 * IANA zone: from one transition to the next, months), so consecutive
 * timestamps cost a compare and no search. Times before 1970 are floored
 * correctly. Pure C, no MPI. A cs_tz is not shared between threads. */
#ifndef CLICKSEG_TZ_H
#define CLICKSEG_TZ_H

#include <stdint.h>

#include "clickseg/error.h"

#define CS_ZONEINFO_DIR "/usr/share/zoneinfo"
#define CS_TZ_NAME_MAX 64

/* A zone's POSIX TZ rule (its TZif footer); private to tz.c. */
typedef struct cs_tz_rule cs_tz_rule;

typedef struct cs_tz {
    char name[CS_TZ_NAME_MAX];
    /* transitions of an IANA zone: at trans[i] (UTC seconds) the offset
     * becomes trans_off[i]; before trans[0] it is first_off; after the last
     * one the zone's footer rule applies (when rule != NULL) */
    int ntrans;
    int64_t *trans;
    int32_t *trans_off;
    int32_t first_off;
    cs_tz_rule *rule;
    /* cache: the offset is cache_off for UTC seconds in [cache_lo, cache_hi) */
    int64_t cache_lo, cache_hi;
    int32_t cache_off;
    uint64_t lookups;   /* cache misses so far (for tests and timing) */
    /* yyyymmdd of recent local day numbers (period.c's period keys):
     * direct-mapped on the day, an entry valid when its key is non-zero */
    int64_t ymd_days[16], ymd_key[16];
} cs_tz;

/* Local calendar fields of an instant. */
typedef struct cs_local_time {
    int year, month, day;       /* month 1..12, day 1..31 */
    int hour, minute, second;
    int weekday;                /* 0 = Monday .. 6 = Sunday */
    int yday;                   /* 0..365 */
    int32_t utc_offset;         /* seconds east of UTC */
} cs_local_time;

/* Builds tz from a timezone name (see above). On error returns CS_ECONFIG
 * naming the zone and the reason, and leaves tz empty (safe to close). */
int tz_open(cs_tz *tz, const char *name, cs_err *err);

/* Frees what tz_open allocated; tz may then be opened again. */
void tz_close(cs_tz *tz);

/* Offset from UTC, in seconds east, at UTC second t. */
int32_t tz_offset(cs_tz *tz, int64_t t);

/* Fills *lt with the local time of ts_us (microseconds since the epoch). */
void tz_local(cs_tz *tz, int64_t ts_us, cs_local_time *lt);

/* Local hour 0..23 of ts_us. */
int tz_hour(cs_tz *tz, int64_t ts_us);

/* Local weekday of ts_us: 0 = Monday .. 6 = Sunday. */
int tz_weekday(cs_tz *tz, int64_t ts_us);

/* tz_hour and tz_weekday of ts_us in one call (sessionize, per session). */
void tz_hour_weekday(cs_tz *tz, int64_t ts_us, int *hour, int *weekday);

/* The local day number of ts_us: days since 1970-01-01 in tz. */
int64_t tz_day(cs_tz *tz, int64_t ts_us);

/* Floor of a / b for b > 0. */
static inline int64_t tz_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (negative before). */
int64_t days_from_civil(int64_t y, int m, int d);

/* The date of a day number (inverse of days_from_civil). */
void civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Weekday of a day number: 0 = Monday .. 6 = Sunday (1970-01-01 was a
 * Thursday). */
int days_weekday(int64_t days);

#endif
