/* test_sort.c — unit tests for sort.c: sort_events on random events with
 * many ties (checked by an independent pass: users contiguous, (ts, row)
 * strictly increasing within a user, every row kept with its payload),
 * sort_runs_into and sort_runs_each on bucket-grouped runs from several
 * sources (narrow and wide records), one heavy user, the small sizes 0, 1,
 * 2, the event order, the key-value sort and the in-place integer sort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "clickseg/sort.h"

/* xorshift64*: a deterministic generator independent of the code under test. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* A payload that depends only on the row, so a record that lost its fields
 * on the way through the sort is seen; the row is read back from it (the
 * record has no row field: rows are the input order, which the sort keeps
 * among equal (user, ts)). */
static uint64_t payload_of(uint64_t row)
{
    return row * 1000003ULL + 17;
}

static uint64_t row_of(const cs_event *e)
{
    return (e->product_id - 17) / 1000003ULL;
}

static cs_event make_event(uint64_t user, int64_t ts, uint64_t row)
{
    cs_event e;
    memset(&e, 0, sizeof e);
    e.user_id = user;
    e.product_id = payload_of(row);
    e.session_id = ~payload_of(row);
    e.price = (int64_t)(row % 9973);
    e.category_id = (uint32_t)(row * 7);
    e.brand_id = (uint32_t)(row * 11);
    e.ts_type = ev_ts_type(ts, (unsigned)(row % 8));
    return e;
}

/* Checks the result of a sort: users contiguous, (ts, row) strictly
 * increasing within a user, each row 0..n-1 present once with its payload. */
static void check_sorted(const cs_event *ev, uint64_t n)
{
    uint8_t *seen_row = calloc(n ? n : 1, 1);
    assert_non_null(seen_row);
    /* users already finished: a small open-addressing set */
    uint64_t cap = 1;
    while (cap < 4 * n + 4)
        cap <<= 1;
    uint64_t *done = calloc(cap, sizeof *done);
    uint8_t *used = calloc(cap, 1);
    assert_non_null(done);
    assert_non_null(used);
    for (uint64_t i = 0; i < n; i++) {
        const cs_event *e = &ev[i];
        assert_true(row_of(e) < n);
        assert_int_equal(seen_row[row_of(e)], 0);
        seen_row[row_of(e)] = 1;
        assert_int_equal(e->product_id, payload_of(row_of(e)));
        assert_int_equal(e->session_id, ~payload_of(row_of(e)));
        assert_int_equal(e->price, (int64_t)(row_of(e) % 9973));
        assert_int_equal(e->category_id, (uint32_t)(row_of(e) * 7));
        assert_int_equal(e->brand_id, (uint32_t)(row_of(e) * 11));
        assert_int_equal(ev_type(e), row_of(e) % 8);
        if (i > 0 && ev[i - 1].user_id == e->user_id) {
            const cs_event *p = &ev[i - 1];
            if (!(ev_ts(p) < ev_ts(e) || (ev_ts(p) == ev_ts(e) && row_of(p) < row_of(e))))
                fail_msg("user %llu: row %llu (ts %lld) before row %llu (ts %lld)",
                         (unsigned long long)e->user_id, (unsigned long long)row_of(p),
                         (long long)ev_ts(p), (unsigned long long)row_of(e), (long long)ev_ts(e));
            continue;
        }
        if (i > 0) {
            /* the previous user's run ends here: remember it as finished */
            uint64_t h = (ev[i - 1].user_id * 0x9e3779b97f4a7c15ULL) & (cap - 1);
            while (used[h] && done[h] != ev[i - 1].user_id)
                h = (h + 1) & (cap - 1);
            used[h] = 1;
            done[h] = ev[i - 1].user_id;
        }
        /* a new run: its user must not have had a run before */
        uint64_t h = (e->user_id * 0x9e3779b97f4a7c15ULL) & (cap - 1);
        while (used[h] && done[h] != e->user_id)
            h = (h + 1) & (cap - 1);
        if (used[h])
            fail_msg("user %llu appears in two separate runs", (unsigned long long)e->user_id);
    }
    for (uint64_t r = 0; r < n; r++)
        assert_int_equal(seen_row[r], 1);
    free(used);
    free(done);
    free(seen_row);
}

