/* report_rank.c — the target-customer sections of the report (rank 0):
 * ranking cut points, tiers, RFM segments, targets, prospects and profile
 * cross-tabs, as report.json fragments, CSV files and report.h5 groups. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/csvtext.h"
#include "clickseg/h5util.h"
#include "clickseg/rank.h"
#include "clickseg/report.h"

int report_rank_json(FILE *f, const cs_config *cfg, const cs_ranking *r);
int report_rank_csv(const char *dir, const cs_config *cfg, const cs_ranking *r, cs_err *err);
int report_rank_h5(hid_t file, const cs_config *cfg, const cs_ranking *r, cs_err *err);

/* A tier's share of all users or all revenue: NaN (JSON null, HDF5 NaN,
 * a dash on the page) when there are none, as every other ratio of the
 * report: a run without purchases has no revenue to share out, and 0
 * would say the tiers hold none of some. */
static double share(int64_t a, int64_t b)
{
    return stats_ratio(a, b);
}

/* Each tier's share of the customers and of the revenue (NaN when the
 * total is 0): report.json, report.h5 and tiers.csv give the same. */
static void tier_shares(const cs_ranking *r, double *users, double *revenue)
{
    int64_t u = 0, v = 0;
    for (int t = 0; t < CS_NTIERS; t++) {
        u += r->tier_users[t];
        v += r->tier_revenue[t];
    }
    for (int t = 0; t < CS_NTIERS; t++) {
        users[t] = share(r->tier_users[t], u);
        revenue[t] = share(r->tier_revenue[t], v);
    }
}

static void json_cuts(FILE *f, const char *name, const int64_t *v)
{
    fprintf(f, "\"%s\": [%lld, %lld, %lld, %lld]", name, (long long)v[0], (long long)v[1],
            (long long)v[2], (long long)v[3]);
}

static void json_segmix(FILE *f, const cs_config *cfg, const int64_t *v32or64, int is32)
{
    fprintf(f, "{");
    for (int s = 0; s < cfg->rules.nsegments; s++)
        fprintf(f, "%s\"%s\": %lld", s ? ", " : "", cfg->rules.segments[s],
                is32 ? (long long)((const uint32_t *)v32or64)[s] : (long long)v32or64[s]);
    fprintf(f, "}");
}

/* keys: the source's user text per entry (NULL when the archive has no
 * user dictionary): then each entry gets "user_key" ("" for a number). */
static void json_list(FILE *f, const char *name, const cs_config *cfg, const cs_target *t,
                      char *const *keys, uint64_t n)
{
    fprintf(f, "  \"%s\": [\n", name);
    for (uint64_t i = 0; i < n; i++) {
        const cs_target *x = &t[i];
        fprintf(f, "    {\"rank\": %llu, \"user_id\": %llu, ", (unsigned long long)(i + 1),
                (unsigned long long)x->user_id);
        if (keys) {
            fprintf(f, "\"user_key\": ");
            report_json_str(f, keys[i]);
            fprintf(f, ", ");
        }
        fprintf(f, "\"score\": %lld, \"tier\": \"%s\", "
                "\"rfm_segment\": \"%s\", \"recency_days\": %lld, \"frequency\": %lld, "
                "\"monetary\": %lld, \"r\": %d, \"f\": %d, \"m\": %d, \"intent\": %d, "
                "\"risk\": %d, \"sessions\": %lld, \"revenue\": %lld, \"refunds\": %lld, "
                "\"segment_sessions\": ", (long long)x->score, rank_tier_name(x->tier),
                rank_rfm_name(x->rfm), (long long)x->recency_days, (long long)x->frequency,
                (long long)x->monetary, x->r_score, x->f_score, x->m_score, x->intent, x->risk,
                (long long)x->sessions, (long long)x->revenue, (long long)x->refunds);
        json_segmix(f, cfg, (const int64_t *)(const void *)x->seg_sessions, 1);
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ],\n");
}

