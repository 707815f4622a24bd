/* test_sessionize_width.c — sessionize on 24-byte records (cs_event_narrow,
 * what a job that reads no ids sorts and sessionizes) against the same
 * events as 48-byte cs_event records: random users, times and types over
 * one window cut by a watermark, so sessions close, stay open and spill
 * into the carry. Both must give the same sessions, the same user totals
 * and the same carry (widened, ids zero); a narrow record handed to a
 * sessionizer that needs ids or session ids is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define MAX_SESS 8192
#include "sess_fixture.h"   /* SEC, T0, the sink of closed sessions */

#define NUSERS 300
#define NEV 6000

typedef struct side {
    cs_users users;
    cs_sessionizer sz;
    sink out;
    cs_event carry[NEV];
    uint64_t ncarry;
} side;

static void side_init(side *sd, const cs_rules *rules, cs_tz *tz)
{
    cs_err err;
    assert_int_equal(users_init(&sd->users, 16, CS_MAX_SEGMENTS, &err), CS_OK);
    sess_init(&sd->sz);
    sd->sz.gap_us = 1800 * SEC;
    sd->sz.rules = rules;
    sd->sz.tz = tz;
    sd->sz.need_ids = 0;
    sd->sz.emit = collect;
    sd->sz.emit_ctx = &sd->out;
}

static void side_free(side *sd)
{
    sess_free(&sd->sz);
    users_free(&sd->users);
}

/* xorshift64*: independent of the code under test. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int cmp_event(const void *a, const void *b)
{
    const cs_event *x = a, *y = b;
    if (x->user_id != y->user_id)
        return x->user_id < y->user_id ? -1 : 1;
    return (ev_ts(x) > ev_ts(y)) - (ev_ts(x) < ev_ts(y));
}

/* Sorted events of NUSERS users over ten hours, gaps from seconds to
 * hours, ids set (the narrow copy drops them; a job that reads no ids
 * must not care). */
static void make_events(cs_event *ev)
{
    uint64_t s = 0x2545f4914f6cdd1dULL;
    for (int i = 0; i < NEV; i++) {
        uint64_t r = rng_next(&s);
        memset(&ev[i], 0, sizeof ev[i]);
        ev[i].user_id = 1 + r % NUSERS;
        int64_t ts = T0 + (int64_t)((r >> 16) % (10 * 3600)) * SEC;
        ev[i].ts_type = ev_ts_type(ts, (unsigned)((r >> 40) % EV_NTYPES));
        ev[i].price = (int64_t)((r >> 44) % 5000);
        ev[i].product_id = r >> 3;
        ev[i].session_id = r >> 5;
        ev[i].category_id = (uint32_t)(r >> 7);
        ev[i].brand_id = (uint32_t)(r >> 9);
    }
    qsort(ev, NEV, sizeof *ev, cmp_event);
}

static uint64_t count_runs(const cs_event *ev, int64_t watermark)
{
    uint64_t runs = 0;
    for (int k = 0; k < NEV; k++)
        runs += (k == 0 || ev[k].user_id != ev[k - 1].user_id) && ev_ts(&ev[k]) < watermark;
    return runs;
}

/* Sessionizes the records (width bytes each) up to a watermark five hours
 * in, then closes everything, as a window followed by the end. */
static void run_side(side *sd, const void *recs, size_t width, uint64_t runs, int64_t wm)
{
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(sess_process_counted(&sd->sz, &sd->users, recs, width, NEV, runs, wm, 0,
                                          sd->carry, &sd->ncarry, &err), CS_OK);
    assert_int_equal(sess_close_idle(&sd->sz, &sd->users, wm, 0, &err), CS_OK);
    assert_int_equal(sess_close_idle(&sd->sz, &sd->users, INT64_MAX, 1, &err), CS_OK);
}

