/* rank.c — scores, tiers, RFM segments, profile cross-tabs and the exact
 * global top-K lists (see rank.h and docs/ranking.md). */
#include "clickseg/rank.h"
#include "clickseg/userkeys.h"

#include <stdlib.h>
#include <string.h>

#include "clickseg/event.h"
#include "clickseg/profiles.h"
#include "clickseg/stats.h"

#define DAY_US 86400000000LL
#define EXACT_BINS 4096   /* recency days and frequency: exact up to 4094, then capped */

static const char *const tier_names[CS_NTIERS] = {"high", "ordinary", "low", "risk"};
static const char *const rfm_names[CS_NRFM] = {"champions", "new", "loyal",
    "potential_loyalist", "at_risk", "about_to_sleep", "hibernating", "never_bought"};

const char *rank_tier_name(int t) { return t >= 0 && t < CS_NTIERS ? tier_names[t] : NULL; }

int rank_profile_label(const char *values, int64_t code, char *out, size_t n)
{
    /* "0=unknown 1=female 2=male": labels run to the next " <digits>=" */
    for (const char *p = values; p && *p;) {
        while (*p == ' ')
            p++;
        char *end;
        long long k = strtoll(p, &end, 10);
        if (end == p || *end != '=')
            return 0;   /* not this form: no label is read from it */
        const char *lab = end + 1, *q = lab;
        while (*q) {
            const char *sp = strchr(q, ' ');
            if (!sp) {
                q += strlen(q);
                break;
            }
            const char *d = sp + 1;
            while (*d >= '0' && *d <= '9')
                d++;
            if (d > sp + 1 && *d == '=') {
                q = sp;
                break;
            }
            q = sp + 1;
        }
        if (k == code) {
            size_t len = (size_t)(q - lab) < n ? (size_t)(q - lab) : n - 1;
            memcpy(out, lab, len);
            out[len] = '\0';
            return len > 0;
        }
        p = q;
    }
    return 0;
}
const char *rank_rfm_name(int r) { return r >= 0 && r < CS_NRFM ? rfm_names[r] : NULL; }

int64_t rank_recency_days(const cs_user *u, int64_t t_end)
{
    return u->last_ts <= t_end ? (t_end - u->last_ts) / DAY_US : 0;
}

int64_t rank_monetary(const cs_user *u)
{
    return u->revenue - u->refunds;
}

static int64_t cap(int64_t v, int64_t hi)
{
    return v < 0 ? 0 : v > hi ? hi : v;
}

/* Smallest value (bin index for exact histograms) whose cumulative count
 * reaches ceil(q * total); 0 for an empty histogram. */
static int64_t hist_quantile(const int64_t *h, int n, double q)
{
    int64_t total = 0, cum = 0;
    for (int i = 0; i < n; i++)
        total += h[i];
    int64_t need = (int64_t)(q * (double)total);
    if ((double)need < q * (double)total)
        need++;
    if (need < 1)
        need = 1;
    for (int i = 0; i < n; i++) {
        cum += h[i];
        if (cum >= need)
            return i;
    }
    return 0;
}

/* Collective: the quintile cut points of recency (all users), frequency and
 * monetary (buyers), from histograms summed over every rank. */
static int cut_points(const cs_comm *c, const cs_users *users, int64_t t_end, cs_ranking *r,
                      cs_err *err)
{
    size_t n = 2 * EXACT_BINS + CS_HIST_BINS + 1;
    int64_t *h = cs_calloc(n, sizeof *h, err, "ranking histograms");
    if (!h)
        cs_err_set(err, CS_ENOMEM, "out of memory for the ranking histograms");
    if (comm_agree(c, err) != CS_OK) {
        free(h);
        return err->code;
    }
    int64_t *hr = h, *hf = h + EXACT_BINS, *hm = h + 2 * EXACT_BINS;
    for (uint64_t i = 0; i < users->n; i++) {
        const cs_user *u = &users->slot[i];
        if (!u->used)
            continue;
        hr[cap(rank_recency_days(u, t_end), EXACT_BINS - 1)]++;
        if (u->purchase_sessions > 0) {
            hf[cap(u->purchase_sessions, EXACT_BINS - 1)]++;
            hm[stats_bin(cap(rank_monetary(u), INT64_MAX))]++;
            h[n - 1]++;
        }
    }
    int rc = comm_sum_i64(c, h, n, 1, err);
    static const double q[4] = {0.2, 0.4, 0.6, 0.8};
    for (int i = 0; rc == CS_OK && i < 4; i++) {
        r->cut_recency[i] = hist_quantile(hr, EXACT_BINS, q[i]);
        r->cut_frequency[i] = hist_quantile(hf, EXACT_BINS, q[i]);
        r->cut_monetary[i] = hist_quantile(hm, CS_HIST_BINS, q[i]);   /* a bin index */
    }
    r->buyers = h[n - 1];
    free(h);
    return rc;
}

