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
