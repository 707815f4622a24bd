/* rules.h — segment rules: an ordered list, first match wins.
 *
 * Each rule names a segment and holds a conjunction of conditions on session
 * features; a rule with no conditions always matches. Several rules may name
 * the same segment (a disjunction). Segment ids are assigned in order of
 * first appearance. The segment named "bot" is counted apart and kept out of
 * the business statistics. config builds the rule set; sessionize/run call
 * rules_match for each closed session. Pure C, no MPI. */
#ifndef CLICKSEG_RULES_H
#define CLICKSEG_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/features.h"

#define CS_MAX_SEGMENTS 16
#define CS_MAX_RULES 64
#define CS_MAX_CONDS 8
#define CS_SEGMENT_NAME_MAX 48

enum cs_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };

typedef struct cs_cond {
    int feature;   /* enum cs_feature */
    int op;        /* enum cs_op */
    int64_t value;
} cs_cond;

/* A condition as rules_match tests it, set by rules_add: the feature lies
 * in [lo, lo + span] (unsigned arithmetic), or outside it when `outside`
 * (!=). One unsigned compare whatever the operator, instead of a switch
 * on it: closing a session tests several conditions (rules_match 135 ->
 * 105 ms of CPU at 10^8 events, 2 ranks). */
typedef struct cs_range {
    int feature;
    int outside;
    uint64_t lo, span;
} cs_range;

typedef struct cs_rule {
    int segment;   /* index into cs_rules.segments */
    int ncond;
    cs_cond cond[CS_MAX_CONDS];
    cs_range test[CS_MAX_CONDS];   /* cond[], compiled */
} cs_rule;

typedef struct cs_rules {
    int nsegments;
    char segments[CS_MAX_SEGMENTS][CS_SEGMENT_NAME_MAX];
    int bot_segment;      /* index of "bot", or -1 */
    int nrules;
    cs_rule rule[CS_MAX_RULES];
} cs_rules;

/* Empties the set: no rules, no segments, bot_segment = -1. */
void rules_init(cs_rules *rs);

/* Parses an operator ("<", "<=", ">", ">=", "==", "!="); -1 when unknown. */
int rules_parse_op(const char *s);

/* Text of an operator (">=", ...) or NULL when out of range. */
const char *rules_op_name(int op);

/* Parses a condition written "feature op value" ("purchases >= 1"; spaces
 * optional, value a decimal int64). On error returns CS_ECONFIG naming the
 * bad part (unknown feature, operator or value) and leaves *c unchanged. */
int rules_parse_cond(const char *text, cs_cond *c, cs_err *err);

/* Writes a condition as "feature op value" into buf (always terminated);
 * returns the length it needed, as snprintf does. */
int rules_format_cond(const cs_cond *c, char *buf, size_t n);

/* Appends a rule for the named segment (created on first use). On error
 * (too many rules or segments, a name too long or empty) returns CS_ECONFIG
 * and leaves the set unchanged. */
int rules_add(cs_rules *rs, const char *segment, const cs_cond *conds,
              int ncond, cs_err *err);

/* Fills rs with the shipped default rules (see configs/default.cfg). */
void rules_default(cs_rules *rs);

/* Checks that the last rule always matches (so every session gets a segment).
 * Returns CS_ECONFIG otherwise. */
int rules_validate(const cs_rules *rs, cs_err *err);

/* Segment id of the first matching rule; -1 when none matches. */
int rules_match(const cs_rules *rs, const cs_features *f);

/* 1 when a condition of some rule reads `feature` (enum cs_feature): run
 * leaves out of the sessions what no rule reads and no output shows. */
int rules_use_feature(const cs_rules *rs, int feature);

/* Segment id by name, or -1. */
int rules_segment_index(const cs_rules *rs, const char *name);

#endif