static void json_profiles(FILE *f, const cs_config *cfg, const cs_ranking *r)
{
    fprintf(f, "  \"profiles\": {");
    for (int k = 0; k < r->nprofile_cols; k++) {
        /* The column names come from the user's profile file: escaped. */
        fprintf(f, "%s\n    ", k ? "," : "");
        report_json_str(f, r->profile_cols[k]);
        fprintf(f, ": [");
        int first = 1;
        for (int v = 0; v < CS_PROFILE_SLOTS; v++) {
            const int64_t *cell = r->xtab + ((size_t)k * CS_PROFILE_SLOTS + (size_t)v) * XT_WIDTH;
            if (cell[XT_USERS] == 0)
                continue;
            /* the profile code as a number; null for users without a
             * profile row (the tables' own code 0 is their "unknown") */
            char num[16], lab[CS_PROFILE_VALUES_MAX];
            if (v == CS_PROFILE_UNKNOWN) snprintf(num, sizeof num, "null");
            else snprintf(num, sizeof num, "%d", v);
            fprintf(f, "%s\n      {\"value\": %s, \"label\": ", first ? "" : ",", num);
            if (v != CS_PROFILE_UNKNOWN && rank_profile_label(r->profile_values[k], v, lab,
                                                              sizeof lab))
                report_json_str(f, lab);   /* from the user's profile table */
            else
                fputs("null", f);
            fprintf(f, ", \"users\": %lld, \"revenue\": %lld, \"purchase_sessions\": %lld, "
                    "\"sessions\": ", (long long)cell[XT_USERS], (long long)cell[XT_REVENUE],
                    (long long)cell[XT_PURCHASE_SESSIONS]);
            json_segmix(f, cfg, cell + XT_FIXED, 0);
            fprintf(f, ", \"tiers\": {");
            for (int t = 0; t < CS_NTIERS; t++)
                fprintf(f, "%s\"%s\": %lld", t ? ", " : "", rank_tier_name(t),
                        (long long)cell[XT_FIXED + CS_MAX_SEGMENTS + t]);
            fprintf(f, "}}");
            first = 0;
        }
        fprintf(f, "\n    ]");
    }
    fprintf(f, "%s},\n", r->nprofile_cols ? "\n  " : "");
}

int report_rank_json(FILE *f, const cs_config *cfg, const cs_ranking *r)
{
    double us[CS_NTIERS], rs[CS_NTIERS];
    tier_shares(r, us, rs);
    fprintf(f, "  \"ranking\": {\"t_end\": %lld, \"buyers\": %lld, \"profile_conflicts\": %lld, "
            "\"cut_points\": {", (long long)r->t_end, (long long)r->buyers,
            (long long)r->profile_conflicts);
    json_cuts(f, "recency_days", r->cut_recency);
    fprintf(f, ", ");
    json_cuts(f, "frequency", r->cut_frequency);
    fprintf(f, ", ");
    json_cuts(f, "monetary_bin", r->cut_monetary);
    fprintf(f, "}, \"weights\": {\"recency\": %lld, \"frequency\": %lld, \"monetary\": %lld, "
            "\"intent\": %lld, \"risk\": %lld}, \"tier_scores\": {\"high\": %lld, \"ordinary\": %lld, "
            "\"risk_level\": %lld}},\n", (long long)cfg->rank_w_recency,
            (long long)cfg->rank_w_frequency, (long long)cfg->rank_w_monetary,
            (long long)cfg->rank_w_intent, (long long)cfg->rank_w_risk,
            (long long)cfg->rank_high_score, (long long)cfg->rank_ordinary_score,
            (long long)cfg->rank_risk_level);
    fprintf(f, "  \"tiers\": [\n");
    for (int t = 0; t < CS_NTIERS; t++) {
        fprintf(f, "    {\"name\": \"%s\", \"users\": %lld, \"user_share\": ", rank_tier_name(t),
                (long long)r->tier_users[t]);
        report_json_ratio(f, us[t]);
        fprintf(f, ", \"revenue\": %lld, \"revenue_share\": ", (long long)r->tier_revenue[t]);
        report_json_ratio(f, rs[t]);
        fprintf(f, ", \"sessions\": ");
        json_segmix(f, cfg, r->tier_seg_sessions[t], 0);
        fprintf(f, "}%s\n", t + 1 < CS_NTIERS ? "," : "");
    }
    fprintf(f, "  ],\n  \"rfm_segments\": [\n");
    for (int s = 0; s < CS_NRFM; s++)
        fprintf(f, "    {\"name\": \"%s\", \"users\": %lld, \"revenue\": %lld}%s\n",
                rank_rfm_name(s), (long long)r->rfm_users[s], (long long)r->rfm_revenue[s],
                s + 1 < CS_NRFM ? "," : "");
    fprintf(f, "  ],\n");
    json_list(f, "targets", cfg, r->targets, r->target_keys, r->ntargets);
    json_list(f, "prospects", cfg, r->prospects, r->prospect_keys, r->nprospects);
    json_profiles(f, cfg, r);
    return CS_OK;
}

