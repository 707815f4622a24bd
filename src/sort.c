/* sort.c — bucket-then-sort of events (see sort.h).
 *
 * Buckets are small (about 8 records) so the second pass is an insertion
 * sort in cache; a bucket that is large (a heavy user) is usually already in
 * order, which insertion sort handles in one pass; a large unordered one
 * falls back to qsort. */
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
    if (a->ts != b->ts)
        return a->ts < b->ts;
    return a->row < b->row;
}

static int cmp_event(const void *pa, const void *pb)
{
    const cs_event *a = pa, *b = pb;
    return sort_event_less(a, b) ? -1 : sort_event_less(b, a) ? 1 : 0;
}

/* Insertion sort; gives up (returns 0) after too many moves so a large
 * unordered bucket goes to qsort instead. */
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
                ev[j] = x;   /* keep every record: qsort finishes the job */
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
    if (!insertion(ev, n, budget))
        qsort(ev, n, sizeof *ev, cmp_event);
}

int sort_events_into(const cs_event *a, uint64_t na, const cs_event *b, uint64_t nb,
                     cs_event *out, cs_err *err)
{
    uint64_t n = na + nb;
    if (n == 0)
        return CS_OK;
    int bits = 0;
    while (bits < MAX_BUCKET_BITS && (n >> bits) > TARGET_BUCKET)
        bits++;
    uint64_t nbk = 1ULL << bits;
    uint64_t *cnt = cs_calloc(nbk + 1, sizeof *cnt, err, "sort buckets");
    if (!cnt)
        return CS_ENOMEM;
    int shift = 64 - bits;
#define BUCKET(e) (bits ? bucket_key((e)->user_id) >> shift : 0)
    for (uint64_t i = 0; i < na; i++)
        cnt[BUCKET(&a[i]) + 1]++;
    for (uint64_t i = 0; i < nb; i++)
        cnt[BUCKET(&b[i]) + 1]++;
    for (uint64_t k = 1; k <= nbk; k++)
        cnt[k] += cnt[k - 1];
    for (uint64_t i = 0; i < na; i++)
        out[cnt[BUCKET(&a[i])]++] = a[i];
    for (uint64_t i = 0; i < nb; i++)
        out[cnt[BUCKET(&b[i])]++] = b[i];
#undef BUCKET
    /* cnt[k] is now the end of bucket k. */
    uint64_t start = 0;
    for (uint64_t k = 0; k < nbk; k++) {
        sort_bucket(out + start, cnt[k] - start);
        start = cnt[k];
    }
    free(cnt);
    return CS_OK;
}

int sort_events(cs_event *ev, cs_event *tmp, uint64_t n, cs_err *err)
{
    int rc = sort_events_into(ev, n, NULL, 0, tmp, err);
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