static void test_sort_random_ties(void **state)
{
    (void)state;
    const uint64_t n = 100000;
    cs_event *ev = malloc(n * sizeof *ev), *tmp = malloc(n * sizeof *tmp);
    assert_non_null(ev);
    assert_non_null(tmp);
    uint64_t s = 0x1234567887654321ULL;
    /* rows in input order (as the pipeline hands them over), users and ts
     * few, so most (user, ts) repeat: their rows must come out in order */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = rng_next(&s);
        /* 1500 users, some with huge ids (top bits set) */
        uint64_t user = r % 1500;
        if (user % 3 == 0)
            user |= 0xfff0000000000000ULL;
        int64_t ts = (int64_t)((r >> 20) % 40) - 5;   /* many equal, some negative */
        ev[i] = make_event(user, ts, i);
    }
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(sort_events(ev, tmp, n, &err), CS_OK);
    check_sorted(ev, n);
    free(tmp);
    free(ev);
}

/* What sort_runs_each handed over: the buckets appended in turn, their
 * late and early-user counts summed, and the bucket each came from. */
typedef struct each_log {
    cs_event *all;
    uint64_t n, nlate, nusers, calls, scratch_cap;
    int l1;
    const cs_event *scratch;
} each_log;

static int log_bucket(void *ctx, const void *recs, size_t width, uint64_t m, uint64_t nlate,
                      uint64_t nusers, cs_err *err)
{
    (void)err;
    each_log *g = ctx;
    const cs_event *ev = recs;
    assert_int_equal(width, sizeof *ev);
    assert_ptr_equal(ev, g->scratch);   /* every bucket in the same scratch */
    assert_true(m > 0 && m <= g->scratch_cap);
    /* one level-1 bucket a call, buckets ascending */
    for (uint64_t i = 0; i < m; i++)
        assert_int_equal(sort_l1_bucket(ev[i].user_id, g->l1), sort_l1_bucket(ev[0].user_id, g->l1));
    if (g->n)
        assert_true(sort_l1_bucket(g->all[g->n - 1].user_id, g->l1) <
                    sort_l1_bucket(ev[0].user_id, g->l1));
    memcpy(g->all + g->n, ev, m * sizeof *ev);
    g->n += m;
    g->nlate += nlate;
    g->nusers += nusers;
    g->calls++;
    return CS_OK;
}

/* The same for narrow output: each bucket's 24-byte records appended. */
typedef struct each_narrow {
    cs_event_narrow *all;
    uint64_t n, nlate, nusers;
} each_narrow;

static int log_narrow(void *ctx, const void *recs, size_t width, uint64_t m, uint64_t nlate,
                      uint64_t nusers, cs_err *err)
{
    (void)err;
    each_narrow *g = ctx;
    assert_int_equal(width, sizeof(cs_event_narrow));
    memcpy(g->all + g->n, recs, m * width);
    g->n += m;
    g->nlate += nlate;
    g->nusers += nusers;
    return CS_OK;
}

/* Fails on the third bucket: the sort must stop there and pass it up. */
static int fail_third(void *ctx, const void *ev, size_t width, uint64_t m, uint64_t nlate,
                      uint64_t nusers, cs_err *err)
{
    (void)ev; (void)width; (void)m; (void)nlate; (void)nusers;
    int *calls = ctx;
    if (++*calls == 3)
        return cs_err_set(err, CS_EINPUT, "stop at bucket 3");
    return CS_OK;
}

/* Runs as SHUFFLE hands them over: rows split over several sources in row
 * order (one source empty), each source's records grouped by level-1
 * bucket with a stable scatter. sort_runs_into must give a full sort with
 * row order among ties, buckets ascending (run's carry relies on it), and
 * the count of records at or after `later`. */