static int csv_list(const char *dir, const char *name, const cs_config *cfg, const cs_target *t,
                    char *const *keys, uint64_t n, cs_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return cs_err_set(err, CS_EIO, "%s: cannot write: %m", path);
    fprintf(f, "rank,user_id,%sscore,tier,rfm_segment,recency_days,frequency,monetary,r,f,m,"
            "intent,risk,sessions,revenue,refunds", keys ? "user_key," : "");
    for (int s = 0; s < cfg->rules.nsegments; s++)
        fprintf(f, ",sessions_%s", cfg->rules.segments[s]);
    fprintf(f, "\n");
    for (uint64_t i = 0; i < n; i++) {
        const cs_target *x = &t[i];
        fprintf(f, "%llu,%llu,", (unsigned long long)(i + 1), (unsigned long long)x->user_id);
        if (keys) {
            csv_put_text(f, keys[i]);
            fputc(',', f);
        }
        fprintf(f, "%lld,%s,%s,%lld,%lld,%lld,%d,%d,%d,%d,%d,%lld,%lld,%lld", (long long)x->score,
                rank_tier_name(x->tier), rank_rfm_name(x->rfm), (long long)x->recency_days,
                (long long)x->frequency, (long long)x->monetary, x->r_score, x->f_score,
                x->m_score, x->intent, x->risk, (long long)x->sessions, (long long)x->revenue,
                (long long)x->refunds);
        for (int s = 0; s < cfg->rules.nsegments; s++)
            fprintf(f, ",%u", x->seg_sessions[s]);
        fprintf(f, "\n");
    }
    if (ferror(f) | (fclose(f) != 0))
        return cs_err_set(err, CS_EIO, "%s: write failed (disk full?)", path);
    return CS_OK;
}