static int rfm_of(int rs, int fs)
{
    if (fs == 0) return RFM_NEVER_BOUGHT;
    if (rs >= 4 && fs >= 4) return RFM_CHAMPIONS;
    if (rs >= 5 && fs == 1) return RFM_NEW;
    if (rs >= 3 && fs >= 3) return RFM_LOYAL;
    if (rs >= 3) return RFM_POTENTIAL_LOYALIST;
    if (fs >= 3) return RFM_AT_RISK;
    if (rs == 2) return RFM_ABOUT_TO_SLEEP;
    return RFM_HIBERNATING;
}

/* Risk 0-5: the refunded share of revenue in fifths, bot sessions, heavy
 * cart removal. */
static int risk_of(const cs_users *t, const cs_user *u, int bot_seg)
{
    int64_t risk = 0;
    if (u->refunds > 0)
        risk += u->revenue > 0 ? (5 * u->refunds + u->revenue - 1) / u->revenue : 3;
    if (bot_seg >= 0 && users_seg_sessions(t, u, bot_seg) > 0)
        risk += 5;
    risk += u->cart_removes >= 10;
    return (int)cap(risk, 5);
}

static void score_user(const cs_config *cfg, const cs_ranking *r, int64_t t_end, int bot_seg,
                       int coll_seg, const cs_users *t, const cs_user *u, cs_user_rank *k)
{
    int64_t days = rank_recency_days(u, t_end), mbin = stats_bin(cap(rank_monetary(u), INT64_MAX));
    int rs = 1, fs = 0, ms = 0;
    for (int i = 0; i < 4; i++)
        rs += days <= r->cut_recency[i];
    if (u->purchase_sessions > 0) {
        fs = ms = 1;
        for (int i = 0; i < 4; i++) {
            fs += u->purchase_sessions > r->cut_frequency[i];
            ms += mbin > r->cut_monetary[i];
        }
    }
    int64_t collector = coll_seg >= 0 ? users_seg_sessions(t, u, coll_seg) : 0;
    k->r_score = (uint8_t)rs;
    k->f_score = (uint8_t)fs;
    k->m_score = (uint8_t)ms;
    k->intent = (uint8_t)cap(collector + u->cart_abandons, 5);
    k->risk = (uint8_t)risk_of(t, u, bot_seg);
    int64_t score = cfg->rank_w_recency * rs + cfg->rank_w_frequency * fs +
                    cfg->rank_w_monetary * ms + cfg->rank_w_intent * k->intent -
                    cfg->rank_w_risk * k->risk;
    k->score = (int32_t)score;
    k->tier = k->risk >= cfg->rank_risk_level || score < 0 ? TIER_RISK
            : score >= cfg->rank_high_score ? TIER_HIGH
            : score >= cfg->rank_ordinary_score ? TIER_ORDINARY : TIER_LOW;
    k->rfm = (uint8_t)rfm_of(rs, fs);
    /* Prospects: never bought, not risky; research, abandoned carts and
     * recent, repeated visits make a conversion likely. */
    k->prospect_score = fs == 0 && k->tier != TIER_RISK
        ? (int32_t)(3 * cap(collector, 5) + 4 * cap(u->cart_abandons, 5) + 2 * rs + cap(u->sessions, 5))
        : -1;
}

/* ---- statistics and lists ---- */

static void add_stats(cs_ranking *r, const cs_users *t, const cs_user *u,
                      const cs_user_rank *rk, int nseg)
{
    uint32_t ss[CS_MAX_SEGMENTS];
    for (int s = 0; s < nseg; s++)
        ss[s] = users_seg_sessions(t, u, s);
    r->tier_users[rk->tier]++;
    r->tier_revenue[rk->tier] += u->revenue;
    for (int s = 0; s < nseg; s++)
        r->tier_seg_sessions[rk->tier][s] += ss[s];
    r->rfm_users[rk->rfm]++;
    r->rfm_revenue[rk->rfm] += u->revenue;
    for (int k = 0; k < r->nprofile_cols; k++) {
        int64_t *cell = r->xtab + ((size_t)k * CS_PROFILE_SLOTS + rk->profile[k]) * XT_WIDTH;
        cell[XT_USERS]++;
        cell[XT_REVENUE] += u->revenue;
        cell[XT_PURCHASE_SESSIONS] += u->purchase_sessions;
        for (int s = 0; s < nseg; s++)
            cell[XT_FIXED + s] += ss[s];
        cell[XT_FIXED + CS_MAX_SEGMENTS + rk->tier]++;
    }
}

