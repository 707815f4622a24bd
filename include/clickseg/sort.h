/* sort.h — ordering a rank's events by (user_id, ts, row).
 *
 * Within a user the order is total: the sort is stable and records arrive
 * in row order (event.h), so equal (user, ts) events stay in row order and
 * sessions never depend on how the rows were spread over ranks and windows. Users are grouped by a hash bucket first (a
 * counting sort on the top bits of mix64(user)), then each small bucket is
 * sorted in cache (the counting sort runs in two passes, 256 buckets then
 * sub-buckets inside each, which keeps the scatter within the caches): users
 * come out grouped, though not in user_id order,
 * which nothing downstream needs. Called by run after SHUFFLE. Pure C. */
#ifndef CLICKSEG_SORT_H
#define CLICKSEG_SORT_H

#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/event.h"

/* Sorts ev[0..n) using tmp (room for n events) as scratch; the result is in
 * ev. Returns CS_ENOMEM if the bucket table cannot be allocated. */
int sort_events(cs_event *ev, cs_event *tmp, uint64_t n, cs_err *err);

/* Sorts the concatenation a[0..na) + b[0..nb) into out (room for na + nb),
 * reading each record once: the bucket scatter writes straight into out.
 * The scatter is stable, so a user's records keep their arrival order, which
 * for time-ordered input is already (ts, row) order and sorts in one pass.
 * When nlater is not NULL it receives the number of records with ts at or
 * after `later` (run sizes its carry with it, at no extra pass). */
int sort_events_into(const cs_event *a, uint64_t na, const cs_event *b, uint64_t nb,
                     cs_event *out, int64_t later, uint64_t *nlater, cs_err *err);

/* 1 when a sorts before b: by user, then ts (the sort keeps row order among
 * equals). */
int sort_event_less(const cs_event *a, const cs_event *b);

/* A 64-bit key with a 64-bit payload (a user id and its table slot). */
typedef struct cs_kv {
    uint64_t key, val;
} cs_kv;

/* Sorts kv[0..n) by key (stable LSD radix, 16 bits a pass; passes over
 * digits every key shares are skipped), using tmp (room for n) as scratch.
 * CS_ENOMEM if the counters cannot be allocated. */
int sort_kv(cs_kv *kv, cs_kv *tmp, uint64_t n, cs_err *err);

#endif