static int csv_tables(const char *dir, const cs_config *cfg, const cs_ranking *r, cs_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/tiers.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return cs_err_set(err, CS_EIO, "%s: cannot write: %m", path);
    /* The shares of report.json's and report.h5's tiers, after the
     * columns the file had before them (readers by position keep theirs). */
    double us[CS_NTIERS], rs[CS_NTIERS];
    tier_shares(r, us, rs);
    fprintf(f, "tier,users,revenue");
    for (int s = 0; s < cfg->rules.nsegments; s++)
        fprintf(f, ",sessions_%s", cfg->rules.segments[s]);
    fprintf(f, ",user_share,revenue_share\n");
    for (int t = 0; t < CS_NTIERS; t++) {
        fprintf(f, "%s,%lld,%lld", rank_tier_name(t), (long long)r->tier_users[t],
                (long long)r->tier_revenue[t]);
        for (int s = 0; s < cfg->rules.nsegments; s++)
            fprintf(f, ",%lld", (long long)r->tier_seg_sessions[t][s]);
        fputc(',', f);
        report_csv_ratio(f, us[t]);
        fputc(',', f);
        report_csv_ratio(f, rs[t]);
        fprintf(f, "\n");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/rfm_segments.csv", dir);
    if (!(f = fopen(path, "w")))
        return cs_err_set(err, CS_EIO, "%s: cannot write: %m", path);
    fprintf(f, "rfm_segment,users,revenue\n");
    for (int s = 0; s < CS_NRFM; s++)
        fprintf(f, "%s,%lld,%lld\n", rank_rfm_name(s), (long long)r->rfm_users[s],
                (long long)r->rfm_revenue[s]);
    fclose(f);
    snprintf(path, sizeof path, "%s/profiles.csv", dir);
    if (!(f = fopen(path, "w")))
        return cs_err_set(err, CS_EIO, "%s: cannot write: %m", path);
    fprintf(f, "column,value,label,users,revenue,purchase_sessions");
    for (int s = 0; s < cfg->rules.nsegments; s++)
        fprintf(f, ",sessions_%s", cfg->rules.segments[s]);
    for (int t = 0; t < CS_NTIERS; t++)
        fprintf(f, ",users_%s", rank_tier_name(t));
    fprintf(f, "\n");
    for (int k = 0; k < r->nprofile_cols; k++)
        for (int v = 0; v < CS_PROFILE_SLOTS; v++) {
            const int64_t *cell = r->xtab + ((size_t)k * CS_PROFILE_SLOTS + (size_t)v) * XT_WIDTH;
            if (!cell[XT_USERS])
                continue;
            csv_put_text(f, r->profile_cols[k]);   /* from the user's profile file */
            /* -1: no profile row, as report.h5 and customers.h5 write it
             * (an integer column, for pandas and spreadsheets) */
            fprintf(f, ",%d,", v == CS_PROFILE_UNKNOWN ? -1 : v);
            char lab[CS_PROFILE_VALUES_MAX];
            if (v != CS_PROFILE_UNKNOWN && rank_profile_label(r->profile_values[k], v, lab,
                                                              sizeof lab))
                csv_put_text(f, lab);   /* empty: no label */
            fprintf(f, ",%lld,%lld,%lld", (long long)cell[XT_USERS], (long long)cell[XT_REVENUE],
                    (long long)cell[XT_PURCHASE_SESSIONS]);
            for (int s = 0; s < cfg->rules.nsegments; s++)
                fprintf(f, ",%lld", (long long)cell[XT_FIXED + s]);
            for (int t = 0; t < CS_NTIERS; t++)
                fprintf(f, ",%lld", (long long)cell[XT_FIXED + CS_MAX_SEGMENTS + t]);
            fprintf(f, "\n");
        }
    if (ferror(f) | (fclose(f) != 0))
        return cs_err_set(err, CS_EIO, "%s: write failed (disk full?)", path);
    return CS_OK;
}

int report_rank_csv(const char *dir, const cs_config *cfg, const cs_ranking *r, cs_err *err)
{
    int rc = csv_list(dir, "targets", cfg, r->targets, r->target_keys, r->ntargets, err);
    if (rc == CS_OK)
        rc = csv_list(dir, "prospects", cfg, r->prospects, r->prospect_keys, r->nprospects, err);
    if (rc == CS_OK)
        rc = csv_tables(dir, cfg, r, err);
    return rc;
}

/* ---- report.h5 groups ---- */

static int h5_i64(hid_t g, const char *name, const int64_t *v, uint64_t n, cs_err *err)
{
    return h5_write_column(g, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v, n, err);
}

static int h5_names(hid_t g, const char *name, const char *(*fn)(int), int n, cs_err *err)
{
    char buf[16][32];
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < n && i < 16; i++)
        snprintf(buf[i], sizeof buf[i], "%s", fn(i));
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 32);
    int rc = h5_write_column(g, name, t, t, buf, (uint64_t)n, err);
    H5Tclose(t);
    return rc;
}

