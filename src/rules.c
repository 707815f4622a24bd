/* rules.c — segment rules: building the ordered rule list (defaults or from
 * the config), parsing and printing conditions, and matching a session's
 * features against the rules (first match wins). Pure C, no MPI. */
#include "clickseg/rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = { "<", "<=", ">", ">=", "==", "!=" };
#define NOPS ((int)(sizeof op_names / sizeof op_names[0]))

/* Empties the set (no rules, no segments, no bot segment). */
void rules_init(cs_rules *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->bot_segment = -1;
}

/* Index of an operator string; -1 when unknown. */
int rules_parse_op(const char *s)
{
    for (int i = 0; i < NOPS; i++)
        if (strcmp(op_names[i], s) == 0)
            return i;
    return -1;
}

/* Text of an operator; NULL when out of range. */
const char *rules_op_name(int op)
{
    return (op >= 0 && op < NOPS) ? op_names[op] : NULL;
}

/* Index of the named segment, creating it when new; -1 when the table is
 * full or the name is empty or too long (err says which). */
static int segment_id(cs_rules *rs, const char *name, cs_err *err)
{
    int id = rules_segment_index(rs, name);
    if (id >= 0)
        return id;
    size_t len = strlen(name);
    if (len == 0) {
        cs_err_set(err, CS_ECONFIG, "a segment name must not be empty");
        return -1;
    }
    if (len >= CS_SEGMENT_NAME_MAX) {
        cs_err_set(err, CS_ECONFIG, "segment name '%s' is longer than %d characters",
                   name, CS_SEGMENT_NAME_MAX - 1);
        return -1;
    }
    /* A segment name names columns (sessions_<segment> in customers.h5
     * and the CSVs), JSON keys and CSV fields: an identifier, so none of
     * them needs quoting and no HDF5 path separator gets in. Letters
     * outside ASCII (UTF-8) are letters too. */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        int ok = ch == '_' || ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (i > 0 && ch >= '0' && ch <= '9');
        if (!ok) {
            cs_err_set(err, CS_ECONFIG, "segment name '%s': character %zu ('%c') is not a "
                       "letter, digit or '_' (the name becomes column names such as "
                       "sessions_%s; a digit may not come first)", name, i + 1,
                       ch >= 0x20 && ch < 0x7f ? ch : '?', name);
            return -1;
        }
    }
    if (rs->nsegments >= CS_MAX_SEGMENTS) {
        cs_err_set(err, CS_ECONFIG, "too many segments (at most %d): cannot add '%s'",
                   CS_MAX_SEGMENTS, name);
        return -1;
    }
    id = rs->nsegments++;
    memset(rs->segments[id], 0, sizeof rs->segments[id]);
    memcpy(rs->segments[id], name, len);
    if (strcmp(name, "bot") == 0)
        rs->bot_segment = id;
    return id;
}

/* CS_OK when every condition names a known feature and operator;
 * CS_ECONFIG otherwise. */
static int check_conds(const cs_cond *conds, int ncond, cs_err *err)
{
    if (ncond < 0 || ncond > CS_MAX_CONDS)
        return cs_err_set(err, CS_ECONFIG, "a rule has %d conditions; at most %d are allowed",
                          ncond, CS_MAX_CONDS);
    for (int i = 0; i < ncond; i++) {
        if (!feature_name(conds[i].feature))
            return cs_err_set(err, CS_ECONFIG, "condition %d: unknown feature index %d",
                              i, conds[i].feature);
        if (!rules_op_name(conds[i].op))
            return cs_err_set(err, CS_ECONFIG, "condition %d: unknown operator index %d",
                              i, conds[i].op);
    }
    return CS_OK;
}

/* The range test of a condition: x op v as x in [lo, hi] (or not in it,
 * for !=); a condition no value meets (< INT64_MIN, > INT64_MAX) is "not
 * in the full range". */
