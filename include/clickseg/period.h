/* period.h — calendar periods: days, ISO weeks and months in a timezone
 * (tz.h), as sortable yyyymmdd keys and as labels. Called by run (the
 * report's period of each closed session), sessionize (session.split), the
 * import (one file per period), the report writers and merge. Pure C, no
 * MPI. */
#ifndef CLICKSEG_PERIOD_H
#define CLICKSEG_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/tz.h"

/* Report periods (config key report.period). */
enum cs_period { PERIOD_DAY = 0, PERIOD_WEEK = 1, PERIOD_MONTH = 2 };

/* The period key of ts_us as a sortable yyyymmdd number: the local date for
 * PERIOD_DAY, the Monday that starts its ISO week for PERIOD_WEEK, the first
 * of its month (yyyymm01) for PERIOD_MONTH. -1 for an unknown period. */
int64_t period_key(cs_tz *tz, int period, int64_t ts_us);

/* The period key of any instant on local day `days` (tz_day): period_key
 * without the day split, for callers that keep rows by day. */
int64_t period_key_of_day(cs_tz *tz, int period, int64_t days);

/* Writes the label of a period key into buf (always terminated): day
 * "2024-12-31", week "2020-W53" (ISO week-year and week number of the
 * Monday key), month "2024-12". Returns the length snprintf needed, or -1
 * for an unknown period. */
int period_label(int period, int64_t key, char *buf, size_t n);

/* Periods as consecutive numbers, so a caller can walk the calendar from
 * one period to the next (the report's axis, with the periods that have no
 * sessions): days since 1970-01-01, weeks since the Monday 1970-01-05,
 * months since year 0. INT64_MIN for an unknown period. */
int64_t period_index(int period, int64_t key);

/* The key of the period numbered `index` (inverse of period_index); -1
 * for an unknown period. */
int64_t period_key_at(int period, int64_t index);

/* Period by name ("day", "week", "month"); -1 when unknown. */
int period_from_name(const char *name);

/* Name of a period, or NULL when out of range. */
const char *period_name(int period);

#endif