/* A fixed-length string column of the users' source text ("" for a user
 * whose id was a number), when the archive has a user dictionary. */
static int h5_keys(hid_t g, char *const *keys, uint64_t n, cs_err *err)
{
    enum { W = 256 };   /* DICT_KEY_MAX + 1 */
    char *buf = cs_calloc(n + 1, W, err, "report.h5 user keys");
    if (!buf)
        return CS_ENOMEM;
    for (uint64_t i = 0; i < n; i++)
        snprintf(buf + i * W, W, "%s", keys[i] ? keys[i] : "");
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, W);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    int rc = h5_write_column(g, "user_key", st, st, buf, n, err);
    H5Tclose(st);
    free(buf);
    return rc;
}

static int h5_list(hid_t file, const char *name, const cs_config *cfg, const cs_target *t,
                   char *const *keys, uint64_t n, cs_err *err)
{
    hid_t g = h5_group_create(file, name);
    int64_t *v = cs_malloc((n + 1) * sizeof *v, err, "report.h5 list");
    uint64_t *ids = cs_malloc((n + 1) * sizeof *ids, err, "report.h5 list");
    int rc = v && ids ? CS_OK : CS_ENOMEM;
    for (uint64_t i = 0; i < n && rc == CS_OK; i++)
        ids[i] = t[i].user_id;
    if (rc == CS_OK)
        rc = h5_write_column(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, ids, n, err);
    if (rc == CS_OK && keys)
        rc = h5_keys(g, keys, n, err);
#define COL(nm, expr) do { for (uint64_t i = 0; i < n; i++) v[i] = (int64_t)(expr); \
        if (rc == CS_OK) rc = h5_i64(g, nm, v, n, err); } while (0)
    if (rc == CS_OK) {
        COL("score", t[i].score);
        COL("tier", t[i].tier);
        COL("rfm_segment", t[i].rfm);
        COL("recency_days", t[i].recency_days);
        COL("frequency", t[i].frequency);
        COL("monetary", t[i].monetary);
        COL("intent", t[i].intent);
        COL("risk", t[i].risk);
        COL("sessions", t[i].sessions);
        COL("revenue", t[i].revenue);
        for (int s = 0; s < cfg->rules.nsegments; s++) {
            char nm[80];
            snprintf(nm, sizeof nm, "sessions_%s", cfg->rules.segments[s]);
            COL(nm, t[i].seg_sessions[s]);
        }
    }
#undef COL
    if (rc == CS_OK)
        rc = h5_attr_string(g, "tier_values", "0=high 1=ordinary 2=low 3=risk", err);
    char rfm[256];
    size_t at = 0;
    for (int k = 0; k < CS_NRFM && at < sizeof rfm; k++)
        at += (size_t)snprintf(rfm + at, sizeof rfm - at, "%s%d=%s", k ? " " : "", k,
                               rank_rfm_name(k));
    if (rc == CS_OK)
        rc = h5_attr_string(g, "rfm_values", rfm, err);
    free(v);
    free(ids);
    H5Gclose(g);
    return rc;
}

/* /tiers: what report.json's tiers hold (shares as fractions, as there),
 * so report.html's tier table has them too. */
