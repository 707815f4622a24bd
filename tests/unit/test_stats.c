/* test_stats.c — unit tests for stats.c: the histogram bins against their
 * limits, quantiles of hand-made histograms, the sorted period table under
 * out-of-order inserts and growth, and the session totals (bots kept out
 * of the business sums). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "clickseg/stats.h"

static void test_bins(void **state)
{
    (void)state;
    /* hand-computed: 0..7 exact; 8,9 | 10,11 | 12,13 | 14,15 | 16..19 ... */
    assert_int_equal(stats_bin(-3), 0);
    assert_int_equal(stats_bin(0), 0);
    assert_int_equal(stats_bin(7), 7);
    assert_int_equal(stats_bin(8), 8);
    assert_int_equal(stats_bin(9), 8);
    assert_int_equal(stats_bin(10), 9);
    assert_int_equal(stats_bin(15), 11);
    assert_int_equal(stats_bin(16), 12);
    assert_int_equal(stats_bin(19), 12);
    assert_int_equal(stats_bin(20), 13);
    assert_int_equal(stats_bin_max(8), 9);
    assert_int_equal(stats_bin_max(11), 15);
    assert_int_equal(stats_bin_max(12), 19);
    assert_int_equal(stats_bin_max(CS_HIST_BINS - 1), INT64_MAX);
    assert_int_equal(stats_bin(INT64_MAX), CS_HIST_BINS - 1);
    /* the first 64 bins are those of reports before format 4 */
    assert_int_equal(stats_bin_max(CS_HIST_BINS_V3 - 2), 114687);
    /* large values keep their own bins (a 3-day crawler session, a
     * 50,000.00 purchase in cents, the largest int64s) */
    const int64_t big[] = {114688, 259140, 5000000, 1LL << 40, 3LL << 61, INT64_MAX - 1,
                           INT64_MAX};
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
        int b = stats_bin(big[i]);
        int64_t lo = stats_bin_max(b - 1) + 1, hi = stats_bin_max(b);
        if (b < CS_HIST_BINS_V3 - 1 || big[i] < lo || big[i] > hi)
            fail_msg("%lld in bin %d [%lld, %lld]", (long long)big[i], b, (long long)lo,
                     (long long)hi);
    }

    int prev = 0;
    for (int64_t v = 0; v <= 1000000; v++) {
        int b = stats_bin(v);
        assert_true(b >= 0 && b < CS_HIST_BINS);
        if (b < prev)
            fail_msg("bin of %lld is %d, below the bin %d of a smaller value", (long long)v, b, prev);
        prev = b;
        if (stats_bin_max(b) < v)
            fail_msg("%lld in bin %d whose max is %lld", (long long)v, b, (long long)stats_bin_max(b));
        if (b > 0 && stats_bin_max(b - 1) >= v)
            fail_msg("%lld in bin %d but bin %d reaches %lld", (long long)v, b, b - 1,
                     (long long)stats_bin_max(b - 1));
    }
    /* every bin is at most 25% wide relative to its lowest value, the last
     * one ([7 * 2^60, INT64_MAX]) too */
    for (int b = 8; b < CS_HIST_BINS; b++) {
        int64_t lo = stats_bin_max(b - 1) + 1, hi = stats_bin_max(b);
        assert_true((hi - lo + 1) * 4 <= lo);
        assert_int_equal(stats_bin(lo), b);
        assert_int_equal(stats_bin(hi), b);
    }
}

/* A 64-bin histogram of format 3: the same bins, the last one's count
 * (its values unknown) at its lowest values, reported back. */
static void test_hist_from_v3(void **state)
{
    (void)state;
    int64_t old[CS_HIST_BINS_V3], h[CS_HIST_BINS];
    for (int b = 0; b < CS_HIST_BINS_V3; b++)
        old[b] = 3 * b + 1;
    memset(h, 0x5a, sizeof h);
    assert_int_equal(stats_hist_from_v3(old, h), 3 * 63 + 1);
    for (int b = 0; b < CS_HIST_BINS; b++)
        assert_int_equal(h[b], b < CS_HIST_BINS_V3 ? 3 * b + 1 : 0);
    old[CS_HIST_BINS_V3 - 1] = 0;
    assert_int_equal(stats_hist_from_v3(old, h), 0);
}

