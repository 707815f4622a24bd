/* sess_fixture.h — the fixture test_sessionize.c, test_sessionize_windows.c
 * and test_sessionize_width.c share: a sessionizer with the default rules
 * and a UTC zone whose closed sessions land in a sink, event builders, and
 * comparisons of two sinks. Test code only (static inline: each test
 * program uses what it needs). */
#ifndef CLICKSEG_TEST_SESS_FIXTURE_H
#define CLICKSEG_TEST_SESS_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "clickseg/sessionize.h"

#define SEC 1000000LL
/* 2024-01-01T00:00:00Z, a Monday */
#define T0 (1704067200LL * SEC)

#ifndef MAX_SESS
#define MAX_SESS 512   /* a test may ask for more before including this */
#endif

typedef struct sink {
    int n;
    cs_session s[MAX_SESS];
} sink;

static inline int collect(void *ctx, cs_user *u, const cs_session *s, cs_err *err)
{
    (void)err;
    sink *k = ctx;
    assert_non_null(u);
    assert_int_equal(u->user_id, s->user_id);
    assert_true(k->n < MAX_SESS);
    k->s[k->n++] = *s;
    return CS_OK;
}

typedef struct fixture {
    cs_rules rules;
    cs_tz tz;
    cs_users users;
    cs_sessionizer sz;
    sink out;
} fixture;

/* The sessionizer of the fixture: 30-minute gaps, default rules, UTC,
 * sessions collected into fx->out. */
static inline void sessionizer_init(fixture *fx)
{
    sess_init(&fx->sz);
    fx->sz.gap_us = 1800 * SEC;
    fx->sz.rules = &fx->rules;
    fx->sz.tz = &fx->tz;
    fx->sz.emit = collect;
    fx->sz.emit_ctx = &fx->out;
}

static inline int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    cs_err err;
    rules_default(&fx->rules);
    if (tz_open(&fx->tz, "UTC", &err) != CS_OK ||
        users_init(&fx->users, 16, CS_MAX_SEGMENTS, &err) != CS_OK) {
        free(fx);
        return -1;
    }
    sessionizer_init(fx);
    *state = fx;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *fx = *state;
    sess_free(&fx->sz);
    users_free(&fx->users);
    tz_close(&fx->tz);
    free(fx);
    return 0;
}

/* An event; its row is its place in the array handed to sessionize. */
static inline cs_event ev(fixture *fx, uint64_t user, int64_t ts, int type)
{
    (void)fx;   /* kept so every event is made the same way */
    cs_event e;
    memset(&e, 0, sizeof e);
    e.user_id = user;
    e.ts_type = ev_ts_type(ts, (unsigned)type);
    return e;
}

static inline cs_event evp(fixture *fx, uint64_t user, int64_t ts, int type, uint64_t product,
                    uint32_t category, uint32_t brand, int64_t price)
{
    cs_event e = ev(fx, user, ts, type);
    e.product_id = product;
    e.category_id = category;
    e.brand_id = brand;
    e.price = price;
    return e;
}

/* Everything in one call, as with a single window. */
static inline void run_all(fixture *fx, const cs_event *e, uint64_t n)
{
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(sess_process(&fx->sz, &fx->users, e, n, INT64_MAX, 1, NULL, NULL, &err), CS_OK);
    assert_int_equal(sess_close_idle(&fx->sz, &fx->users, INT64_MAX, 1, &err), CS_OK);
}

/* The first n sessions of one pass and of a windowed pass (both sorted)
 * agree field by field. */
static inline void assert_same_sessions(const sink *one, const sink *two, int n)
{
    for (int i = 0; i < n; i++) {
        const cs_session *a = &one->s[i], *b = &two->s[i];
        assert_int_equal(a->user_id, b->user_id);
        assert_int_equal(a->start_ts, b->start_ts);
        assert_int_equal(a->end_ts, b->end_ts);
        assert_int_equal(a->segment, b->segment);
        for (int k = 0; k < F_NFEATURES; k++)
            if (a->f.v[k] != b->f.v[k])
                fail_msg("session %d (user %llu) %s: one pass %lld, windows %lld", i,
                         (unsigned long long)a->user_id, feature_name(k),
                         (long long)a->f.v[k], (long long)b->f.v[k]);
    }
}

/* A fresh user table and sessionizer, no sessions collected: the same
 * events can then be fed again in other windows. */
static inline void restart(fixture *fx)
{
    sess_free(&fx->sz);
    users_free(&fx->users);
    cs_err err;
    assert_int_equal(users_init(&fx->users, 4, CS_MAX_SEGMENTS, &err), CS_OK);
    sessionizer_init(fx);
    fx->out.n = 0;
}

static inline int seg(const fixture *fx, const char *name)
{
    int s = rules_segment_index(&fx->rules, name);
    assert_true(s >= 0);
    return s;
}


#endif