/* Target row of the user at position pos. */
static void to_target(const cs_users *users, uint64_t pos, int64_t t_end, int64_t score,
                      cs_target *t)
{
    const cs_user *u = &users->slot[pos];
    const cs_user_rank *k = &users->rank[pos];
    memset(t, 0, sizeof *t);
    t->user_id = u->user_id;
    t->score = score;
    t->recency_days = rank_recency_days(u, t_end);
    t->frequency = u->purchase_sessions;
    t->monetary = rank_monetary(u);
    t->sessions = u->sessions;
    t->revenue = u->revenue;
    t->refunds = u->refunds;
    for (int s = 0; s < CS_HOT_SEGMENTS + users->nmore; s++)
        t->seg_sessions[s] = users_seg_sessions(users, u, s);
    t->r_score = k->r_score;
    t->f_score = k->f_score;
    t->m_score = k->m_score;
    t->intent = k->intent;
    t->risk = k->risk;
    t->tier = k->tier;
    t->rfm = k->rfm;
}

/* Best first: higher score, then smaller user_id. */
static int cmp_target(const void *a, const void *b)
{
    const cs_target *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->user_id > y->user_id) - (x->user_id < y->user_id);
}

/* A candidate's sort key: 16 bytes instead of a whole cs_target. */
typedef struct cand {
    int64_t score;
    uint64_t user_id;
    uint64_t pos;
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->user_id > y->user_id) - (x->user_id < y->user_id);
}

