/* stats.c — integer statistics, histograms and their exact reduction. */
#include "clickseg/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int stats_init(cs_stats *s, int nseg, cs_err *err)
{
    (void)err;
    memset(s, 0, sizeof *s);
    s->nseg = nseg;
    return CS_OK;
}

void stats_free(cs_stats *s)
{
    free(s->pkeys);
    free(s->prow);
    memset(s, 0, sizeof *s);
}

_Static_assert(CS_HIST_BINS == 8 + (62 - 3 + 1) * 4, "the bins cover every int64");

int stats_bin(int64_t v)
{
    if (v < 8)
        return v < 0 ? 0 : (int)v;
    int e = 63 - __builtin_clzll((unsigned long long)v);   /* 3..62 */
    return 8 + (e - 3) * 4 + (int)((v >> (e - 2)) & 3);
}

int64_t stats_bin_max(int bin)
{
    if (bin < 8)
        return bin;
    if (bin >= CS_HIST_BINS - 1)
        return INT64_MAX;
    int e = (bin - 8) / 4 + 3, sub = (bin - 8) % 4;
    int64_t lo = ((int64_t)(4 + sub)) << (e - 2);
    return lo + ((1LL << (e - 2)) - 1);
}

int64_t stats_hist_from_v3(const int64_t *old, int64_t *hist)
{
    memset(hist, 0, CS_HIST_BINS * sizeof *hist);
    memcpy(hist, old, CS_HIST_BINS_V3 * sizeof *hist);
    return old[CS_HIST_BINS_V3 - 1];
}

int64_t stats_quantile(const int64_t *hist, double q)
{
    int64_t total = 0;
    for (int b = 0; b < CS_HIST_BINS; b++)
        total += hist[b];
    if (total == 0)
        return -1;
    /* Smallest bin whose cumulative count reaches ceil(q * total). */
    int64_t need = (int64_t)(q * (double)total);
    if ((double)need < q * (double)total)
        need++;
    if (need < 1)
        need = 1;
    int64_t cum = 0;
    for (int b = 0; b < CS_HIST_BINS; b++) {
        cum += hist[b];
        if (cum >= need)
            return stats_bin_max(b);
    }
    return stats_bin_max(CS_HIST_BINS - 1);
}

