/* test_rules.c — unit tests for rules.c: the default rule set and what it
 * decides on hand-built sessions, first-match order, disjunction through a
 * repeated segment, every operator at its boundary, the limits of
 * rules_add, rules_validate, and the "feature op value" parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "clickseg/rules.h"

/* A session with all features zero. */
static cs_features zero_features(void)
{
    cs_features f;
    memset(&f, 0, sizeof f);
    return f;
}

static void test_default_structure(void **state)
{
    (void)state;
    cs_rules rs;
    rules_default(&rs);
    assert_int_equal(rs.nsegments, 4);
    assert_string_equal(rs.segments[0], "bot");
    assert_string_equal(rs.segments[1], "immediate_buyer");
    assert_string_equal(rs.segments[2], "information_collector");
    assert_string_equal(rs.segments[3], "simple_browser");
    assert_int_equal(rs.bot_segment, 0);
    assert_int_equal(rs.nrules, 8);
    const int seg[8] = { 0, 0, 1, 2, 2, 2, 2, 3 };
    const int ncond[8] = { 2, 1, 4, 1, 1, 1, 1, 0 };
    for (int i = 0; i < 8; i++) {
        assert_int_equal(rs.rule[i].segment, seg[i]);
        assert_int_equal(rs.rule[i].ncond, ncond[i]);
    }
    const char *want[] = { "events >= 100", "events_per_minute >= 20", "events >= 1000",
                           "purchases >= 1", "product_views <= 3", "searches <= 1",
                           "events <= 12", "product_views >= 3", "searches >= 2",
                           "cart_adds >= 1", "purchases >= 1" };
    int w = 0;
    char buf[64];
    for (int i = 0; i < 8; i++)
        for (int c = 0; c < rs.rule[i].ncond; c++) {
            rules_format_cond(&rs.rule[i].cond[c], buf, sizeof buf);
            assert_string_equal(buf, want[w++]);
        }
    assert_int_equal(w, 11);
    cs_err err;
    assert_int_equal(rules_validate(&rs, &err), CS_OK);
}

static void test_default_decisions(void **state)
{
    (void)state;
    cs_rules rs;
    rules_default(&rs);
    enum { BOT, BUYER, COLLECTOR, BROWSER };
    cs_features f = zero_features();
    assert_int_equal(rules_match(&rs, &f), BROWSER);

    /* bot by rate: both bounds inclusive, both needed */
    f.v[F_EVENTS] = 100, f.v[F_EVENTS_PER_MINUTE] = 20;
    assert_int_equal(rules_match(&rs, &f), BOT);
    f.v[F_EVENTS_PER_MINUTE] = 19;
    assert_int_equal(rules_match(&rs, &f), BROWSER);
    f.v[F_EVENTS] = 99, f.v[F_EVENTS_PER_MINUTE] = 500;
    assert_int_equal(rules_match(&rs, &f), BROWSER);
    /* bot by volume at any pace */
    f = zero_features();
    f.v[F_EVENTS] = 1000;
    assert_int_equal(rules_match(&rs, &f), BOT);
    f.v[F_EVENTS] = 999;
    assert_int_equal(rules_match(&rs, &f), BROWSER);
    /* a bot that also buys is still a bot (first match) */
    f.v[F_EVENTS] = 150, f.v[F_EVENTS_PER_MINUTE] = 30, f.v[F_PURCHASES] = 1;
    assert_int_equal(rules_match(&rs, &f), BOT);

    /* immediate buyer at every upper bound */
    f = zero_features();
    f.v[F_PURCHASES] = 1, f.v[F_PRODUCT_VIEWS] = 3, f.v[F_SEARCHES] = 1, f.v[F_EVENTS] = 12;
    assert_int_equal(rules_match(&rs, &f), BUYER);
    /* one step past any bound: a purchase after a long path = collector */
    f.v[F_EVENTS] = 13;
    assert_int_equal(rules_match(&rs, &f), COLLECTOR);
    f.v[F_EVENTS] = 12, f.v[F_PRODUCT_VIEWS] = 4;
    assert_int_equal(rules_match(&rs, &f), COLLECTOR);
    f.v[F_PRODUCT_VIEWS] = 3, f.v[F_SEARCHES] = 2;
    assert_int_equal(rules_match(&rs, &f), COLLECTOR);
    f.v[F_SEARCHES] = 0, f.v[F_PURCHASES] = 0;   /* 3 views, no purchase */
    assert_int_equal(rules_match(&rs, &f), COLLECTOR);

    /* collectors without a purchase, and just below their thresholds */
    f = zero_features();
    f.v[F_EVENTS] = 8, f.v[F_PRODUCT_VIEWS] = 2, f.v[F_SEARCHES] = 1, f.v[F_PAGE_VIEWS] = 5;
    assert_int_equal(rules_match(&rs, &f), BROWSER);
    f.v[F_SEARCHES] = 2;
    assert_int_equal(rules_match(&rs, &f), COLLECTOR);
    f.v[F_SEARCHES] = 1, f.v[F_CART_ADDS] = 1;
    assert_int_equal(rules_match(&rs, &f), COLLECTOR);
}