static void test_narrow_equals_wide(void **state)
{
    (void)state;
    cs_rules rules;
    cs_tz tz;
    cs_err err;
    rules_default(&rules);
    assert_int_equal(tz_open(&tz, "UTC", &err), CS_OK);
    cs_event *ev = malloc(NEV * sizeof *ev);
    cs_event_narrow *nar = malloc(NEV * sizeof *nar);
    side *w = calloc(1, sizeof *w), *n = calloc(1, sizeof *n);
    assert_non_null(ev);
    assert_non_null(nar);
    assert_non_null(w);
    assert_non_null(n);
    make_events(ev);
    for (int i = 0; i < NEV; i++)
        nar[i] = (cs_event_narrow){ev[i].user_id, ev[i].ts_type, ev[i].price};
    int64_t wm = T0 + 5 * 3600 * SEC;
    uint64_t runs = count_runs(ev, wm);
    side_init(w, &rules, &tz);
    side_init(n, &rules, &tz);
    run_side(w, ev, sizeof *ev, runs, wm);
    run_side(n, nar, sizeof *nar, runs, wm);

    /* Sessions: some closed before the watermark, some at the end. */
    assert_true(w->out.n > NUSERS);
    assert_int_equal(n->out.n, w->out.n);
    for (int i = 0; i < w->out.n; i++) {
        const cs_session *a = &w->out.s[i], *b = &n->out.s[i];
        assert_int_equal(a->user_id, b->user_id);
        assert_int_equal(a->start_ts, b->start_ts);
        assert_int_equal(a->end_ts, b->end_ts);
        assert_int_equal(a->segment, b->segment);
        assert_memory_equal(a->f.v, b->f.v, sizeof a->f.v);
    }
    /* The carry: every event at or after the watermark, as cs_event; the
     * narrow side's with ids zero. */
    uint64_t late = 0;
    for (int i = 0; i < NEV; i++)
        late += ev_ts(&ev[i]) >= wm;
    assert_true(late > 0);
    assert_int_equal(w->ncarry, late);
    assert_int_equal(n->ncarry, late);
    for (uint64_t i = 0; i < late; i++) {
        cs_event want = w->carry[i];
        want.product_id = want.session_id = 0;
        want.category_id = want.brand_id = 0;
        assert_memory_equal(&n->carry[i], &want, sizeof want);
    }
    /* User totals. */
    assert_int_equal(n->users.n, w->users.n);
    for (uint64_t i = 0; i < w->users.n; i++) {
        const cs_user *a = &w->users.slot[i], *b = &n->users.slot[i];
        assert_int_equal(a->user_id, b->user_id);
        assert_int_equal(a->events, b->events);
        assert_int_equal(a->first_ts, b->first_ts);
        assert_int_equal(a->last_ts, b->last_ts);
    }
    side_free(w);
    side_free(n);
    free(w);
    free(n);
    free(nar);
    free(ev);
    tz_close(&tz);
}

/* 24-byte records hold no ids and no session id: a sessionizer that needs
 * them refuses them (an internal error, never silently zero counts), and
 * widths other than 24 and 48 are refused too. */
static void test_narrow_refused_when_ids_needed(void **state)
{
    (void)state;
    cs_rules rules;
    cs_tz tz;
    cs_err err;
    rules_default(&rules);
    assert_int_equal(tz_open(&tz, "UTC", &err), CS_OK);
    side *sd = calloc(1, sizeof *sd);
    assert_non_null(sd);
    side_init(sd, &rules, &tz);
    cs_event_narrow one = {7, ev_ts_type(T0, EV_PAGE_VIEW), 0};
    sd->sz.need_ids = 1;
    assert_int_equal(sess_process_counted(&sd->sz, &sd->users, &one, sizeof one, 1, 1, INT64_MAX,
                                          1, NULL, NULL, &err), CS_EINTERNAL);
    sd->sz.need_ids = 0;
    sd->sz.source_mode = 1;
    assert_int_equal(sess_process_counted(&sd->sz, &sd->users, &one, sizeof one, 1, 1, INT64_MAX,
                                          1, NULL, NULL, &err), CS_EINTERNAL);
    sd->sz.source_mode = 0;
    assert_int_equal(sess_process_counted(&sd->sz, &sd->users, &one, 16, 1, 1, INT64_MAX, 1,
                                          NULL, NULL, &err), CS_EINTERNAL);
    assert_int_equal(sd->out.n, 0);
    side_free(sd);
    free(sd);
    tz_close(&tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_narrow_equals_wide),
        cmocka_unit_test(test_narrow_refused_when_ids_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
