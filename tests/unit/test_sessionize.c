/* test_sessionize.c — unit tests for sessionize.c on hand-built, sorted
 * event lists with the default rules and a UTC (or fixed-offset) zone:
 * the gap boundary (equal to the gap: same session; one µs more: new),
 * max_duration, source mode, equal timestamps, every feature of a buyer's
 * session computed by hand, entry hour/weekday and segments. Windows,
 * closing idle sessions and the pool: test_sessionize_windows.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sess_fixture.h"

static void test_gap_boundary(void **state)
{
    fixture *fx = *state;
    const int64_t gap = fx->sz.gap_us;
    cs_event e[] = {
        ev(fx, 1, T0, EV_PAGE_VIEW),
        ev(fx, 1, T0 + gap, EV_PAGE_VIEW),             /* gap exactly: same session */
        ev(fx, 1, T0 + 2 * gap + 1, EV_PAGE_VIEW),     /* gap + 1 µs: a new one */
        ev(fx, 2, T0 + 5 * SEC, EV_PRODUCT_VIEW),      /* another user, same times */
        ev(fx, 2, T0 + 5 * SEC + gap - 1, EV_PRODUCT_VIEW),
    };
    run_all(fx, e, 5);
    assert_int_equal(fx->out.n, 3);
    const cs_session *a = &fx->out.s[0], *b = &fx->out.s[1], *c = &fx->out.s[2];
    assert_int_equal(a->user_id, 1);
    assert_int_equal(a->start_ts, T0);
    assert_int_equal(a->end_ts, T0 + gap);
    assert_int_equal(a->f.v[F_EVENTS], 2);
    assert_int_equal(a->f.v[F_DURATION_S], 1800);
    assert_int_equal(a->f.v[F_MIN_GAP_MS], 1800000);
    assert_int_equal(a->f.v[F_EVENTS_PER_MINUTE], 0);   /* 2 * 60 / 1800 */
    assert_int_equal(a->f.v[F_PAGE_VIEWS], 2);
    assert_int_equal(b->user_id, 1);
    assert_int_equal(b->start_ts, T0 + 2 * gap + 1);
    assert_int_equal(b->end_ts, T0 + 2 * gap + 1);
    assert_int_equal(b->f.v[F_EVENTS], 1);
    assert_int_equal(b->f.v[F_DURATION_S], 0);
    assert_int_equal(b->f.v[F_MIN_GAP_MS], -1);
    assert_int_equal(b->f.v[F_EVENTS_PER_MINUTE], 60);
    assert_int_equal(c->user_id, 2);
    assert_int_equal(c->f.v[F_EVENTS], 2);
    assert_int_equal(c->f.v[F_DURATION_S], 1799);        /* 1799.999999 s, truncated */
    assert_int_equal(c->f.v[F_MIN_GAP_MS], 1799999);
    assert_int_equal(c->f.v[F_PRODUCT_VIEWS], 2);
    /* the user table saw every event */
    const cs_user *u = users_find(&fx->users, 1);
    assert_non_null(u);
    assert_int_equal(u->events, 3);
    assert_int_equal(u->first_ts, T0);
    assert_int_equal(u->last_ts, T0 + 2 * gap + 1);
}

static void test_max_duration(void **state)
{
    fixture *fx = *state;
    fx->sz.gap_us = 3000 * SEC;
    fx->sz.max_duration_us = 3600 * SEC;
    const int64_t t[] = {0, 1000, 2000, 3000, 3600, 4000, 5000, 7600};
    cs_event e[9];
    for (int i = 0; i < 8; i++)
        e[i] = ev(fx, 7, T0 + t[i] * SEC, EV_PAGE_VIEW);
    e[8] = ev(fx, 7, T0 + 7600 * SEC + 1, EV_PAGE_VIEW);
    run_all(fx, e, 9);
    /* 3600 s after the start is allowed; 3600 s + 1 µs is not */
    assert_int_equal(fx->out.n, 3);
    assert_int_equal(fx->out.s[0].start_ts, T0);
    assert_int_equal(fx->out.s[0].end_ts, T0 + 3600 * SEC);
    assert_int_equal(fx->out.s[0].f.v[F_EVENTS], 5);
    assert_int_equal(fx->out.s[0].f.v[F_DURATION_S], 3600);
    assert_int_equal(fx->out.s[1].start_ts, T0 + 4000 * SEC);
    assert_int_equal(fx->out.s[1].end_ts, T0 + 7600 * SEC);
    assert_int_equal(fx->out.s[1].f.v[F_EVENTS], 3);
    assert_int_equal(fx->out.s[1].f.v[F_MIN_GAP_MS], 1000000);
    assert_int_equal(fx->out.s[2].start_ts, T0 + 7600 * SEC + 1);
    assert_int_equal(fx->out.s[2].f.v[F_EVENTS], 1);
}