/* A one-condition rule set "hit: events OP v", then "miss". */
static void one_cond(cs_rules *rs, int op, int64_t v)
{
    cs_cond c = { F_EVENTS, op, v };
    cs_err err;
    rules_init(rs);
    assert_int_equal(rules_add(rs, "hit", &c, 1, &err), CS_OK);
    assert_int_equal(rules_add(rs, "miss", NULL, 0, &err), CS_OK);
}

static void test_each_op(void **state)
{
    (void)state;
    /* expected hit (1) for events = 4, 5, 6 against value 5 */
    const struct { int op; int hit[3]; } cases[] = {
        { OP_LT, { 1, 0, 0 } }, { OP_LE, { 1, 1, 0 } }, { OP_GT, { 0, 0, 1 } },
        { OP_GE, { 0, 1, 1 } }, { OP_EQ, { 0, 1, 0 } }, { OP_NE, { 1, 0, 1 } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_rules rs;
        one_cond(&rs, cases[i].op, 5);
        for (int k = 0; k < 3; k++) {
            cs_features f = zero_features();
            f.v[F_EVENTS] = 4 + k;
            assert_int_equal(rules_match(&rs, &f), cases[i].hit[k] ? 0 : 1);
        }
    }
    /* extreme values and negative thresholds */
    cs_rules rs;
    one_cond(&rs, OP_GE, INT64_MAX);
    cs_features f = zero_features();
    f.v[F_EVENTS] = INT64_MAX;
    assert_int_equal(rules_match(&rs, &f), 0);
    one_cond(&rs, OP_LT, -1);
    f.v[F_EVENTS] = -1;
    assert_int_equal(rules_match(&rs, &f), 1);
    f.v[F_EVENTS] = INT64_MIN;
    assert_int_equal(rules_match(&rs, &f), 0);
}

/* Every operator against every pair of edge values, checked against C's
 * own comparison: rules_add compiles each condition into a range test,
 * which must agree at both ends of int64 (< INT64_MIN and > INT64_MAX hold
 * for no value). */
static void test_ops_at_edges(void **state)
{
    (void)state;
    const int64_t v[] = { INT64_MIN, INT64_MIN + 1, -2, -1, 0, 1, 2, 1000,
                          INT64_MAX - 1, INT64_MAX };
    const int n = (int)(sizeof v / sizeof v[0]);
    for (int op = OP_LT; op <= OP_NE; op++)
        for (int a = 0; a < n; a++) {
            cs_rules rs;
            one_cond(&rs, op, v[a]);
            for (int b = 0; b < n; b++) {
                int64_t x = v[b], t = v[a];
                int want = op == OP_LT ? x < t : op == OP_LE ? x <= t : op == OP_GT ? x > t
                         : op == OP_GE ? x >= t : op == OP_EQ ? x == t : x != t;
                cs_features f = zero_features();
                f.v[F_EVENTS] = x;
                assert_int_equal(rules_match(&rs, &f), want ? 0 : 1);
            }
        }
}

static void test_order_and_disjunction(void **state)
{
    (void)state;
    cs_rules rs;
    cs_err err;
    rules_init(&rs);
    cs_cond a = { F_SEARCHES, OP_GE, 5 }, b = { F_CART_ADDS, OP_GE, 1 },
            c = { F_PURCHASES, OP_GE, 1 };
    assert_int_equal(rules_add(&rs, "alpha", &a, 1, &err), CS_OK);
    assert_int_equal(rules_add(&rs, "beta", &b, 1, &err), CS_OK);
    assert_int_equal(rules_add(&rs, "alpha", &c, 1, &err), CS_OK);   /* alpha: a or c */
    assert_int_equal(rules_add(&rs, "rest", NULL, 0, &err), CS_OK);
    assert_int_equal(rs.nsegments, 3);
    assert_int_equal(rs.bot_segment, -1);
    assert_int_equal(rules_segment_index(&rs, "alpha"), 0);
    assert_int_equal(rules_segment_index(&rs, "beta"), 1);
    assert_int_equal(rules_segment_index(&rs, "rest"), 2);
    assert_int_equal(rules_segment_index(&rs, "gamma"), -1);

    cs_features f = zero_features();
    f.v[F_PURCHASES] = 1;
    assert_int_equal(rules_match(&rs, &f), 0);   /* third rule, segment alpha */
    f.v[F_CART_ADDS] = 1;
    assert_int_equal(rules_match(&rs, &f), 1);   /* beta comes first */
    f.v[F_SEARCHES] = 5;
    assert_int_equal(rules_match(&rs, &f), 0);   /* alpha's first rule first */
    f = zero_features();
    assert_int_equal(rules_match(&rs, &f), 2);

    /* without a catch-all, an unmatched session gets -1 */
    rules_init(&rs);
    assert_int_equal(rules_add(&rs, "alpha", &a, 1, &err), CS_OK);
    assert_int_equal(rules_match(&rs, &f), -1);
    rules_init(&rs);
    assert_int_equal(rules_match(&rs, &f), -1);
}

static void test_add_limits(void **state)
{
    (void)state;
    cs_rules rs, before;
    cs_err err;
    cs_cond ok = { F_EVENTS, OP_GE, 1 };
    rules_init(&rs);
    assert_int_equal(rules_add(&rs, "x", &ok, 1, &err), CS_OK);
    memcpy(&before, &rs, sizeof rs);

    assert_int_equal(rules_add(&rs, "", NULL, 0, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "empty"));
    char longname[CS_SEGMENT_NAME_MAX + 1];
    memset(longname, 'n', sizeof longname - 1);
    longname[CS_SEGMENT_NAME_MAX] = '\0';
    assert_int_equal(rules_add(&rs, longname, NULL, 0, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "longer"));
    longname[CS_SEGMENT_NAME_MAX - 1] = '\0';   /* 47 characters fit */
    cs_cond many[CS_MAX_CONDS + 1];
    for (int i = 0; i <= CS_MAX_CONDS; i++)
        many[i] = ok;
    assert_int_equal(rules_add(&rs, "x", many, CS_MAX_CONDS + 1, &err), CS_ECONFIG);
    cs_cond badf = { F_NFEATURES, OP_GE, 1 }, bado = { F_EVENTS, 6, 1 };
    assert_int_equal(rules_add(&rs, "x", &badf, 1, &err), CS_ECONFIG);
    assert_int_equal(rules_add(&rs, "x", &bado, 1, &err), CS_ECONFIG);
    assert_memory_equal(&rs, &before, sizeof rs);   /* unchanged by failures */
    assert_int_equal(rules_add(&rs, longname, many, CS_MAX_CONDS, &err), CS_OK);

    /* segments: at most CS_MAX_SEGMENTS */
    rules_init(&rs);
    char name[16];
    for (int i = 0; i < CS_MAX_SEGMENTS; i++) {
        snprintf(name, sizeof name, "s%d", i);
        assert_int_equal(rules_add(&rs, name, NULL, 0, &err), CS_OK);
    }
    assert_int_equal(rules_add(&rs, "one_more", NULL, 0, &err), CS_ECONFIG);
    assert_int_equal(rs.nsegments, CS_MAX_SEGMENTS);
    assert_int_equal(rules_add(&rs, "s3", NULL, 0, &err), CS_OK);   /* existing: fine */

    /* rules: at most CS_MAX_RULES */
    rules_init(&rs);
    for (int i = 0; i < CS_MAX_RULES; i++)
        assert_int_equal(rules_add(&rs, "r", &ok, 1, &err), CS_OK);
    assert_int_equal(rules_add(&rs, "r", NULL, 0, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "too many rules"));
}

static void test_validate(void **state)
{
    (void)state;
    cs_rules rs;
    cs_err err;
    rules_init(&rs);
    assert_int_equal(rules_validate(&rs, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "at least one rule"));
    cs_cond c = { F_EVENTS, OP_GE, 1 };
    rules_add(&rs, "a", &c, 1, &err);
    assert_int_equal(rules_validate(&rs, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "last rule (segment 'a') must have no conditions"));
    rules_add(&rs, "b", NULL, 0, &err);
    assert_int_equal(rules_validate(&rs, &err), CS_OK);
    rs.rule[0].cond[0].feature = 99;   /* corrupted in memory */
    assert_int_equal(rules_validate(&rs, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "rules[0]"));
}

static void test_ops_and_parse(void **state)
{
    (void)state;
    const char *ops[] = { "<", "<=", ">", ">=", "==", "!=" };
    for (int i = 0; i < 6; i++) {
        assert_int_equal(rules_parse_op(ops[i]), i);
        assert_string_equal(rules_op_name(i), ops[i]);
    }
    assert_int_equal(rules_parse_op("="), -1);
    assert_int_equal(rules_parse_op("=>"), -1);
    assert_int_equal(rules_parse_op(""), -1);
    assert_null(rules_op_name(6));

    cs_cond c;
    cs_err err;
    assert_int_equal(rules_parse_cond("purchases >= 1", &c, &err), CS_OK);
    assert_int_equal(c.feature, F_PURCHASES);
    assert_int_equal(c.op, OP_GE);
    assert_int_equal(c.value, 1);
    assert_int_equal(rules_parse_cond("  min_gap_ms<-5 ", &c, &err), CS_OK);
    assert_int_equal(c.feature, F_MIN_GAP_MS);
    assert_int_equal(c.op, OP_LT);
    assert_int_equal(c.value, -5);
    assert_int_equal(rules_parse_cond("revenue!=9223372036854775807", &c, &err), CS_OK);
    assert_int_equal(c.value, INT64_MAX);
    char buf[64];
    rules_format_cond(&c, buf, sizeof buf);
    assert_string_equal(buf, "revenue != 9223372036854775807");

    const struct { const char *text, *msg; } bad[] = {
        { "purchase >= 1", "unknown feature 'purchase'" },
        { "events => 1", "unknown operator '=>'" },
        { "events = 1", "unknown operator '='" },
        { "events 1", "unknown operator" },
        { "events >= 1.5", "value '1.5' is not an integer" },
        { "events >= ", "is not an integer" },
        { "events >= 1 2", "is not an integer" },
        { "events >= 99999999999999999999", "is not an integer" },
        { ">= 1", "expected \"feature op value\"" },
        { "", "expected \"feature op value\"" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_cond keep = { 1, 2, 3 }, d = keep;
        cs_err_clear(&err);
        assert_int_equal(rules_parse_cond(bad[i].text, &d, &err), CS_ECONFIG);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].text, err.msg, bad[i].msg);
        assert_memory_equal(&d, &keep, sizeof d);
    }
    /* the unknown-feature message lists the features */
    rules_parse_cond("purchase >= 1", &c, &err);
    assert_non_null(strstr(err.msg, "purchases"));
    assert_non_null(strstr(err.msg, "min_gap_ms"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_structure),
        cmocka_unit_test(test_default_decisions),
        cmocka_unit_test(test_each_op),
        cmocka_unit_test(test_ops_at_edges),
        cmocka_unit_test(test_order_and_disjunction),
        cmocka_unit_test(test_add_limits),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_ops_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