static cs_range compile_cond(const cs_cond *c)
{
    int64_t v = c->value, lo = INT64_MIN, hi = INT64_MAX;
    int outside = 0, never = 0;
    switch (c->op) {
    case OP_LT: never = v == INT64_MIN; hi = v - !never; break;
    case OP_LE: hi = v; break;
    case OP_GT: never = v == INT64_MAX; lo = v + !never; break;
    case OP_GE: lo = v; break;
    case OP_EQ: lo = hi = v; break;
    default: lo = hi = v; outside = 1; break;   /* OP_NE */
    }
    if (never)
        lo = INT64_MIN, hi = INT64_MAX, outside = 1;
    return (cs_range){c->feature, outside, (uint64_t)lo, (uint64_t)hi - (uint64_t)lo};
}

/* Appends a rule; CS_ECONFIG (set unchanged) on a bad condition, a
 * bad segment name or a full table. */
int rules_add(cs_rules *rs, const char *segment, const cs_cond *conds,
              int ncond, cs_err *err)
{
    int rc = check_conds(conds, ncond, err);
    if (rc != CS_OK)
        return rc;
    if (rs->nrules >= CS_MAX_RULES)
        return cs_err_set(err, CS_ECONFIG, "too many rules (at most %d)", CS_MAX_RULES);
    int id = segment_id(rs, segment, err);
    if (id < 0)
        return CS_ECONFIG;
    cs_rule *r = &rs->rule[rs->nrules++];
    memset(r, 0, sizeof *r);
    r->segment = id;
    r->ncond = ncond;
    if (ncond > 0)
        memcpy(r->cond, conds, (size_t)ncond * sizeof *conds);
    for (int i = 0; i < ncond && i < CS_MAX_CONDS; i++)   /* check_conds bounds it too */
        r->test[i] = compile_cond(&conds[i]);
    return CS_OK;
}

/* A condition built in code (for the defaults). */
static cs_cond cond(int feature, int op, int64_t value)
{
    cs_cond c = { feature, op, value };
    return c;
}

/* Fills rs with the shipped default rules (configs/default.cfg explains
 * each threshold). Cannot fail. */
void rules_default(cs_rules *rs)
{
    rules_init(rs);
    /* Bots: many events at a machine's pace for a long time, or simply far
     * more events than a person produces in one visit. */
    cs_cond bot_rate[] = { cond(F_EVENTS, OP_GE, 100), cond(F_EVENTS_PER_MINUTE, OP_GE, 20) };
    cs_cond bot_volume[] = { cond(F_EVENTS, OP_GE, 1000) };
    /* Immediate buyers: a purchase reached by a short, direct path. */
    cs_cond buyer[] = { cond(F_PURCHASES, OP_GE, 1), cond(F_PRODUCT_VIEWS, OP_LE, 3),
                        cond(F_SEARCHES, OP_LE, 1), cond(F_EVENTS, OP_LE, 12) };
    /* Information collectors: research (views, searches, carts) or a purchase
     * after a long path. */
    cs_cond views[] = { cond(F_PRODUCT_VIEWS, OP_GE, 3) };
    cs_cond searches[] = { cond(F_SEARCHES, OP_GE, 2) };
    cs_cond carts[] = { cond(F_CART_ADDS, OP_GE, 1) };
    cs_cond bought[] = { cond(F_PURCHASES, OP_GE, 1) };

    /* The defaults are within every limit, so rules_add cannot fail here. */
    rules_add(rs, "bot", bot_rate, 2, NULL);
    rules_add(rs, "bot", bot_volume, 1, NULL);
    rules_add(rs, "immediate_buyer", buyer, 4, NULL);
    rules_add(rs, "information_collector", views, 1, NULL);
    rules_add(rs, "information_collector", searches, 1, NULL);
    rules_add(rs, "information_collector", carts, 1, NULL);
    rules_add(rs, "information_collector", bought, 1, NULL);
    rules_add(rs, "simple_browser", NULL, 0, NULL);
}

/* CS_OK when every rule is well formed and the last one has no
 * conditions; CS_ECONFIG naming the problem otherwise. */
int rules_validate(const cs_rules *rs, cs_err *err)
{
    if (rs->nrules <= 0)
        return cs_err_set(err, CS_ECONFIG, "rules: at least one rule is needed");
    for (int i = 0; i < rs->nrules; i++) {
        const cs_rule *r = &rs->rule[i];
        if (r->segment < 0 || r->segment >= rs->nsegments)
            return cs_err_set(err, CS_ECONFIG, "rules[%d]: segment id %d is out of range",
                              i, r->segment);
        if (check_conds(r->cond, r->ncond, err) != CS_OK)
            return cs_err_wrap(err, "rules[%d]", i);
    }
    const cs_rule *last = &rs->rule[rs->nrules - 1];
    if (last->ncond != 0)
        return cs_err_set(err, CS_ECONFIG,
                          "rules: the last rule (segment '%s') must have no conditions, "
                          "so that every session gets a segment; add a final rule "
                          "without 'when'", rs->segments[last->segment]);
    return CS_OK;
}