static void test_quantile(void **state)
{
    (void)state;
    int64_t h[CS_HIST_BINS];
    memset(h, 0, sizeof h);
    assert_int_equal(stats_quantile(h, 0.5), -1);
    /* values 3, 8, 9, 17: bins 3, 8, 8, 12 */
    h[3] = 1;
    h[8] = 2;
    h[12] = 1;
    assert_int_equal(stats_quantile(h, 0.0), 3);
    assert_int_equal(stats_quantile(h, 0.25), 3);
    assert_int_equal(stats_quantile(h, 0.26), 9);
    assert_int_equal(stats_quantile(h, 0.5), 9);
    assert_int_equal(stats_quantile(h, 0.75), 9);
    assert_int_equal(stats_quantile(h, 0.76), 19);
    assert_int_equal(stats_quantile(h, 1.0), 19);
    /* one value in the open last bin */
    memset(h, 0, sizeof h);
    h[CS_HIST_BINS - 1] = 5;
    assert_int_equal(stats_quantile(h, 0.5), INT64_MAX);
    /* 100 values 0..99 one each: the median is the 50th value (49), bin 8+... */
    memset(h, 0, sizeof h);
    for (int v = 0; v < 100; v++)
        h[stats_bin(v)]++;
    /* 49 lies in [48, 55] (bin of e=5, sub 2: 48..55) */
    assert_int_equal(stats_quantile(h, 0.5), 55);
    assert_int_equal(stats_quantile(h, 0.01), 0);
    assert_int_equal(stats_quantile(h, 0.075), 7);   /* 8th value: 7 */
    assert_int_equal(stats_quantile(h, 0.085), 9);   /* 9th value: 8, bin 8..9 */
}

static void test_period_rows(void **state)
{
    (void)state;
    cs_stats s;
    cs_err err;
    const int nseg = 3;
    const int w = nseg * PS_NFIELDS;
    assert_int_equal(stats_init(&s, nseg, &err), CS_OK);
    /* 150 keys (forces growth past 64 and 128) inserted in a scrambled order:
     * key k = 20240000 + 7 * ((37 * i) mod 150) */
    const int nk = 150;
    for (int i = 0; i < nk; i++) {
        int64_t key = 20240000 + 7 * ((37 * i) % nk);
        int64_t *row = stats_period_row(&s, key, &err);
        assert_non_null(row);
        for (int j = 0; j < w; j++) {
            assert_int_equal(row[j], 0);   /* a new row starts zeroed */
            row[j] = key * 100 + j;
        }
    }
    assert_int_equal(s.nperiods, (uint64_t)nk);
    for (int i = 0; i < nk; i++) {
        int64_t key = 20240000 + 7 * i;
        assert_int_equal(s.pkeys[i], key);
        for (int j = 0; j < w; j++)
            assert_int_equal(s.prow[(size_t)i * w + j], key * 100 + j);
    }
    /* looking up existing keys adds nothing and returns the same values */
    for (int i = nk - 1; i >= 0; i -= 13) {
        int64_t key = 20240000 + 7 * i;
        int64_t *row = stats_period_row(&s, key, &err);
        assert_non_null(row);
        assert_int_equal(row[0], key * 100);
        assert_int_equal(row[w - 1], key * 100 + w - 1);
        row[1] += 1;   /* and the row is the stored one */
        assert_int_equal(s.prow[(size_t)i * w + 1], key * 100 + 2);
    }
    assert_int_equal(s.nperiods, (uint64_t)nk);
    /* a key between two others and one before all */
    int64_t *row = stats_period_row(&s, 20240003, &err);
    assert_non_null(row);
    row[0] = -1;
    row = stats_period_row(&s, 1, &err);
    assert_non_null(row);
    row[0] = -2;
    assert_int_equal(s.nperiods, (uint64_t)nk + 2);
    assert_int_equal(s.pkeys[0], 1);
    assert_int_equal(s.prow[0], -2);
    assert_int_equal(s.pkeys[1], 20240000);
    assert_int_equal(s.pkeys[2], 20240003);
    assert_int_equal(s.prow[2 * (size_t)w], -1);
    assert_int_equal(s.pkeys[3], 20240007);
    assert_int_equal(s.prow[3 * (size_t)w + 5], 20240007LL * 100 + 5);
    for (uint64_t i = 1; i < s.nperiods; i++)
        assert_true(s.pkeys[i - 1] < s.pkeys[i]);
    /* A key looked up (and so remembered), then rows moved under it by
     * inserts before it: the next lookup still finds its own row. */
    for (int i = 0; i < 40; i++) {
        int64_t key = 20240000 + 7 * (149 - i);
        row = stats_period_row(&s, key, &err);
        assert_int_equal(row[w - 1], key * 100 + w - 1);
        assert_non_null(stats_period_row(&s, 20240001 + 7 * i, &err));   /* new, earlier */
        row = stats_period_row(&s, key, &err);
        assert_int_equal(row[w - 1], key * 100 + w - 1);
    }
    assert_int_equal(s.nperiods, (uint64_t)nk + 2 + 40);
    stats_free(&s);
}