static int h5_tiers(hid_t file, const cs_config *cfg, const cs_ranking *r, cs_err *err)
{
    int64_t col[CS_NTIERS];
    double us[CS_NTIERS], rs[CS_NTIERS];
    tier_shares(r, us, rs);
    hid_t g = h5_group_create(file, "tiers");
    int rc = h5_names(g, "name", rank_tier_name, CS_NTIERS, err);
    if (rc == CS_OK) rc = h5_i64(g, "users", r->tier_users, CS_NTIERS, err);
    if (rc == CS_OK)
        rc = h5_write_column(g, "user_share", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, us, CS_NTIERS, err);
    if (rc == CS_OK) rc = h5_i64(g, "revenue", r->tier_revenue, CS_NTIERS, err);
    if (rc == CS_OK)
        rc = h5_write_column(g, "revenue_share", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rs, CS_NTIERS,
                             err);
    for (int s = 0; rc == CS_OK && s < cfg->rules.nsegments; s++) {
        char nm[80];
        snprintf(nm, sizeof nm, "sessions_%s", cfg->rules.segments[s]);
        for (int t = 0; t < CS_NTIERS; t++)
            col[t] = r->tier_seg_sessions[t][s];
        rc = h5_i64(g, nm, col, CS_NTIERS, err);
    }
    H5Gclose(g);
    return rc;
}

int report_rank_h5(hid_t file, const cs_config *cfg, const cs_ranking *r, cs_err *err)
{
    int rc = h5_tiers(file, cfg, r, err);
    hid_t g;
    g = h5_group_create(file, "rfm_segments");
    if (rc == CS_OK) rc = h5_names(g, "name", rank_rfm_name, CS_NRFM, err);
    if (rc == CS_OK) rc = h5_i64(g, "users", r->rfm_users, CS_NRFM, err);
    if (rc == CS_OK) rc = h5_i64(g, "revenue", r->rfm_revenue, CS_NRFM, err);
    H5Gclose(g);
    if (rc == CS_OK)
        rc = h5_list(file, "targets", cfg, r->targets, r->target_keys, r->ntargets, err);
    if (rc == CS_OK)
        rc = h5_list(file, "prospects", cfg, r->prospects, r->prospect_keys, r->nprospects, err);
    g = h5_group_create(file, "profiles");
    for (int k = 0; rc == CS_OK && k < r->nprofile_cols; k++) {
        hid_t pg = h5_group_create(g, r->profile_cols[k]);
        if (pg >= 0 && r->profile_values[k][0])   /* the codes' labels, as the table gave */
            rc = h5_attr_string(pg, "values", r->profile_values[k], err);
        int64_t val[CS_PROFILE_SLOTS], col[CS_PROFILE_SLOTS];
        uint64_t n = 0;
        for (int v = 0; v < CS_PROFILE_SLOTS; v++)
            if (r->xtab[((size_t)k * CS_PROFILE_SLOTS + (size_t)v) * XT_WIDTH + XT_USERS])
                val[n++] = v == CS_PROFILE_UNKNOWN ? -1 : v;
        rc = h5_i64(pg, "value", val, n, err);
        for (int fld = 0; rc == CS_OK && fld < XT_WIDTH; fld++) {
            char nm[80];
            if (fld == XT_USERS) snprintf(nm, sizeof nm, "users");
            else if (fld == XT_REVENUE) snprintf(nm, sizeof nm, "revenue");
            else if (fld == XT_PURCHASE_SESSIONS) snprintf(nm, sizeof nm, "purchase_sessions");
            else if (fld < XT_FIXED + CS_MAX_SEGMENTS) {
                if (fld - XT_FIXED >= cfg->rules.nsegments) continue;
                snprintf(nm, sizeof nm, "sessions_%s", cfg->rules.segments[fld - XT_FIXED]);
            } else snprintf(nm, sizeof nm, "users_%s", rank_tier_name(fld - XT_FIXED - CS_MAX_SEGMENTS));
            for (uint64_t i = 0; i < n; i++) {
                int v = val[i] < 0 ? CS_PROFILE_UNKNOWN : (int)val[i];
                col[i] = r->xtab[((size_t)k * CS_PROFILE_SLOTS + (size_t)v) * XT_WIDTH + (size_t)fld];
            }
            rc = h5_i64(pg, nm, col, n, err);
        }
        H5Gclose(pg);
    }
    H5Gclose(g);
    return rc;
}