/* The heap keeps its worst candidate (largest by cmp_cand) at cd[0]. */
static void heap_up(cand *h, uint64_t i, cand x)
{
    while (i > 0 && cmp_cand(&h[(i - 1) / 2], &x) < 0) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

/* Replaces the root with x and restores the heap of n. */
static void heap_down(cand *h, uint64_t n, cand x)
{
    uint64_t i = 0;
    for (;;) {
        uint64_t l = 2 * i + 1, m = l;
        if (l >= n)
            break;
        if (l + 1 < n && cmp_cand(&h[l + 1], &h[l]) > 0)
            m = l + 1;
        if (cmp_cand(&h[m], &x) <= 0)
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
}

/* A rank's best kk candidates so far, worst at the root: one comparison
 * for most users instead of sorting them all. */
typedef struct topk_heap {
    cand *cd;
    uint64_t n, kk;
    int prospects;   /* by prospect score, users that have one */
} topk_heap;

/* Offers slot[i] (its ranking k) to h (scoring offers every user as it
 * scores it: one pass over the table for the scores and both lists). */
static void topk_offer(topk_heap *h, const cs_user *u, const cs_user_rank *k, uint64_t i)
{
    /* Neither list holds the risk tier: a customer with refunds, abuse or
     * bot sessions is no one to pursue, however much they bought. */
    if (!h->cd || !h->kk || (h->prospects && k->prospect_score < 0) ||
        (!h->prospects && k->tier == TIER_RISK))
        return;
    cand x = {h->prospects ? k->prospect_score : k->score, u->user_id, i};
    if (h->n < h->kk)
        heap_up(h->cd, h->n++, x);
    else if (cmp_cand(&x, &h->cd[0]) < 0)
        heap_down(h->cd, h->n, x);
}

/* Collective: this rank's best candidates (h, freed here), gathered and
 * merged on rank 0 into the global best k. */
static int top_k(const cs_comm *c, const cs_users *users, int64_t t_end, uint64_t k,
                 topk_heap *h, cs_target **out, uint64_t *nout, cs_err *err)
{
    cand *cd = h->cd;
    uint64_t n = h->n;
    h->cd = NULL;
    if (!cd)
        cs_err_set(err, CS_ENOMEM, "out of memory allocating the top-K candidates");
    cs_target *loc = cd ? cs_malloc(n * sizeof *loc + 1, err, "top-K list") : NULL;
    if (comm_agree(c, err) != CS_OK || !loc) {
        free(cd);
        free(loc);
        return err->code ? err->code : CS_ENOMEM;
    }
    qsort(cd, n, sizeof *cd, cmp_cand);
    for (uint64_t i = 0; i < n; i++)
        to_target(users, cd[i].pos, t_end, cd[i].score, &loc[i]);
    free(cd);
    uint64_t counts[4096];
    void *all = NULL;
    int rc = c->size > 4096 ? cs_err_set(err, CS_EINTERNAL, "more than 4096 ranks") :
             comm_gatherv(c, loc, n * sizeof *loc, &all, counts, err);
    free(loc);
    if (rc == CS_OK && c->rank == 0) {
        uint64_t total = 0;
        for (int r = 0; r < c->size; r++)
            total += counts[r] / sizeof(cs_target);
        qsort(all, total, sizeof(cs_target), cmp_target);
        *out = all;
        *nout = total < k ? total : k;
        all = NULL;
    }
    free(all);
    return comm_agree(c, err);
}

/* Collective: scores every user (their profiles already in users->rank,
 * r's profile columns set) and reduces the statistics and lists. */
static int score_all(const cs_comm *c, const cs_config *cfg, cs_users *users, int64_t t_end,
                     cs_ranking *r, cs_err *err)
{
    int nseg = cfg->rules.nsegments, bot = cfg->rules.bot_segment;
    int coll = rules_segment_index(&cfg->rules, "information_collector");
    int rc = CS_OK;
    size_t xn = (size_t)r->nprofile_cols * CS_PROFILE_SLOTS * XT_WIDTH;
    r->xtab = cs_calloc(xn + 1, sizeof *r->xtab, err, "profile cross-tabs");
    if (!r->xtab)
        rc = CS_ENOMEM;
    if (comm_agree(c, err) != CS_OK || cut_points(c, users, t_end, r, err) != CS_OK)
        return err->code;
    uint64_t k = (uint64_t)cfg->rank_top_k, kk = k < users->n ? k : users->n;
    topk_heap ht = {cs_malloc((kk + 1) * sizeof(cand), err, "top-K candidates"), 0, kk, 0};
    topk_heap hp = {cs_malloc((kk + 1) * sizeof(cand), err, "top-K candidates"), 0, kk, 1};
    for (uint64_t i = 0; i < users->n; i++) {
        const cs_user *u = &users->slot[i];
        cs_user_rank *rk = &users->rank[i];
        if (u->used) {
            score_user(cfg, r, t_end, bot, coll, users, u, rk);
            add_stats(r, users, u, rk, nseg);
        }
        topk_offer(&ht, u, rk, i);
        topk_offer(&hp, u, rk, i);
    }
    /* The sums are flat int64 runs: reduce them in place onto rank 0. */
    rc = comm_sum_i64(c, &r->tier_users[0], (size_t)(&r->rfm_revenue[CS_NRFM] - &r->tier_users[0]),
                      0, err);
    if (rc == CS_OK)
        rc = comm_sum_i64(c, r->xtab, xn, 0, err);
    if (rc == CS_OK)
        rc = top_k(c, users, t_end, k, &ht, &r->targets, &r->ntargets, err);
    if (rc == CS_OK)
        rc = top_k(c, users, t_end, k, &hp, &r->prospects, &r->nprospects, err);
    free(ht.cd);
    free(hp.cd);
    return rc;
}

int rank_customers(const cs_comm *c, const cs_config *cfg, const cs_plan *plan,
                   cs_users *users, int64_t t_end, cs_ranking *r, cs_err *err)
{
    memset(r, 0, sizeof *r);
    r->t_end = t_end;
    users_rank_alloc(users, err);
    /* profiles_load is collective: every rank enters it, or none. */
    int rc = comm_agree(c, err);
    for (int i = 0; rc == CS_OK && i < plan->nprofiles; i++)
        rc = profiles_load(c, plan->profiles[i].path, users, r, err);
    if (comm_agree(c, err) != CS_OK ||
        comm_sum_i64(c, &r->profile_conflicts, 1, 0, err) != CS_OK)
        return err->code;
    return score_all(c, cfg, users, t_end, r, err);
}

int rank_customers_profiled(const cs_comm *c, const cs_config *cfg, int ncols,
                            const char (*cols)[48],
                            const char (*values)[CS_PROFILE_VALUES_MAX], cs_users *users,
                            int64_t t_end, cs_ranking *r, cs_err *err)
{
    memset(r, 0, sizeof *r);
    r->t_end = t_end;
    r->nprofile_cols = ncols < 0 ? 0 : ncols > CS_MAX_PROFILE_COLS ? CS_MAX_PROFILE_COLS : ncols;
    for (int k = 0; k < r->nprofile_cols; k++) {
        snprintf(r->profile_cols[k], sizeof r->profile_cols[k], "%s", cols[k]);
        snprintf(r->profile_values[k], sizeof r->profile_values[k], "%s", values ? values[k] : "");
    }
    return score_all(c, cfg, users, t_end, r, err);
}

void rank_free(cs_ranking *r)
{
    userkeys_free(r->target_keys, r->ntargets);
    userkeys_free(r->prospect_keys, r->nprospects);
    free(r->targets);
    free(r->prospects);
    free(r->xtab);
    memset(r, 0, sizeof *r);
}