static cs_features feat(int64_t events, int64_t duration_s, int64_t purchases, int64_t revenue,
                        int64_t refund, int64_t cart_adds)
{
    cs_features f;
    memset(&f, 0, sizeof f);
    f.v[F_EVENTS] = events;
    f.v[F_DURATION_S] = duration_s;
    f.v[F_PURCHASES] = purchases;
    f.v[F_REVENUE] = revenue;
    f.v[F_REFUND_AMOUNT] = refund;
    f.v[F_CART_ADDS] = cart_adds;
    return f;
}

static void test_add_session(void **state)
{
    (void)state;
    cs_stats s;
    cs_err err;
    assert_int_equal(stats_init(&s, 4, &err), CS_OK);
    cs_features bot = feat(150, 60, 1, 500, 0, 3);
    cs_features buyer = feat(5, 30, 2, 1000, 200, 1);
    cs_features abandon = feat(7, 100, 0, 0, 0, 2);
    cs_features browse = feat(2, 0, 0, 0, 0, 0);
    stats_add_session(&s, 0, 1, &bot);
    stats_add_session(&s, 1, 0, &buyer);
    stats_add_session(&s, 2, 0, &abandon);
    stats_add_session(&s, 2, 0, &browse);

    assert_int_equal(s.tot.sessions, 4);
    assert_int_equal(s.tot.events, 164);
    assert_int_equal(s.tot.bot_sessions, 1);
    assert_int_equal(s.tot.bot_events, 150);
    assert_int_equal(s.tot.purchase_sessions, 1);   /* the bot's purchase is not business */
    assert_int_equal(s.tot.revenue, 1000);
    assert_int_equal(s.tot.refunds, 200);

    const cs_segstat *b = &s.seg[0];
    assert_int_equal(b->sessions, 1);
    assert_int_equal(b->events, 150);
    assert_int_equal(b->purchase_sessions, 1);
    assert_int_equal(b->purchases, 1);
    assert_int_equal(b->revenue, 500);
    assert_int_equal(b->cart_sessions, 1);
    assert_int_equal(b->abandoned_cart_sessions, 0);
    assert_int_equal(b->duration_s_sum, 60);
    /* 60 s: e=5, (60>>3)&3 = 3: bin 8+8+3 = 19; 150 events: e=7, (150>>5)&3 = 0: bin 24 */
    assert_int_equal(b->hist_duration[19], 1);
    assert_int_equal(b->hist_events[24], 1);

    const cs_segstat *y = &s.seg[1];
    assert_int_equal(y->sessions, 1);
    assert_int_equal(y->purchase_sessions, 1);
    assert_int_equal(y->purchases, 2);
    assert_int_equal(y->revenue, 1000);
    assert_int_equal(y->refunds, 200);
    assert_int_equal(y->cart_sessions, 1);
    assert_int_equal(y->abandoned_cart_sessions, 0);

    const cs_segstat *a = &s.seg[2];
    assert_int_equal(a->sessions, 2);
    assert_int_equal(a->events, 9);
    assert_int_equal(a->purchase_sessions, 0);
    assert_int_equal(a->cart_sessions, 1);
    assert_int_equal(a->abandoned_cart_sessions, 1);
    assert_int_equal(a->duration_s_sum, 100);
    /* durations 100 (e=6, (100>>4)&3 = 2: bin 8+12+2 = 22) and 0; events 7 and 2 */
    assert_int_equal(a->hist_duration[22], 1);
    assert_int_equal(a->hist_duration[0], 1);
    assert_int_equal(a->hist_events[7], 1);
    assert_int_equal(a->hist_events[2], 1);
    int64_t total = 0;
    for (int i = 0; i < CS_HIST_BINS; i++)
        total += a->hist_duration[i] + a->hist_events[i];
    assert_int_equal(total, 4);

    assert_int_equal(s.seg[3].sessions, 0);
    stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bins),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_hist_from_v3),
        cmocka_unit_test(test_period_rows),
        cmocka_unit_test(test_add_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