static void test_source_mode(void **state)
{
    fixture *fx = *state;
    fx->sz.source_mode = 1;
    const int64_t h = 3600 * SEC;
    const uint64_t sid[] = {7, 7, 7, 9, 9, 7};
    const int64_t t[] = {0, 5 * h, 10 * h, 10 * h + SEC, 10 * h + 2 * SEC, 10 * h + 3 * SEC};
    cs_event e[6];
    for (int i = 0; i < 6; i++) {
        e[i] = ev(fx, 3, T0 + t[i], EV_PAGE_VIEW);
        e[i].session_id = sid[i];
    }
    cs_err err;
    /* not final: the id changes close two sessions, the last stays open
     * whatever the watermark (a later row may still carry its id) */
    assert_int_equal(sess_process(&fx->sz, &fx->users, e, 6, T0 + 1000 * h, 0, NULL, NULL, &err), CS_OK);
    assert_int_equal(fx->out.n, 2);
    assert_int_equal(sess_close_idle(&fx->sz, &fx->users, T0 + 2000 * h, 0, &err), CS_OK);
    assert_int_equal(fx->out.n, 2);
    assert_int_equal(sess_close_idle(&fx->sz, &fx->users, INT64_MAX, 1, &err), CS_OK);
    assert_int_equal(fx->out.n, 3);
    const cs_session *s = fx->out.s;
    /* 5-hour gaps do not split a source session */
    assert_int_equal(s[0].start_ts, T0);
    assert_int_equal(s[0].end_ts, T0 + 10 * h);
    assert_int_equal(s[0].f.v[F_EVENTS], 3);
    assert_int_equal(s[0].f.v[F_DURATION_S], 36000);
    assert_int_equal(s[1].start_ts, T0 + 10 * h + SEC);
    assert_int_equal(s[1].end_ts, T0 + 10 * h + 2 * SEC);
    assert_int_equal(s[1].f.v[F_EVENTS], 2);
    /* id 7 again after 9: a new session */
    assert_int_equal(s[2].start_ts, T0 + 10 * h + 3 * SEC);
    assert_int_equal(s[2].f.v[F_EVENTS], 1);
}

static void test_equal_timestamps(void **state)
{
    fixture *fx = *state;
    cs_event e[] = {
        evp(fx, 4, T0 + 100 * SEC, EV_PRODUCT_VIEW, 10, 1, 1, 0),
        evp(fx, 4, T0 + 100 * SEC, EV_PRODUCT_VIEW, 10, 1, 1, 0),
        evp(fx, 4, T0 + 100 * SEC, EV_PAGE_VIEW, 0, 0, 0, 0),
        evp(fx, 4, T0 + 100 * SEC + 500000, EV_PAGE_VIEW, 0, 0, 0, 0),
    };
    run_all(fx, e, 4);
    assert_int_equal(fx->out.n, 1);
    const cs_features *f = &fx->out.s[0].f;
    assert_int_equal(f->v[F_EVENTS], 4);
    assert_int_equal(f->v[F_DURATION_S], 0);
    assert_int_equal(f->v[F_MIN_GAP_MS], 0);
    assert_int_equal(f->v[F_EVENTS_PER_MINUTE], 240);     /* 4 * 60 / max(0, 1) */
    assert_int_equal(f->v[F_DISTINCT_PRODUCTS], 1);
    assert_int_equal(f->v[F_DISTINCT_CATEGORIES], 1);
    assert_int_equal(f->v[F_DISTINCT_BRANDS], 1);
    assert_int_equal(fx->out.s[0].segment, seg(fx, "simple_browser"));
}

