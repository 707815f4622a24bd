/* sort.h — ordering a rank's events by (user_id, ts, row).
 *
 * Within a user the order is total: the sort is stable and records arrive
 * in row order (event.h), so equal (user, ts) events stay in row order and
 * sessions never depend on how the rows were spread over ranks and windows. Users are grouped by a hash bucket first (a
 * counting sort on the top bits of mix64(user)), then each small bucket is
 * sorted in cache (the counting sort runs in two passes: the level-1
 * buckets, which SHUFFLE's pack already forms on the sending rank, then
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

/* A run of records grouped by level-1 bucket (the top l1_bits of
 * cs_user_key), buckets in ascending order: bucket_n[k] records of bucket k
 * follow those of bucket k-1. SHUFFLE packs each destination's records
 * this way, so the receiver's sort starts at level 2. A run holds
 * cs_event records, or cs_event_narrow ones when `narrow` is set; the sort
 * hands on records of the width its caller asks for (converting as it
 * places them). */
typedef struct cs_sort_run {
    const void *ev;
    const uint64_t *bucket_n;   /* 1 << l1_bits counts */
    int narrow;                 /* 0: cs_event records; 1: cs_event_narrow */
} cs_sort_run;

/* The level-1 bucket of a user (l1_bits in 1..16). */
uint64_t sort_l1_bucket(uint64_t user_id, int l1_bits);

/* Counts ev[0..n)'s records per level-1 bucket into bucket_n (1 << l1_bits). */
void sort_count_buckets(const cs_event *ev, uint64_t n, int l1_bits, uint64_t *bucket_n);

/* Sorts the union of the runs into out (room for all their records),
 * reading each record once: bucket by bucket, the runs' pieces of it are
 * scattered by the next key bits straight into out and the small
 * sub-buckets sorted in cache. Stable, taking the runs in the order given:
 * a user's records keep that order among equal ts, so pass the runs in
 * arrival (row) order. When nlater is not NULL it receives the number of
 * records with ts at or after `later` (run sizes its carry with it, at no
 * extra pass), and nusers when not NULL the number of users whose first
 * record is before `later` (sessionize reserves the user index with it).
 * CS_ENOMEM if the counters cannot be allocated. */
int sort_runs_into(const cs_sort_run *runs, int nruns, int l1_bits, cs_event *out,
                   int64_t later, uint64_t *nlater, uint64_t *nusers, cs_err *err);

/* The size of the largest level-1 bucket over all runs: the scratch
 * sort_runs_each needs. */
uint64_t sort_largest_bucket(const cs_sort_run *runs, int nruns, int l1_bits);

/* Receives one level-1 bucket's records sorted: m records of `width`
 * bytes at ev, of which nlate have ts at or after `later` and nusers users
 * have their first record before it. A non-OK return stops the sort. */
typedef int (*sort_bucket_fn)(void *ctx, const void *ev, size_t width, uint64_t m,
                              uint64_t nlate, uint64_t nusers, cs_err *err);

/* As sort_runs_into, but each bucket is sorted into scratch (room for
 * sort_largest_bucket records of `width` bytes) and handed to fn, in
 * bucket order, while it is still in cache: run sessionizes it there, so
 * the window's sorted records are never written out to memory and read
 * back. width is sizeof(cs_event), or sizeof(cs_event_narrow) when the
 * job reads no ids (a cs_event piece is then narrowed to its prefix, as
 * sort_runs_into widens narrow ones); other widths are CS_EINTERNAL. */
int sort_runs_each(const cs_sort_run *runs, int nruns, int l1_bits, void *scratch,
                   size_t width, int64_t later, sort_bucket_fn fn, void *ctx, cs_err *err);

/* 1 when a sorts before b: by user, then ts (the sort keeps row order among
 * equals). */
int sort_event_less(const cs_event *a, const cs_event *b);

/* A 64-bit key with a 64-bit payload (a user id and its table slot). */
typedef struct cs_kv {
    uint64_t key, val;
} cs_kv;

/* Sorts kv[0..n) by key, stably, using tmp (room for n) as scratch: a
 * counting pass on the top byte, then each bucket by LSD radix (8 bits a
 * pass, passes over digits every key of the bucket shares skipped) while
 * it is in cache: fastest for spread keys such as cs_user_key, right for
 * any. CS_ENOMEM if the counters cannot be allocated. */
int sort_kv(cs_kv *kv, cs_kv *tmp, uint64_t n, cs_err *err);

/* Sorts v[0..n) ascending in place, allocating nothing (an introsort):
 * for the distinct-id lists a scraper's session grows to millions of ids,
 * where qsort's merge sort would malloc a copy the memory budget does not
 * see. Not stable, which equal integers do not need. */
void sort_u64(uint64_t *v, uint64_t n);

#endif