int64_t *stats_period_row(cs_stats *s, int64_t key, cs_err *err)
{
    size_t w = (size_t)s->nseg * PS_NFIELDS;
    uint64_t *h = &s->hit[((uint64_t)key * 0x9e3779b97f4a7c15ULL) >> 58];
    if (*h && *h <= s->nperiods && s->pkeys[*h - 1] == key)
        return s->prow + (*h - 1) * w;
    uint64_t lo = 0, hi = s->nperiods;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (s->pkeys[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    if (lo < s->nperiods && s->pkeys[lo] == key) {
        *h = lo + 1;
        return s->prow + lo * w;
    }
    if (s->nperiods == s->pcap) {
        uint64_t cap = s->pcap ? 2 * s->pcap : 64;
        int64_t *k = cs_realloc(s->pkeys, cap * sizeof *k, err, "period keys");
        if (!k)
            return NULL;
        s->pkeys = k;
        int64_t *r = cs_realloc(s->prow, cap * w * sizeof *r, err, "period rows");
        if (!r)
            return NULL;
        s->prow = r;
        s->pcap = cap;
    }
    memmove(s->pkeys + lo + 1, s->pkeys + lo, (s->nperiods - lo) * sizeof *s->pkeys);
    memmove(s->prow + (lo + 1) * w, s->prow + lo * w, (s->nperiods - lo) * w * sizeof *s->prow);
    s->pkeys[lo] = key;
    memset(s->prow + lo * w, 0, w * sizeof *s->prow);
    s->nperiods++;
    *h = lo + 1;
    return s->prow + lo * w;
}

double stats_ratio(int64_t a, int64_t b)
{
    return b ? (double)a / (double)b : NAN;
}

double stats_share(const cs_stats *s, int seg, int bot)
{
    int64_t all = s->tot.sessions, business = all - s->tot.bot_sessions;
    return seg == bot ? stats_ratio(s->seg[seg].sessions, all)
                      : stats_ratio(s->seg[seg].sessions, business);
}

void stats_add_session(cs_stats *s, int seg, int is_bot, const cs_features *f)
{
    cs_segstat *g = &s->seg[seg];
    const int64_t *v = f->v;
    int purchased = v[F_PURCHASES] > 0, carted = v[F_CART_ADDS] > 0;
    g->sessions++;
    g->events += v[F_EVENTS];
    g->purchase_sessions += purchased;
    g->purchases += v[F_PURCHASES];
    g->revenue += v[F_REVENUE];
    g->refunds += v[F_REFUND_AMOUNT];
    g->cart_sessions += carted;
    g->abandoned_cart_sessions += carted && !purchased;
    g->duration_s_sum += v[F_DURATION_S];
    g->product_view_sessions += v[F_PRODUCT_VIEWS] > 0;
    g->checkout_sessions += v[F_CHECKOUTS] > 0;
    g->hist_duration[stats_bin(v[F_DURATION_S])]++;
    g->hist_events[stats_bin(v[F_EVENTS])]++;
    s->tot.sessions++;
    s->tot.events += v[F_EVENTS];
    if (is_bot) {
        s->tot.bot_sessions++;
        s->tot.bot_events += v[F_EVENTS];
        return;
    }
    s->tot.purchase_sessions += purchased;
    s->tot.revenue += v[F_REVENUE];
    s->tot.refunds += v[F_REFUND_AMOUNT];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Merges the sorted key lists of all ranks into one sorted union on every
 * rank, re-laying each rank's rows to match (missing periods are zeros). */
static int align_periods(const cs_comm *c, cs_stats *s, cs_err *err)
{
    uint64_t counts[4096];
    uint64_t *cnt = c->size <= 4096 ? counts : NULL;
    if (!cnt)
        return cs_err_set(err, CS_EINTERNAL, "more than 4096 ranks are not supported");
    void *all = NULL;
    int rc = comm_gatherv(c, s->pkeys, s->nperiods * sizeof(int64_t), &all, cnt, err);
    int64_t n = 0;
    int64_t *keys = NULL;
    if (rc == CS_OK && c->rank == 0) {
        uint64_t total = 0;
        for (int r = 0; r < c->size; r++)
            total += cnt[r] / sizeof(int64_t);
        keys = all;
        qsort(keys, total, sizeof *keys, cmp_i64);
        for (uint64_t i = 0; i < total; i++)
            if (n == 0 || keys[n - 1] != keys[i])
                keys[n++] = keys[i];
    }
    if (comm_agree(c, err) != CS_OK) {
        free(all);
        return err->code;
    }
    if (comm_bcast(c, &n, sizeof n, err) == CS_OK && c->rank != 0)
        keys = cs_malloc((size_t)n * sizeof *keys + 8, err, "period keys");
    rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = comm_bcast(c, keys, (size_t)n * sizeof *keys, err);
    for (int64_t i = 0; rc == CS_OK && i < n; i++)
        if (!stats_period_row(s, keys[i], err))
            rc = CS_ENOMEM;
    free(keys);
    return comm_agree(c, err);
}

int stats_reduce(const cs_comm *c, cs_stats *s, cs_err *err)
{
    int rc = comm_sum_i64(c, (int64_t *)&s->tot, sizeof s->tot / sizeof(int64_t), 0, err);
    if (rc == CS_OK)
        rc = comm_sum_i64(c, (int64_t *)s->seg, sizeof s->seg / (sizeof(int64_t)), 0, err);
    if (rc == CS_OK)
        rc = align_periods(c, s, err);
    if (rc == CS_OK)
        rc = comm_sum_i64(c, s->prow, s->nperiods * (uint64_t)s->nseg * PS_NFIELDS, 0, err);
    return rc;
}