/* A buyer's path with every feature computed by hand. */
static void test_buyer_features(void **state)
{
    fixture *fx = *state;
    const int64_t s0 = T0 + (9 * 3600 + 30 * 60) * SEC;   /* Monday 09:30 UTC */
    cs_event e[] = {
        evp(fx, 5, s0 + 0, EV_PAGE_VIEW, 0, 0, 0, 0),
        evp(fx, 5, s0 + 10 * SEC, EV_PRODUCT_VIEW, 100, 7, 3, 0),
        evp(fx, 5, s0 + 25 * SEC, EV_PRODUCT_VIEW, 101, 7, 4, 0),
        evp(fx, 5, s0 + 40 * SEC, EV_PRODUCT_VIEW, 100, 8, 3, 0),
        evp(fx, 5, s0 + 70 * SEC, EV_ADD_TO_CART, 100, 8, 3, 1999),
        evp(fx, 5, s0 + 100 * SEC, EV_CHECKOUT, 0, 0, 0, 0),
        evp(fx, 5, s0 + 130 * SEC, EV_PURCHASE, 100, 8, 3, 1999),
        evp(fx, 5, s0 + 131 * SEC + 500000, EV_PURCHASE, 101, 7, 4, 501),
        evp(fx, 5, s0 + 150 * SEC, EV_PAGE_VIEW, 0, 0, 0, 0),   /* after the purchase */
        evp(fx, 5, s0 + 200 * SEC, EV_REFUND, 101, 7, 4, 501),
    };
    run_all(fx, e, 10);
    assert_int_equal(fx->out.n, 1);
    const cs_session *s = &fx->out.s[0];
    assert_int_equal(s->user_id, 5);
    assert_int_equal(s->start_ts, s0);
    assert_int_equal(s->end_ts, s0 + 200 * SEC);
    int64_t want[F_NFEATURES];
    want[F_EVENTS] = 10;
    want[F_DURATION_S] = 200;
    want[F_PAGE_VIEWS] = 2;
    want[F_PRODUCT_VIEWS] = 3;
    want[F_SEARCHES] = 0;
    want[F_CART_ADDS] = 1;
    want[F_CART_REMOVES] = 0;
    want[F_CHECKOUTS] = 1;
    want[F_PURCHASES] = 2;
    want[F_REFUNDS] = 1;
    want[F_DISTINCT_PRODUCTS] = 2;     /* 100, 101; the zeros do not count */
    want[F_DISTINCT_CATEGORIES] = 2;   /* 7, 8 */
    want[F_DISTINCT_BRANDS] = 2;       /* 3, 4 */
    want[F_REVENUE] = 2500;            /* 1999 + 501: purchases only */
    want[F_REFUND_AMOUNT] = 501;
    want[F_TIME_TO_PURCHASE_S] = 130;
    want[F_VIEWS_BEFORE_PURCHASE] = 4; /* 1 page + 3 product views before it */
    want[F_ENTRY_HOUR] = 9;
    want[F_ENTRY_WEEKDAY] = 0;         /* Monday */
    want[F_EVENTS_PER_MINUTE] = 3;     /* 10 * 60 / 200 */
    want[F_MIN_GAP_MS] = 1500;         /* 130 s -> 131.5 s */
    for (int i = 0; i < F_NFEATURES; i++)
        if (s->f.v[i] != want[i])
            fail_msg("feature %s: got %lld, want %lld", feature_name(i), (long long)s->f.v[i],
                     (long long)want[i]);
    assert_int_equal(s->segment, seg(fx, "immediate_buyer"));
}

/* Entry hour and weekday follow the report zone. */
static void test_entry_time(void **state)
{
    fixture *fx = *state;
    /* Sunday 2024-01-07 20:00 UTC = Monday 01:30 at +05:30 */
    const int64_t t = T0 + (6 * 86400 + 20 * 3600) * SEC;
    cs_event e[] = {ev(fx, 8, t, EV_PAGE_VIEW), ev(fx, 8, t + SEC, EV_PAGE_VIEW)};
    run_all(fx, e, 2);
    assert_int_equal(fx->out.n, 1);
    assert_int_equal(fx->out.s[0].f.v[F_ENTRY_HOUR], 20);
    assert_int_equal(fx->out.s[0].f.v[F_ENTRY_WEEKDAY], 6);

    cs_tz ist;
    cs_err err;
    assert_int_equal(tz_open(&ist, "+05:30", &err), CS_OK);
    fx->sz.tz = &ist;
    cs_event e2[] = {ev(fx, 9, t, EV_PAGE_VIEW), ev(fx, 9, t + SEC, EV_PAGE_VIEW)};
    run_all(fx, e2, 2);
    assert_int_equal(fx->out.n, 2);
    assert_int_equal(fx->out.s[1].f.v[F_ENTRY_HOUR], 1);
    assert_int_equal(fx->out.s[1].f.v[F_ENTRY_WEEKDAY], 0);
    fx->sz.tz = &fx->tz;
    tz_close(&ist);
}