int rules_use_feature(const cs_rules *rs, int feature)
{
    for (int i = 0; i < rs->nrules; i++)
        for (int c = 0; c < rs->rule[i].ncond; c++)
            if (rs->rule[i].cond[c].feature == feature)
                return 1;
    return 0;
}

/* Segment of the first rule whose conditions all hold; -1 when none. */
int rules_match(const cs_rules *rs, const cs_features *f)
{
    /* Each condition one unsigned compare; a rule is left at its first
     * failing condition (testing all of a rule's conditions without that
     * branch measured slower: most sessions fail the first). */
    for (int i = 0; i < rs->nrules; i++) {
        const cs_rule *r = &rs->rule[i];
        int ok = 1;
        for (int k = 0; k < r->ncond && ok; k++) {
            const cs_range *t = &r->test[k];
            ok = ((uint64_t)f->v[t->feature] - t->lo <= t->span) ^ t->outside;
        }
        if (ok)
            return r->segment;
    }
    return -1;
}

/* Segment id by name; -1 when there is none. */
int rules_segment_index(const cs_rules *rs, const char *name)
{
    for (int i = 0; i < rs->nsegments; i++)
        if (strcmp(rs->segments[i], name) == 0)
            return i;
    return -1;
}

/* Skips spaces and tabs. */
static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parses a decimal int64 filling the whole of text (spaces around allowed).
 * Returns 0 on success, -1 otherwise. */
static int parse_int64(const char *text, int64_t *out)
{
    const char *p = skip_space(text);
    if (!(isdigit((unsigned char)*p) || ((*p == '-' || *p == '+') &&
                                         isdigit((unsigned char)p[1]))))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno != 0 || *skip_space(end) != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Parses "feature op value"; CS_ECONFIG naming the bad part (c
 * unchanged) on error. */
int rules_parse_cond(const char *text, cs_cond *c, cs_err *err)
{
    const char *p = skip_space(text);
    const char *name = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    char feat[64];
    size_t flen = (size_t)(p - name);
    if (flen == 0 || flen >= sizeof feat)
        return cs_err_set(err, CS_ECONFIG, "condition '%s': expected \"feature op value\", "
                          "e.g. \"purchases >= 1\"", text);
    memcpy(feat, name, flen);
    feat[flen] = '\0';
    int f = feature_index(feat);
    if (f < 0) {
        char list[512] = "";
        for (int i = 0; i < F_NFEATURES; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     feature_name(i));
        return cs_err_set(err, CS_ECONFIG, "condition '%s': unknown feature '%s' "
                          "(features: %s)", text, feat, list);
    }

    p = skip_space(p);
    char opbuf[3] = { 0 };
    size_t olen = 0;
    while (olen < 2 && (*p == '<' || *p == '>' || *p == '=' || *p == '!'))
        opbuf[olen++] = *p++;
    int op = rules_parse_op(opbuf);
    if (op < 0)
        return cs_err_set(err, CS_ECONFIG, "condition '%s': unknown operator '%s' "
                          "(use <, <=, >, >=, == or !=)", text, olen ? opbuf : p);

    int64_t value;
    if (parse_int64(p, &value) != 0)
        return cs_err_set(err, CS_ECONFIG, "condition '%s': value '%s' is not an integer",
                          text, skip_space(p));
    c->feature = f;
    c->op = op;
    c->value = value;
    return CS_OK;
}

/* Writes "feature op value"; returns the length snprintf needed. */
int rules_format_cond(const cs_cond *c, char *buf, size_t n)
{
    const char *fname = feature_name(c->feature);
    const char *oname = rules_op_name(c->op);
    return snprintf(buf, n, "%s %s %lld", fname ? fname : "?", oname ? oname : "?",
                    (long long)c->value);
}