static void test_sort_runs(void **state)
{
    (void)state;
    for (int l1 = 6; l1 <= 8; l1 += 2) {
        const uint64_t n = 60000;
        const int nruns = 5;
        uint64_t nb = 1ULL << l1;
        cs_event *ev = malloc(n * sizeof *ev), *grouped = malloc(n * sizeof *ev);
        cs_event *out = malloc(n * sizeof *ev);
        uint64_t *bn = calloc((size_t)nruns * nb, sizeof *bn), at[256];
        assert_non_null(ev);
        assert_non_null(grouped);
        assert_non_null(out);
        assert_non_null(bn);
        uint64_t s = 0x9e3779b97f4a7c15ULL + (uint64_t)l1, later = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t r = rng_next(&s);
            ev[i] = make_event(r % 3000 + (r % 7 == 0 ? 0xff00000000000000ULL : 0),
                               (int64_t)((r >> 24) % 50), i);
            later += ev_ts(&ev[i]) >= 30;
        }
        /* sources: rows [0, 20000), [20000, 20000) (empty), then thirds */
        uint64_t bound[6] = {0, 20000, 20000, 33000, 47000, n};
        cs_sort_run runs[5];
        for (int r = 0; r < nruns; r++) {
            uint64_t lo = bound[r], hi = bound[r + 1], *c = bn + (size_t)r * nb;
            for (uint64_t i = lo; i < hi; i++)
                c[sort_l1_bucket(ev[i].user_id, l1)]++;
            at[0] = lo;
            for (uint64_t k = 1; k < nb; k++)
                at[k] = at[k - 1] + c[k - 1];
            for (uint64_t i = lo; i < hi; i++)
                grouped[at[sort_l1_bucket(ev[i].user_id, l1)]++] = ev[i];
            runs[r].ev = grouped + lo;
            runs[r].bucket_n = c;
            runs[r].narrow = 0;
        }
        cs_err err;
        cs_err_clear(&err);
        uint64_t nl = 0, nu = 0, early = 0;
        assert_int_equal(sort_runs_into(runs, nruns, l1, out, 30, &nl, &nu, &err), CS_OK);
        assert_int_equal(nl, later);
        check_sorted(out, n);
        /* users with a record before 30, counted from the input */
        uint8_t seen[6000] = {0};
        for (uint64_t i = 0; i < n; i++) {
            uint64_t k = (ev[i].user_id & 0xffff) + (ev[i].user_id >> 56 ? 3000 : 0);
            if (ev_ts(&ev[i]) < 30 && !seen[k]++)
                early++;
        }
        assert_int_equal(nu, early);
        for (uint64_t i = 1; i < n; i++)
            assert_true(sort_l1_bucket(out[i - 1].user_id, l1) <=
                        sort_l1_bucket(out[i].user_id, l1));
        /* The same runs with every source but the first as narrow records
         * (as a narrow job's carry and received records meet): the same
         * order and counts, ids 0 where the record came narrow. */
        cs_event_narrow *nar = malloc(n * sizeof *nar);
        cs_event *out_n = malloc(n * sizeof *out_n);
        assert_non_null(nar);
        assert_non_null(out_n);
        cs_sort_run runs_n[5];
        for (int r = 0; r < nruns; r++) {
            runs_n[r] = runs[r];
            if (r == 0)
                continue;
            for (uint64_t i = bound[r]; i < bound[r + 1]; i++)
                nar[i] = (cs_event_narrow){grouped[i].user_id, grouped[i].ts_type, grouped[i].price};
            runs_n[r].ev = nar + bound[r];
            runs_n[r].narrow = 1;
        }
        uint64_t nl_n = 0, nu_n = 0;
        assert_int_equal(sort_runs_into(runs_n, nruns, l1, out_n, 30, &nl_n, &nu_n, &err), CS_OK);
        assert_int_equal(nl_n, later);
        assert_int_equal(nu_n, early);
        for (uint64_t i = 0; i < n; i++) {
            cs_event want = out[i];
            if (row_of(&want) >= bound[1])
                want.product_id = want.session_id = 0, want.category_id = want.brand_id = 0;
            assert_memory_equal(&out_n[i], &want, sizeof want);
        }
        /* Narrow output from the mixed runs (a cs_event carry and narrow
         * received records, as a narrow job sorts them): every record the
         * first 24 bytes of the full sort's, the same counts. */
        each_narrow gn = {malloc(n * sizeof(cs_event_narrow)), 0, 0, 0};
        cs_event_narrow *nscratch = malloc(n * sizeof *nscratch);
        assert_non_null(gn.all);
        assert_non_null(nscratch);
        assert_int_equal(sort_runs_each(runs_n, nruns, l1, nscratch, sizeof *nscratch, 30,
                                        log_narrow, &gn, &err), CS_OK);
        assert_int_equal(gn.n, n);
        assert_int_equal(gn.nlate, later);
        assert_int_equal(gn.nusers, early);
        for (uint64_t i = 0; i < n; i++) {
            cs_event_narrow want = {out[i].user_id, out[i].ts_type, out[i].price};
            assert_memory_equal(&gn.all[i], &want, sizeof want);
        }
        free(gn.all);
        free(nscratch);
        free(nar);
        free(out_n);
        /* Bucket by bucket into one scratch: the same records in the same
         * order, the same counts. */
        uint64_t big = sort_largest_bucket(runs, nruns, l1), expect_big = 0;
        for (uint64_t k = 0; k < nb; k++) {
            uint64_t m = 0;
            for (int r = 0; r < nruns; r++)
                m += bn[(size_t)r * nb + k];
            expect_big = m > expect_big ? m : expect_big;
        }
        assert_int_equal(big, expect_big);
        cs_event *scratch = malloc(big * sizeof *scratch);
        each_log g = {malloc(n * sizeof *ev), 0, 0, 0, 0, big, l1, scratch};
        assert_non_null(scratch);
        assert_non_null(g.all);
        assert_int_equal(sort_runs_each(runs, nruns, l1, scratch, sizeof *scratch, 30, log_bucket,
                                        &g, &err), CS_OK);
        assert_int_equal(g.n, n);
        assert_memory_equal(g.all, out, n * sizeof *out);
        assert_int_equal(g.nlate, later);
        assert_int_equal(g.nusers, early);
        assert_true(g.calls > nb / 2 && g.calls <= nb);
        int calls = 0;
        assert_int_equal(sort_runs_each(runs, nruns, l1, scratch, sizeof *scratch, 30, fail_third,
                                        &calls, &err),
                         CS_EINPUT);
        assert_int_equal(calls, 3);
        /* Any other width is refused. */
        assert_int_equal(sort_runs_each(runs, nruns, l1, scratch, 40, 30, log_bucket, &g, &err),
                         CS_EINTERNAL);
        free(g.all);
        free(scratch);
        free(bn);
        free(out);
        free(grouped);
        free(ev);
    }
}