static void test_segments(void **state)
{
    fixture *fx = *state;
    cs_event e[400];
    uint64_t n = 0;
    /* user 1: two page views -> simple_browser */
    e[n++] = ev(fx, 1, T0, EV_PAGE_VIEW);
    e[n++] = ev(fx, 1, T0 + 10 * SEC, EV_PAGE_VIEW);
    /* user 2: a short direct purchase -> immediate_buyer */
    e[n++] = evp(fx, 2, T0, EV_PRODUCT_VIEW, 5, 1, 1, 0);
    e[n++] = evp(fx, 2, T0 + 20 * SEC, EV_ADD_TO_CART, 5, 1, 1, 700);
    e[n++] = evp(fx, 2, T0 + 40 * SEC, EV_PURCHASE, 5, 1, 1, 700);
    /* user 3: two searches -> information_collector */
    e[n++] = ev(fx, 3, T0, EV_SEARCH);
    e[n++] = ev(fx, 3, T0 + 30 * SEC, EV_SEARCH);
    e[n++] = ev(fx, 3, T0 + 60 * SEC, EV_PAGE_VIEW);
    /* user 4: a purchase after 5 product views -> information_collector */
    for (int i = 0; i < 5; i++)
        e[n++] = evp(fx, 4, T0 + i * 60 * SEC, EV_PRODUCT_VIEW, (uint64_t)(10 + i), 2, 0, 0);
    e[n++] = evp(fx, 4, T0 + 400 * SEC, EV_PURCHASE, 12, 2, 0, 1500);
    /* user 5: 100 events one second apart -> bot (6000 / 99 = 60 per minute) */
    for (int i = 0; i < 100; i++)
        e[n++] = ev(fx, 5, T0 + i * SEC, EV_PAGE_VIEW);
    /* user 6: 99 such events -> not a bot, just a browser */
    for (int i = 0; i < 99; i++)
        e[n++] = ev(fx, 6, T0 + i * SEC, EV_PAGE_VIEW);
    run_all(fx, e, n);
    assert_int_equal(fx->out.n, 6);
    const char *want[] = {"simple_browser", "immediate_buyer", "information_collector",
                          "information_collector", "bot", "simple_browser"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(fx->out.s[i].user_id, (uint64_t)(i + 1));
        if (fx->out.s[i].segment != seg(fx, want[i]))
            fail_msg("user %d: segment %d, want %s", i + 1, fx->out.s[i].segment, want[i]);
    }
    const cs_features *f1 = &fx->out.s[0].f, *f2 = &fx->out.s[1].f, *f4 = &fx->out.s[3].f;
    assert_int_equal(f1->v[F_TIME_TO_PURCHASE_S], -1);
    assert_int_equal(f1->v[F_VIEWS_BEFORE_PURCHASE], -1);
    assert_int_equal(f1->v[F_REVENUE], 0);
    assert_int_equal(f1->v[F_DISTINCT_PRODUCTS], 0);
    assert_int_equal(f2->v[F_TIME_TO_PURCHASE_S], 40);
    assert_int_equal(f2->v[F_VIEWS_BEFORE_PURCHASE], 1);
    assert_int_equal(f2->v[F_REVENUE], 700);             /* the cart add's price is not revenue */
    assert_int_equal(f4->v[F_DISTINCT_PRODUCTS], 5);
    assert_int_equal(f4->v[F_DISTINCT_CATEGORIES], 1);
    assert_int_equal(f4->v[F_DISTINCT_BRANDS], 0);
    assert_int_equal(f4->v[F_VIEWS_BEFORE_PURCHASE], 5);
    assert_int_equal(fx->out.s[4].f.v[F_EVENTS_PER_MINUTE], 60);
    assert_int_equal(fx->out.s[4].f.v[F_DURATION_S], 99);
    assert_int_equal(fx->out.s[5].f.v[F_EVENTS_PER_MINUTE], 60);   /* 5940 / 98 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gap_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buyer_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
