/* sort.c — bucket-then-sort of events (see sort.h).
 *
 * Buckets are small (about 8 records) so the second pass is an insertion
 * sort in cache; a bucket that is large (a heavy user) is usually already in
 * order, which insertion sort handles in one pass; a large unordered one
 * falls back to a merge sort. Both are stable: events of equal (user, ts)
 * keep their arrival order, which is their row order (event.h). */
#include "clickseg/sort.h"

#include <stdlib.h>
#include <string.h>

#define TARGET_BUCKET 8
#define MAX_BUCKET_BITS 24
#define INSERTION_MAX 256

static inline uint64_t bucket_key(uint64_t user)
{
    return cs_user_key(user);
}

int sort_event_less(const cs_event *a, const cs_event *b)
{
    if (a->user_id != b->user_id)
        return a->user_id < b->user_id;
    return a->ts < b->ts;
}

/* Stable merge sort of ev[0..n) by sort_event_less, tmp (room for n) as
 * scratch: the fallback for a large unordered bucket, where equal events
 * must keep their order (they are in row order). */
static void merge_sort(cs_event *ev, cs_event *tmp, uint64_t n)
{
    for (uint64_t w = 1; w < n; w *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * w) {
            uint64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = sort_event_less(&ev[j], &ev[i]) ? ev[j++] : ev[i++];
            while (i < mid)
                tmp[k++] = ev[i++];
            while (j < hi)
                tmp[k++] = ev[j++];
        }
        memcpy(ev, tmp, n * sizeof *ev);
    }
}

/* Insertion sort; gives up (returns 0) after too many moves so a large
 * unordered bucket goes to the merge sort instead. */
static int insertion(cs_event *ev, uint64_t n, uint64_t budget)
{
    uint64_t moves = 0;
    for (uint64_t i = 1; i < n; i++) {
        if (!sort_event_less(&ev[i], &ev[i - 1]))
            continue;
        cs_event x = ev[i];
        uint64_t j = i;
        while (j > 0 && sort_event_less(&x, &ev[j - 1])) {
            ev[j] = ev[j - 1];
            j--;
            if (++moves > budget) {
                ev[j] = x;   /* keep every record: the merge sort finishes the job */
                return 0;
            }
        }
        ev[j] = x;
    }
    return 1;
}

static void sort_bucket(cs_event *ev, uint64_t n)
{
    if (n < 2)
        return;
    uint64_t budget = n <= INSERTION_MAX ? UINT64_MAX : 4 * n;
    if (insertion(ev, n, budget))
        return;
    cs_event *tmp = malloc(n * sizeof *tmp);
    if (tmp)
        merge_sort(ev, tmp, n);
    else
        insertion(ev, n, UINT64_MAX);   /* no scratch: slow, still right */
    free(tmp);
}

/* Two scatter passes instead of one: the first over at most 2^L1_BITS
 * buckets (few enough output streams for the write-combining buffers and
 * the TLB), the second inside each first-level bucket, which fits in L2.
 * One pass straight into n/8 buckets scattered every record to a random
 * page. */
#define L1_BITS 8

static inline uint64_t digit(uint64_t key, int shift, uint64_t mask)
{
    return (key >> shift) & mask;
}

/* Scatters src[0..n) into dst by bits [shift, shift + bits) of the key,
 * stably; cnt (2^bits + 1 entries) ends as each bucket's end offset. */
static void scatter(const cs_event *src, uint64_t n, cs_event *dst, uint64_t *cnt, int shift,
                    int bits)
{
    uint64_t nb = 1ULL << bits, mask = nb - 1;
    memset(cnt, 0, (nb + 1) * sizeof *cnt);
    for (uint64_t i = 0; i < n; i++)
        cnt[digit(bucket_key(src[i].user_id), shift, mask) + 1]++;
    for (uint64_t k = 1; k <= nb; k++)
        cnt[k] += cnt[k - 1];
    for (uint64_t i = 0; i < n; i++)
        dst[cnt[digit(bucket_key(src[i].user_id), shift, mask)]++] = src[i];
}

