/* sort.c — bucket-then-sort of events (see sort.h). */
#include "clickseg/sort.h"

#include <stdlib.h>
#include <string.h>

#define TARGET_BUCKET 64

static inline uint64_t bucket_key(uint64_t user)
{
    /* A different mix from the owner's, so a rank's users spread evenly. */
    return cs_mix64(user ^ 0x5bd1e9955bd1e995ULL);
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

static void sort_small(cs_event *ev, uint64_t n)
{
    if (n > 24) {
        qsort(ev, n, sizeof *ev, cmp_event);
        return;
    }
    for (uint64_t i = 1; i < n; i++) {
        cs_event x = ev[i];
        uint64_t j = i;
        while (j > 0 && sort_event_less(&x, &ev[j - 1])) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = x;
    }
}

int sort_events(cs_event *ev, cs_event *tmp, uint64_t n, cs_err *err)
{
    if (n < 2)
        return CS_OK;
    int bits = 0;
    while (bits < 24 && (n >> bits) > TARGET_BUCKET)
        bits++;
    uint64_t nb = 1ULL << bits;
    uint64_t *cnt = cs_calloc(nb + 1, sizeof *cnt, err, "sort buckets");
    if (!cnt)
        return CS_ENOMEM;
    int shift = 64 - bits;
    for (uint64_t i = 0; i < n; i++)
        cnt[bits ? (bucket_key(ev[i].user_id) >> shift) + 1 : 1]++;
    for (uint64_t b = 1; b <= nb; b++)
        cnt[b] += cnt[b - 1];
    /* Stable scatter into tmp, then copy back bucket by bucket sorted. */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t b = bits ? bucket_key(ev[i].user_id) >> shift : 0;
        tmp[cnt[b]++] = ev[i];
    }
    uint64_t start = 0;
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t end = cnt[b];
        sort_small(tmp + start, end - start);
        start = end;
    }
    memcpy(ev, tmp, n * sizeof *ev);
    free(cnt);
    return CS_OK;
}
