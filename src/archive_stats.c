/* archive_stats.c — a full pass over one archive file for `clickseg inspect`:
 * exact time range and order, event-type counts, rejected values, and a
 * HyperLogLog estimate of distinct users (exact counts would need memory
 * proportional to the users; an estimate is what a pre-flight check needs). */
#include "clickseg/archive.h"
#include "clickseg/event.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STATS_BLOCK (1u << 20)

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static void hll_add(uint8_t *reg, uint64_t v)
{
    uint64_t h = mix64(v);
    uint32_t idx = (uint32_t)(h >> (64 - CS_HLL_BITS));
    uint64_t rest = (h << CS_HLL_BITS) | (1ULL << (CS_HLL_BITS - 1));
    uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > reg[idx])
        reg[idx] = rank;
}

uint64_t archive_hll_estimate(const uint8_t *reg)
{
    double sum = 0;
    unsigned zeros = 0;
    for (unsigned i = 0; i < CS_HLL_M; i++) {
        sum += ldexp(1.0, -reg[i]);
        zeros += reg[i] == 0;
    }
    double m = CS_HLL_M, alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / zeros);   /* small-range correction: linear counting */
    return (uint64_t)(e + 0.5);
}

void archive_hll_merge(uint8_t *into, const uint8_t *reg)
{
    for (unsigned i = 0; i < CS_HLL_M; i++)
        if (reg[i] > into[i])
            into[i] = reg[i];
}

/* Rows behind are measured against the newest ts of the rows run would
 * use before them (*max), as run measures lateness: one row 5 days back
 * and the 99 after it are 100 rows behind, not one step back. */
static void stats_block(cs_file_stats *st, const int64_t *ts, const uint64_t *uid,
                        const uint8_t *type, const int64_t *price, uint64_t n, int64_t *max,
                        int64_t lateness_us, uint8_t *reg)
{
    for (uint64_t i = 0; i < n; i++) {
        if (ts[i] < st->ts_min) st->ts_min = ts[i];
        if (ts[i] > st->ts_max) st->ts_max = ts[i];
        int bad_price = !cs_price_ok(price[i]);
        int rejected = ts[i] < 0 || ts[i] > CS_TS_MAX || type[i] > 7 || bad_price;
        if (!rejected && ts[i] < *max) {
            st->out_of_order++;
            st->late += *max - ts[i] > lateness_us;
        }
        if (!rejected && ts[i] > *max)
            *max = ts[i];
        if (!rejected && ts[i] < st->used_ts_min) st->used_ts_min = ts[i];
        if (!rejected && ts[i] > st->used_ts_max) st->used_ts_max = ts[i];
        st->negative_ts += ts[i] < 0;
        st->far_future_ts += ts[i] > CS_TS_MAX;
        st->bad_prices += bad_price;
        st->rejected += rejected;
        if (type[i] < 8)
            st->type_counts[type[i]]++;
        else
            st->bad_types++;
        hll_add(reg, uid[i]);
    }
}

int archive_file_stats(const char *path, int64_t lateness_us, int64_t prior_max,
                       cs_file_stats *st, cs_err *err)
{
    memset(st, 0, sizeof *st);
    st->ts_min = st->used_ts_min = INT64_MAX;
    st->ts_max = st->used_ts_max = INT64_MIN;
    cs_file_info info;
    int rc = archive_scan(path, &info, err);
    if (rc != CS_OK || !info.has_events)
        return rc;
    cs_archive_reader *r = NULL;
    if ((rc = archive_reader_open(path, &r, err)) != CS_OK)
        return rc;
    int64_t *ts = cs_malloc(STATS_BLOCK * sizeof *ts, err, "inspect buffer");
    uint64_t *uid = ts ? cs_malloc(STATS_BLOCK * sizeof *uid, err, "inspect buffer") : NULL;
    uint8_t *type = uid ? cs_malloc(STATS_BLOCK, err, "inspect buffer") : NULL;
    uint8_t *reg = st->users_hll;   /* zeroed with *st */
    /* The other columns are read too, so a value that does not fit is found now. */
    uint64_t *other = type ? cs_malloc(STATS_BLOCK * 8 * 4, err, "inspect buffer") : NULL;
    if (!other)
        rc = CS_ENOMEM;
    int64_t max = prior_max;
    for (uint64_t at = 0; rc == CS_OK && at < info.rows; at += STATS_BLOCK) {
        uint64_t n = info.rows - at < STATS_BLOCK ? info.rows - at : STATS_BLOCK;
        cs_columns c = {.ts = ts, .user_id = uid, .event_type = type, .product_id = other,
                        .category_id = (uint32_t *)(other + STATS_BLOCK),
                        .brand_id = (uint32_t *)(other + STATS_BLOCK) + STATS_BLOCK,
                        .price = (int64_t *)(other + 2 * STATS_BLOCK),
                        .session_id = other + 3 * STATS_BLOCK};
        rc = archive_read_range(r, at, n, &c, err);
        if (rc == CS_OK)
            stats_block(st, ts, uid, type, c.price, n, &max, lateness_us, reg);
    }
    if (rc == CS_OK)
        st->distinct_users_est = info.rows ? archive_hll_estimate(reg) : 0;
    free(other); free(type); free(uid); free(ts);
    archive_reader_close(r);
    return rc;
}