int sort_events_into(const cs_event *a, uint64_t na, const cs_event *b, uint64_t nb,
                     cs_event *out, int64_t later, uint64_t *nlater, cs_err *err)
{
    uint64_t n = na + nb, nl = 0;
    if (nlater)
        *nlater = 0;
    if (n == 0)
        return CS_OK;
    int bits = 0;
    while (bits < MAX_BUCKET_BITS && (n >> bits) > TARGET_BUCKET)
        bits++;
    int b1 = bits < L1_BITS ? bits : L1_BITS, b2 = bits - b1;
    uint64_t n1 = 1ULL << b1, n2 = 1ULL << b2;
    uint64_t *cnt1 = cs_calloc(n1 + 1, sizeof *cnt1, err, "sort buckets");
    uint64_t *cnt2 = cnt1 ? cs_calloc(n2 + 1, sizeof *cnt2, err, "sort buckets") : NULL;
    if (!cnt2) {
        free(cnt1);
        return CS_ENOMEM;
    }
    /* First level: a then b, stably, into out. */
    uint64_t mask1 = n1 - 1;
    int shift1 = 64 - b1;
    for (uint64_t i = 0; i < na; i++) {
        cnt1[b1 ? digit(bucket_key(a[i].user_id), shift1, mask1) + 1 : 1]++;
        nl += a[i].ts >= later;
    }
    for (uint64_t i = 0; i < nb; i++) {
        cnt1[b1 ? digit(bucket_key(b[i].user_id), shift1, mask1) + 1 : 1]++;
        nl += b[i].ts >= later;
    }
    if (nlater)
        *nlater = nl;
    for (uint64_t k = 1; k <= n1; k++)
        cnt1[k] += cnt1[k - 1];
    for (uint64_t i = 0; i < na; i++)
        out[cnt1[b1 ? digit(bucket_key(a[i].user_id), shift1, mask1) : 0]++] = a[i];
    for (uint64_t i = 0; i < nb; i++)
        out[cnt1[b1 ? digit(bucket_key(b[i].user_id), shift1, mask1) : 0]++] = b[i];
    /* cnt1[k] is now the end of bucket k. */
    uint64_t big = 0, start = 0;
    for (uint64_t k = 0; k < n1; k++) {
        if (cnt1[k] - start > big)
            big = cnt1[k] - start;
        start = cnt1[k];
    }
    cs_event *scratch = b2 ? cs_malloc(big * sizeof *scratch + 1, err, "sort scratch") : NULL;
    if (b2 && !scratch) {
        free(cnt1);
        free(cnt2);
        return CS_ENOMEM;
    }
    start = 0;
    for (uint64_t k = 0; k < n1; k++) {
        uint64_t m = cnt1[k] - start;
        if (b2 && m > 1) {
            scatter(out + start, m, scratch, cnt2, 64 - bits, b2);
            uint64_t s2 = 0;
            for (uint64_t j = 0; j < n2; j++) {
                sort_bucket(scratch + s2, cnt2[j] - s2);
                s2 = cnt2[j];
            }
            memcpy(out + start, scratch, m * sizeof *out);
        } else {
            sort_bucket(out + start, m);
        }
        start = cnt1[k];
    }
    free(scratch);
    free(cnt1);
    free(cnt2);
    return CS_OK;
}

int sort_events(cs_event *ev, cs_event *tmp, uint64_t n, cs_err *err)
{
    int rc = sort_events_into(ev, n, NULL, 0, tmp, INT64_MAX, NULL, err);
    if (rc == CS_OK && n)
        memcpy(ev, tmp, n * sizeof *ev);
    return rc;
}

int sort_kv(cs_kv *kv, cs_kv *tmp, uint64_t n, cs_err *err)
{
    enum { DIGIT = 16, NB = 1 << DIGIT, PASSES = 64 / DIGIT };
    uint64_t *cnt = cs_calloc((size_t)NB * PASSES, sizeof *cnt, err, "radix counters");
    if (!cnt)
        return CS_ENOMEM;
    for (uint64_t i = 0; i < n; i++)
        for (int p = 0; p < PASSES; p++)
            cnt[(size_t)p * NB + ((kv[i].key >> (p * DIGIT)) & (NB - 1))]++;
    cs_kv *src = kv, *dst = tmp;
    for (int p = 0; p < PASSES; p++) {
        uint64_t *c = cnt + (size_t)p * NB, at = 0;
        int trivial = 0;
        for (int d = 0; d < NB; d++) {
            uint64_t k = c[d];
            trivial |= k == n;   /* every key has this digit: nothing to move */
            c[d] = at;
            at += k;
        }
        if (trivial)
            continue;
        for (uint64_t i = 0; i < n; i++)
            dst[c[(src[i].key >> (p * DIGIT)) & (NB - 1)]++] = src[i];
        cs_kv *t = src;
        src = dst;
        dst = t;
    }
    if (src != kv)
        memcpy(kv, src, n * sizeof *kv);
    free(cnt);
    return CS_OK;
}