/* One user only: the whole array is one run, ordered by ts, rows (the
 * input order) ascending within equal ts; large enough for the merge sort
 * fallback (ts descending in blocks defeats the insertion sort). */
static void test_sort_one_user(void **state)
{
    (void)state;
    const uint64_t n = 5000;
    cs_event *ev = malloc(n * sizeof *ev), *tmp = malloc(n * sizeof *tmp);
    assert_non_null(ev);
    assert_non_null(tmp);
    for (uint64_t i = 0; i < n; i++)   /* ts descending in blocks of 10 */
        ev[i] = make_event(42, (int64_t)((n - 1 - i) / 10), i);
    cs_err err;
    assert_int_equal(sort_events(ev, tmp, n, &err), CS_OK);
    for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(ev_ts(&ev[i]), (int64_t)(i / 10));
        assert_int_equal(row_of(&ev[i]), n - 10 - 10 * (i / 10) + i % 10);
    }
    check_sorted(ev, n);
    free(tmp);
    free(ev);
}

static void test_sort_small(void **state)
{
    (void)state;
    cs_err err;
    cs_event ev[2], tmp[2];
    /* n = 0: nothing to do, nothing touched */
    assert_int_equal(sort_events(ev, tmp, 0, &err), CS_OK);
    /* n = 1 */
    ev[0] = make_event(9, 5, 0);
    assert_int_equal(sort_events(ev, tmp, 1, &err), CS_OK);
    assert_int_equal(ev[0].user_id, 9);
    assert_int_equal(row_of(&ev[0]), 0);
    /* n = 2, same user, ts reversed */
    ev[0] = make_event(9, 7, 0);
    ev[1] = make_event(9, 3, 1);
    assert_int_equal(sort_events(ev, tmp, 2, &err), CS_OK);
    assert_int_equal(row_of(&ev[0]), 1);
    assert_int_equal(row_of(&ev[1]), 0);
    assert_int_equal(ev[0].product_id, payload_of(1));
    /* n = 2, same user and ts: the input (row) order stays */
    ev[0] = make_event(9, 3, 0);
    ev[1] = make_event(9, 3, 1);
    assert_int_equal(sort_events(ev, tmp, 2, &err), CS_OK);
    assert_int_equal(row_of(&ev[0]), 0);
    assert_int_equal(row_of(&ev[1]), 1);
    /* n = 2, two users: both kept */
    ev[0] = make_event(2, 1, 1);
    ev[1] = make_event(1, 1, 0);
    assert_int_equal(sort_events(ev, tmp, 2, &err), CS_OK);
    assert_int_equal(ev[0].user_id + ev[1].user_id, 3);
    assert_int_equal(row_of(&ev[0]) + row_of(&ev[1]), 1);
    check_sorted(ev, 2);
}

static void test_sort_event_less(void **state)
{
    (void)state;
    cs_event a = make_event(1, 10, 5), b = make_event(1, 10, 6);
    assert_false(sort_event_less(&a, &b));   /* equal: the sort keeps their order */
    assert_false(sort_event_less(&b, &a));
    assert_false(sort_event_less(&a, &a));
    b = make_event(1, 9, 0);
    assert_true(sort_event_less(&b, &a));
    b = make_event(2, 0, 0);
    assert_true(sort_event_less(&a, &b));
}

