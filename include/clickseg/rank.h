/* rank.h — target-customer selection at the end of a run (docs/ranking.md).
 *
 * Every user gets recency / frequency / monetary scores against global
 * quintile cut points (from exact histograms reduced across ranks, so they
 * never depend on the rank count), an intent and a risk level, a weighted
 * integer score, a tier (high / ordinary / low / risk) and a named RFM
 * segment. Rank 0 receives the tier, RFM and profile cross-tab statistics
 * and the exact global top-K targets and prospects (each rank's local top-K
 * merged: exact because a user lives on one rank). Collective; called by
 * run after the last window, before the outputs are written. */
#ifndef CLICKSEG_RANK_H
#define CLICKSEG_RANK_H

#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/config.h"
#include "clickseg/error.h"
#include "clickseg/plan.h"
#include "clickseg/users.h"

enum cs_tier { TIER_HIGH, TIER_ORDINARY, TIER_LOW, TIER_RISK, CS_NTIERS };
enum cs_rfm { RFM_CHAMPIONS, RFM_NEW, RFM_LOYAL, RFM_POTENTIAL_LOYALIST, RFM_AT_RISK,
              RFM_ABOUT_TO_SLEEP, RFM_HIBERNATING, RFM_NEVER_BOUGHT, CS_NRFM };

#define CS_PROFILE_SLOTS 256   /* values 0..254, and 255 = unknown */

const char *rank_tier_name(int tier);
const char *rank_rfm_name(int rfm);

/* The labels of a profile column's codes, as its table's `<col>_values`
 * attribute gives them ("0=unknown 1=female 2=male"; "" when the table
 * says nothing): report.h5, customers.h5, report.json, profiles.csv and
 * the page carry them, so no code is named by a guess. */
#define CS_PROFILE_VALUES_MAX 512

/* The label of `code` in such a string into out; 0 when it has none. */
int rank_profile_label(const char *values, int64_t code, char *out, size_t n);

/* One row of the targets or prospects list. */
typedef struct cs_target {
    uint64_t user_id;
    int64_t score;           /* the customer score (prospects: the prospect score) */
    int64_t recency_days, frequency, monetary;
    int64_t sessions, revenue, refunds;
    uint32_t seg_sessions[CS_MAX_SEGMENTS];
    uint8_t r_score, f_score, m_score, intent, risk, tier, rfm, pad;
} cs_target;

/* Fields of a profile cross-tab cell, then sessions per segment, then
 * users per tier. */
enum { XT_USERS, XT_REVENUE, XT_PURCHASE_SESSIONS, XT_FIXED };
#define XT_WIDTH (XT_FIXED + CS_MAX_SEGMENTS + CS_NTIERS)

typedef struct cs_ranking {
    int64_t t_end;                         /* recency is measured from here (µs) */
    int64_t cut_recency[4], cut_frequency[4], cut_monetary[4];
    int64_t buyers;
    /* profile values of a user that two profile tables give differently
     * (the table read last, in input order, wins); summed onto rank 0 */
    int64_t profile_conflicts;
    int64_t tier_users[CS_NTIERS], tier_revenue[CS_NTIERS];
    int64_t tier_seg_sessions[CS_NTIERS][CS_MAX_SEGMENTS];
    int64_t rfm_users[CS_NRFM], rfm_revenue[CS_NRFM];
    cs_target *targets, *prospects;        /* rank 0 only */
    uint64_t ntargets, nprospects;
    /* rank 0: the source's text of each target's and prospect's user id
     * ("" when it was a number), from the archive's user dictionary; NULL
     * when there is none (userkeys.h) */
    char **target_keys, **prospect_keys;
    int nprofile_cols;
    char profile_cols[CS_MAX_PROFILE_COLS][48];
    char profile_values[CS_MAX_PROFILE_COLS][CS_PROFILE_VALUES_MAX];   /* see above */
    int64_t *xtab;     /* [col][CS_PROFILE_SLOTS][XT_WIDTH]; rank 0 holds the sums */
} cs_ranking;

/* Collective. Loads the profile columns of the plan's /customers tables
 * into the users this rank owns, scores every user of `users`, and reduces
 * the statistics and top-K lists onto rank 0. On error every rank returns
 * the same code. */
int rank_customers(const cs_comm *c, const cs_config *cfg, const cs_plan *plan,
                   cs_users *users, int64_t t_end, cs_ranking *out, cs_err *err);

/* Collective. As rank_customers, for users whose profiles the caller has
 * set already (users_rank_alloc, then users->rank[i].profile; merge takes
 * them from the runs' customers.h5): cols names the ncols profile columns
 * in the order of those values, values their labels (NULL: none). */
int rank_customers_profiled(const cs_comm *c, const cs_config *cfg, int ncols,
                            const char (*cols)[48],
                            const char (*values)[CS_PROFILE_VALUES_MAX], cs_users *users,
                            int64_t t_end, cs_ranking *r, cs_err *err);

void rank_free(cs_ranking *r);

/* The derived values of a user (pure; exposed for tests and outputs). */
int64_t rank_recency_days(const cs_user *u, int64_t t_end);
int64_t rank_monetary(const cs_user *u);

#endif