static int cmp_kv_ref(const void *pa, const void *pb)
{
    const cs_kv *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->val > b->val) - (a->val < b->val);   /* vals ascend: the input order */
}

/* sort_kv against qsort: full 64-bit keys, keys sharing their high digits
 * (one top-byte bucket, skipped passes), many equal keys (stability), keys
 * differing only in their top byte (every bucket's passes skipped), n = 0
 * and 1. */
static void test_sort_kv(void **state)
{
    (void)state;
    const uint64_t n = 50000;
    cs_kv *kv = malloc(n * sizeof *kv), *tmp = malloc(n * sizeof *tmp), *ref = malloc(n * sizeof *ref);
    cs_err err = {0};
    uint64_t x = 88172645463325252ULL;
    for (int shape = 0; shape < 4; shape++) {
        for (uint64_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            uint64_t k = shape == 0 ? x : shape == 1 ? (x & 0xffffff) | (7ULL << 50)
                         : shape == 2 ? x % 97 : (x & 0xff00000000000000ULL) | 12345;
            kv[i] = ref[i] = (cs_kv){k, i};
        }
        assert_int_equal(sort_kv(kv, tmp, n, &err), CS_OK);
        qsort(ref, n, sizeof *ref, cmp_kv_ref);
        for (uint64_t i = 0; i < n; i++) {
            assert_int_equal(kv[i].key, ref[i].key);
            assert_int_equal(kv[i].val, ref[i].val);
        }
    }
    assert_int_equal(sort_kv(kv, tmp, 0, &err), CS_OK);
    kv[0] = (cs_kv){5, 9};
    assert_int_equal(sort_kv(kv, tmp, 1, &err), CS_OK);
    assert_int_equal(kv[0].val, 9);
    free(kv); free(tmp); free(ref);
}

static int cmp_u64_ref(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* sort_u64 against qsort: random, few distinct values, sorted, reversed,
 * all equal, organ pipe and sawtooth inputs, at every size up to 200 and
 * at 100,000. */
static void test_sort_u64(void **state)
{
    (void)state;
    const uint64_t big = 100000;
    uint64_t *v = malloc(big * sizeof *v), *ref = malloc(big * sizeof *ref), x = 7;
    for (int shape = 0; shape < 7; shape++)
        for (uint64_t n = 0; n <= big; n = n < 200 ? n + 1 : n == 200 ? big : big + 1) {
            for (uint64_t i = 0; i < n; i++) {
                uint64_t r = rng_next(&x);
                v[i] = shape == 0 ? r : shape == 1 ? r % 3 : shape == 2 ? i : shape == 3 ? n - i
                     : shape == 4 ? 42 : shape == 5 ? (i < n / 2 ? i : n - i) : i % 17;
                ref[i] = v[i];
            }
            sort_u64(v, n);
            qsort(ref, n, sizeof *ref, cmp_u64_ref);
            for (uint64_t i = 0; i < n; i++)
                assert_true(v[i] == ref[i]);
        }
    free(v);
    free(ref);
}

/* The price bound rows are checked against (event.h): both ends valid,
 * one unit past either rejected, and the values that wrap a naive
 * `price + CS_PRICE_MAX` (INT64_MIN, INT64_MAX) rejected too. */
static void test_price_bound(void **state)
{
    (void)state;
    assert_true(cs_price_ok(0));
    assert_true(cs_price_ok(CS_PRICE_MAX));
    assert_true(cs_price_ok(-CS_PRICE_MAX));
    assert_false(cs_price_ok(CS_PRICE_MAX + 1));
    assert_false(cs_price_ok(-CS_PRICE_MAX - 1));
    assert_false(cs_price_ok(INT64_MAX));
    assert_false(cs_price_ok(INT64_MIN));
    assert_false(cs_price_ok(INT64_C(50000000000000000)));
    /* a sum of 9.2 million amounts at the bound does not wrap */
    assert_true(INT64_MAX / CS_PRICE_MAX >= 9200000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_price_bound),
        cmocka_unit_test(test_sort_random_ties),
        cmocka_unit_test(test_sort_one_user),
        cmocka_unit_test(test_sort_runs),
        cmocka_unit_test(test_sort_small),
        cmocka_unit_test(test_sort_event_less),
        cmocka_unit_test(test_sort_kv),
        cmocka_unit_test(test_sort_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
