/* merge.c — one report from several runs' reports (see merge.h): rank 0
 * adds up the runs' report.h5 statistics; every rank reads a slab of each
 * customers.h5 (and sessions.h5), sends each customer row to the rank that
 * owns the user, where rows of one user are added; then the outputs are
 * written by the same writers as `clickseg run`. */
#include "clickseg/merge.h"

#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "clickseg/h5util.h"
#include "clickseg/period.h"
#include "clickseg/rank.h"
#include "clickseg/report.h"
#include "clickseg/shuffle.h"
#include "clickseg/stats.h"
#include "clickseg/timer.h"
#include "clickseg/userkeys.h"
#include "clickseg/users.h"

typedef struct merge_ctx {
    const cs_comm *c;
    const cs_config *cfg;
    const cs_merge_opts *o;
    cs_stats st;
    cs_users users;
    cs_spool spool;          /* the runs' sessions (when every run has sessions.h5) */
    int sessions;             /* every input has sessions.h5 */
    cs_ranking ranking;
    int64_t *seen_key;        /* rank 0: periods seen so far and their input */
    int *seen_src;
    int nseen;
    char currency[16];        /* rank 0: the reports' currency ("" none given yet) */
    int currency_src;         /* the input it came from */
    /* The runs' profile columns (customers.h5's profile_<col>; the same in
     * every run that has any) and each user's values by table position,
     * CS_MAX_PROFILE_COLS a user, CS_PROFILE_UNKNOWN where no run knew it. */
    int nprof;
    char prof_cols[CS_MAX_PROFILE_COLS][48];
    /* their codes' labels (the columns' `values`): the first run's, "" once
     * two runs differ */
    char prof_values[CS_MAX_PROFILE_COLS][CS_PROFILE_VALUES_MAX];
    uint8_t *prof;
    uint64_t prof_cap;
    int64_t prof_conflicts;   /* values two runs gave a user differently (the later kept) */
    char outtmp[1200];
    int lock_fd;             /* rank 0: the output's lock (fs_lock_output), -1 none */
    /* rank 0: the runs' user dictionaries (report.h5 /run attribute
     * `dictionaries`), each once: the merged targets' keys come from them */
    char (*dicts)[PATH_MAX];
    int ndicts;
} merge_ctx;

/* ---- report.h5, on rank 0 ---- */

/* Reads all `want` values of dataset `name` (any shape) as int64. */
static int read_all_i64(hid_t f, const char *path, const char *name, int64_t *buf,
                        uint64_t want, cs_err *err)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "%s: no dataset %s (a report from an older clickseg? "
                       "rerun it)", path, name);
    hid_t s = H5Dget_space(d);
    uint64_t n = (uint64_t)H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    herr_t rc = n != want ? 0 : n ? H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
    H5Dclose(d);
    if (n != want)
        return cs_err_set(err, CS_EINPUT, "%s: %s has %" PRIu64 " values, expected %" PRIu64,
                          path, name, n, want);
    return rc < 0 ? h5_fail(err, CS_EINPUT, "%s: reading %s", path, name) : CS_OK;
}

/* Number of rows of a 1-D dataset, or -1. */
static int64_t rows_of(hid_t f, const char *name)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    int64_t n = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    H5Dclose(d);
    return n;
}

static int add_periods(merge_ctx *x, hid_t f, const char *path, int src, cs_err *err)
{
    static const char *const fields[PS_NFIELDS] = {"periods/sessions", "periods/users",
        "periods/events", "periods/purchase_sessions", "periods/revenue", "periods/refunds"};
    int nseg = x->st.nseg;
    int64_t rows = rows_of(f, "periods/key");
    if (rows < 0 || rows % nseg)
        return cs_err_set(err, CS_EINPUT, "%s: no usable periods/key (a report from an older "
                          "clickseg? rerun it)", path);
    int64_t *v = cs_malloc((size_t)(rows + 1) * (PS_NFIELDS + 1) * sizeof *v, err, "periods");
    if (!v)
        return CS_ENOMEM;
    int rc = read_all_i64(f, path, "periods/key", v, (uint64_t)rows, err);
    for (int k = 0; rc == CS_OK && k < PS_NFIELDS; k++)
        rc = read_all_i64(f, path, fields[k], v + (k + 1) * rows, (uint64_t)rows, err);
    for (int64_t i = 0; rc == CS_OK && i < rows / nseg; i++) {
        int64_t key = v[i * nseg];
        for (int j = 0; j < x->nseen; j++)
            if (x->seen_key[j] == key) {
                char label[32];
                period_label(x->cfg->report_period, key, label, sizeof label);
                rc = cs_err_set(err, CS_EINPUT, "period %s is in the reports of both %s and %s: "
                                "its distinct users cannot be added up; merge runs whose "
                                "inputs do not share a %s", label, x->o->inputs[x->seen_src[j]],
                                x->o->inputs[src], period_name(x->cfg->report_period));
            }
        int64_t *row = rc == CS_OK ? stats_period_row(&x->st, key, err) : NULL;
        if (rc == CS_OK && !row)
            rc = CS_ENOMEM;
        for (int s = 0; rc == CS_OK && s < nseg; s++)
            for (int k = 0; k < PS_NFIELDS; k++)
                row[s * PS_NFIELDS + k] += v[(k + 1) * rows + i * nseg + s];
        if (rc == CS_OK) {
            int64_t *sk = cs_realloc(x->seen_key, (size_t)(x->nseen + 1) * sizeof *sk, err, "periods");
            if (sk)
                x->seen_key = sk;
            int *ss = sk ? cs_realloc(x->seen_src, (size_t)(x->nseen + 1) * sizeof *ss, err, "periods") : NULL;
            if (!ss)
                rc = CS_ENOMEM;
            else {
                x->seen_src = ss;
                x->seen_key[x->nseen] = key;
                x->seen_src[x->nseen++] = src;
            }
        }
    }
    free(v);
    return rc;
}

/* Adds a report's histogram (h 0: durations, 1: events) to the merge's,
 * through buf (room for CS_MAX_SEGMENTS * CS_HIST_BINS values). A report
 * before format 4 has 64 bins a segment (stats.h): converted, with a note
 * when its last bin held values, which the merged quantiles then count at
 * 114,688-131,071 (the old report did not keep them). */
static int add_hist(merge_ctx *x, hid_t f, const char *path, int h, int64_t *buf, cs_err *err)
{
    const char *name = h ? "segments/hist_events" : "segments/hist_duration_s";
    int nseg = x->st.nseg;
    int64_t n = rows_of(f, name), bins = n == (int64_t)nseg * CS_HIST_BINS_V3 ? CS_HIST_BINS_V3
                                                                              : CS_HIST_BINS;
    int rc = read_all_i64(f, path, name, buf, (uint64_t)nseg * (uint64_t)bins, err);
    int64_t lost = 0, conv[CS_HIST_BINS];
    for (int s = 0; rc == CS_OK && s < nseg; s++) {
        const int64_t *row = buf + (size_t)s * (size_t)bins;
        if (bins == CS_HIST_BINS_V3) {
            lost += stats_hist_from_v3(row, conv);
            row = conv;
        }
        int64_t *to = h ? x->st.seg[s].hist_events : x->st.seg[s].hist_duration;
        for (int b = 0; b < CS_HIST_BINS; b++)
            to[b] += row[b];
    }
    if (lost)
        fprintf(stderr, "clickseg merge: note: %s is a report of an older clickseg whose "
                "histograms stop at 114,688: %lld of its sessions with more %s count as "
                "114,688-131,071 in the merged quantiles (rerun it for exact ones)\n", path,
                (long long)lost, h ? "events" : "seconds");
    return rc;
}

/* Notes the run's user dictionaries (one path a line: a merged report
 * lists its runs'), each path once. */
static int add_dictionary(merge_ctx *x, hid_t f, cs_err *err)
{
    char list[PATH_MAX];
    hid_t g = H5Gopen2(f, "run", H5P_DEFAULT);
    int got = g >= 0 && h5_attr_get_string(g, "dictionaries", list, sizeof list) == 1;
    if (g >= 0)
        H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    for (char *d = got ? list : NULL, *nl; d && *d; d = nl ? nl + 1 : NULL) {
        if ((nl = strchr(d, '\n')))
            *nl = '\0';
        int known = !*d;
        for (int i = 0; !known && i < x->ndicts; i++)
            known = strcmp(x->dicts[i], d) == 0;
        if (known)
            continue;
        char (*p)[PATH_MAX] = cs_realloc(x->dicts, (size_t)(x->ndicts + 1) * sizeof *p, err,
                                         "dictionary list");
        if (!p)
            return CS_ENOMEM;
        x->dicts = p;
        snprintf(x->dicts[x->ndicts++], sizeof *p, "%s", d);
    }
    return CS_OK;
}

static int add_report(merge_ctx *x, int src, cs_err *err)
{
    static const char *const totals[] = {"rows_read", "events", "late_events", "rejected_events",
        "sessions", "bot_sessions", "bot_events", "users", "purchase_sessions", "revenue", "refunds"};
    static const char *const segf[] = {"sessions", "users", "events", "purchase_sessions",
        "purchases", "revenue", "refunds", "cart_sessions", "abandoned_cart_sessions",
        "duration_s_sum", "product_view_sessions", "checkout_sessions"};
    char path[CS_PATH_MAX + 20], fmt[32] = "", hash[32] = "", want[32], name[64];
    snprintf(path, sizeof path, "%s/report.h5", x->o->inputs[src]);
    if (access(path, R_OK) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: no report.h5 (not the output directory of a "
                          "finished clickseg run?)", x->o->inputs[src]);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open", path);
    snprintf(want, sizeof want, "%016" PRIx64, config_hash(x->cfg));
    int rc = CS_OK, nseg = x->st.nseg;
    if (h5_attr_get_string(f, "format", fmt, sizeof fmt) != 1 || strcmp(fmt, "clickseg-report"))
        rc = cs_err_set(err, CS_EINPUT, "%s: not a clickseg report", path);
    else if (h5_attr_get_string(f, "config_hash", hash, sizeof hash) != 1)
        rc = cs_err_set(err, CS_EINPUT, "%s: no config_hash (a report from an older "
                        "clickseg? rerun it)", path);
    else if (strcmp(hash, want) != 0)
        rc = cs_err_set(err, CS_ECONFIG, "%s was made with another configuration (config hash "
                        "%s, this merge %s): give merge the runs' config (-c, --set)", path,
                        hash, want);
    char cur[16] = "";
    if (rc == CS_OK && h5_attr_get_string(f, "currency", cur, sizeof cur) == 1 && cur[0]) {
        if (x->currency[0] && strcmp(cur, x->currency) != 0)
            rc = cs_err_set(err, CS_EINPUT, "%s: currency is %s, but %s's is %s; amounts in "
                            "different currencies cannot be summed", path, cur,
                            x->o->inputs[x->currency_src], x->currency);
        else if (!x->currency[0]) {
            memcpy(x->currency, cur, sizeof x->currency);
            x->currency_src = src;
        }
    }
    int64_t v[CS_MAX_SEGMENTS * CS_HIST_BINS];
    int64_t *tot = &x->st.tot.rows_read;   /* cs_totals is a flat run of int64 in this order */
    for (size_t i = 0; rc == CS_OK && i < sizeof totals / sizeof *totals; i++) {
        snprintf(name, sizeof name, "totals/%s", totals[i]);
        rc = read_all_i64(f, path, name, v, 1, err);
        if (rc == CS_OK)
            tot[i] += v[0];
    }
    for (size_t k = 0; rc == CS_OK && k < sizeof segf / sizeof *segf; k++) {
        snprintf(name, sizeof name, "segments/%s", segf[k]);
        rc = read_all_i64(f, path, name, v, (uint64_t)nseg, err);
        for (int s = 0; rc == CS_OK && s < nseg; s++)
            (&x->st.seg[s].sessions)[k] += v[s];
    }
    for (int h = 0; rc == CS_OK && h < 2; h++)
        rc = add_hist(x, f, path, h, v, err);
    if (rc == CS_OK)
        rc = add_periods(x, f, path, src, err);
    if (rc == CS_OK)
        rc = add_dictionary(x, f, err);
    H5Fclose(f);
    return rc;
}

/* ---- customers.h5 and sessions.h5, every rank ---- */

/* Collective: rows [lo, lo + n) of dataset g/name as mtype into buf. */
static int read_slab(hid_t g, const char *path, const char *name, hid_t mtype, uint64_t lo,
                     uint64_t n, void *buf, cs_err *err)
{
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "%s: no column %s", path, name);
    herr_t rc = h5_read_rows(d, mtype, lo, n, buf);
    H5Dclose(d);
    return rc < 0 ? h5_fail(err, CS_EINPUT, "%s: reading %s", path, name) : CS_OK;
}

/* Collective: opens dir/file's group; *lo, *n: this rank's even slab. */
static int open_table(const cs_comm *c, const char *dir, const char *file, const char *group,
                      char *path, size_t pn, hid_t *f, hid_t *g, uint64_t *lo, uint64_t *n,
                      cs_err *err)
{
    snprintf(path, pn, "%s/%s", dir, file);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL);
    *f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    *g = *f < 0 ? -1 : H5Gopen2(*f, group, H5P_DEFAULT);
    int64_t total = *g < 0 ? -1 : rows_of(*g, "user_id");
    if (total < 0) {
        if (*g >= 0) H5Gclose(*g);
        if (*f >= 0) H5Fclose(*f);
        *f = *g = -1;
        return h5_fail(err, CS_EINPUT, "%s: cannot read /%s/user_id", path, group);
    }
    *lo = (uint64_t)total * (uint64_t)c->rank / (uint64_t)c->size;
    *n = (uint64_t)total * (uint64_t)(c->rank + 1) / (uint64_t)c->size - *lo;
    return CS_OK;
}

static void close_table(hid_t f, hid_t g)
{
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
}

/* One row of a run's customers.h5 on its way to the user's owner: the
 * columns merge adds up (user_id first: shuffle_route routes by it). */
typedef struct cust_row {
    uint64_t user_id;
    int64_t events, sessions, purchase_sessions, purchases, revenue, refunds, first_ts, last_ts,
        cart_abandons, cart_removes;
    uint32_t seg_sessions[CS_MAX_SEGMENTS];
    int16_t profile[CS_MAX_PROFILE_COLS];   /* -1: the run had no profile for the user */
} cust_row;

/* Room for the profile values of the users at positions below n. */
static int prof_reserve(merge_ctx *x, uint64_t n, cs_err *err)
{
    if (n <= x->prof_cap)
        return CS_OK;
    uint64_t cap = x->prof_cap ? x->prof_cap : 1024;
    while (cap < n)
        cap *= 2;
    uint8_t *p = cs_realloc(x->prof, cap * CS_MAX_PROFILE_COLS, err, "customer profiles");
    if (!p)
        return CS_ENOMEM;
    memset(p + x->prof_cap * CS_MAX_PROFILE_COLS, CS_PROFILE_UNKNOWN,
           (cap - x->prof_cap) * CS_MAX_PROFILE_COLS);
    x->prof = p;
    x->prof_cap = cap;
    return CS_OK;
}

/* Adds the routed rows of one run into this rank's table. A profile value
 * a run knows replaces an earlier run's, as a later profile table's does
 * in one run over all the inputs. */
static int merge_users(merge_ctx *x, const cust_row *r, uint64_t n, cs_err *err)
{
    cs_users *t = &x->users;
    int nseg = x->st.nseg;
    for (uint64_t i = 0; i < n; i++) {
        cs_user *u = users_get(t, r[i].user_id, err);
        if (!u || prof_reserve(x, t->n, err) != CS_OK)
            return CS_ENOMEM;
        uint8_t *pv = x->prof + (uint64_t)(u - t->slot) * CS_MAX_PROFILE_COLS;
        for (int p = 0; p < x->nprof; p++)
            if (r[i].profile[p] >= 0) {
                x->prof_conflicts += pv[p] != CS_PROFILE_UNKNOWN && pv[p] != r[i].profile[p];
                pv[p] = (uint8_t)r[i].profile[p];
            }
        u->events += r[i].events;
        u->sessions += r[i].sessions;
        u->purchase_sessions += r[i].purchase_sessions;
        u->purchases += r[i].purchases;
        u->revenue += r[i].revenue;
        u->refunds += r[i].refunds;
        u->cart_abandons += r[i].cart_abandons;
        u->cart_removes += r[i].cart_removes;
        if (r[i].first_ts < u->first_ts) u->first_ts = r[i].first_ts;
        if (r[i].last_ts > u->last_ts) u->last_ts = r[i].last_ts;
        for (int s = 0; s < nseg; s++)
            users_seg(t, u, s)->sessions += r[i].seg_sessions[s];
    }
    return CS_OK;
}

/* Field k of a customer row: the columns of customers.h5 in order, then
 * sessions_<segment> from k = NCUST_COLS. */
#define NCUST_COLS 10
static void set_customer_field(cust_row *u, int k, int64_t v)
{
    switch (k) {
    case 0: u->events = v; break;
    case 1: u->sessions = v; break;
    case 2: u->purchase_sessions = v; break;
    case 3: u->purchases = v; break;
    case 4: u->revenue = v; break;
    case 5: u->refunds = v; break;
    case 6: u->first_ts = v; break;
    case 7: u->last_ts = v; break;
    case 8: u->cart_abandons = v; break;
    case 9: u->cart_removes = v; break;
    default: u->seg_sessions[k - NCUST_COLS] = (uint32_t)v; break;
    }
}

/* The profile columns of a customers table (profile_<col>, by name). */
typedef struct prof_list {
    int n;
    char names[CS_MAX_PROFILE_COLS][48];
} prof_list;

static herr_t list_profile(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g; (void)info;
    prof_list *pl = data;
    if (strncmp(name, "profile_", 8) == 0 && pl->n < CS_MAX_PROFILE_COLS)
        snprintf(pl->names[pl->n++], sizeof pl->names[0], "%s", name + 8);
    return 0;
}

/* Every rank: the table's profile columns become the merge's (the first
 * run with any sets them; a run with none adds unknown values); *here: how
 * many this table has (0 or the merge's). CS_EINPUT when two runs have
 * different ones. */
static int check_profiles(merge_ctx *x, hid_t g, const char *path, int *here, cs_err *err)
{
    prof_list pl;
    memset(&pl, 0, sizeof pl);
    *here = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, list_profile, &pl) < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot list /customers", path);
    if (pl.n == 0)
        return CS_OK;
    *here = pl.n;
    int first = x->nprof == 0;
    if (first) {
        x->nprof = pl.n;
        memcpy(x->prof_cols, pl.names, sizeof pl.names);
    } else if (pl.n != x->nprof || memcmp(pl.names, x->prof_cols, sizeof pl.names) != 0) {
        return cs_err_set(err, CS_EINPUT, "%s: its profile columns are not those of the runs "
                          "before it; merge runs made with the same profile tables", path);
    }
    for (int k = 0; k < pl.n; k++) {
        char dn[64], v[CS_PROFILE_VALUES_MAX] = "";
        snprintf(dn, sizeof dn, "profile_%s", pl.names[k]);
        hid_t d = H5Dopen2(g, dn, H5P_DEFAULT);
        if (d < 0 || h5_attr_get_string(d, "values", v, sizeof v) != 1)
            v[0] = '\0';
        if (d >= 0)
            H5Dclose(d);
        H5Eclear2(H5E_DEFAULT);
        if (first)
            memcpy(x->prof_values[k], v, sizeof v);
        else if (strcmp(x->prof_values[k], v) != 0)
            x->prof_values[k][0] = '\0';
    }
    return CS_OK;
}

/* Collective: one run's customers.h5 into the merged table. */
static int add_customers(merge_ctx *x, const char *dir, cs_err *err)
{
    static const char *const cols[NCUST_COLS] = {"events", "sessions", "purchase_sessions",
        "purchases", "revenue", "refunds", "first_ts", "last_ts", "cart_abandons", "cart_removes"};
    char path[CS_PATH_MAX + 20], name[112];
    hid_t f, g;
    uint64_t lo = 0, n = 0, ngot = 0;
    int nprof = 0;   /* this run's profile columns: the merge's, or none */
    if (open_table(x->c, dir, "customers.h5", "customers", path, sizeof path, &f, &g, &lo, &n,
                   err) == CS_OK)
        check_profiles(x, g, path, &nprof, err);
    int rc = comm_agree(x->c, err);
    if (rc != CS_OK) {
        close_table(f, g);
        return rc;
    }
    cust_row *r = cs_calloc(n + 1, sizeof *r, err, "customer rows");
    int64_t *v = cs_malloc((n + 1) * sizeof *v, err, "customer rows");
    uint64_t *ids = cs_malloc((n + 1) * sizeof *ids, err, "customer rows");
    rc = comm_agree(x->c, err);
    if (rc == CS_OK) {
        read_slab(g, path, "user_id", H5T_NATIVE_UINT64, lo, n, ids, err);
        rc = comm_agree(x->c, err);
        for (uint64_t i = 0; i < n; i++) {
            r[i].user_id = ids[i];
            for (int p = 0; p < CS_MAX_PROFILE_COLS; p++)
                r[i].profile[p] = -1;
        }
    }
    int nfields = NCUST_COLS + x->st.nseg;
    for (int k = 0; rc == CS_OK && k < nfields + nprof; k++) {
        if (k < NCUST_COLS)
            snprintf(name, sizeof name, "%s", cols[k]);
        else if (k < nfields)
            snprintf(name, sizeof name, "sessions_%s", x->cfg->rules.segments[k - NCUST_COLS]);
        else
            snprintf(name, sizeof name, "profile_%s", x->prof_cols[k - nfields]);
        read_slab(g, path, name, H5T_NATIVE_INT64, lo, n, v, err);
        rc = comm_agree(x->c, err);
        for (uint64_t i = 0; rc == CS_OK && i < n; i++) {
            if (k < nfields)
                set_customer_field(&r[i], k, v[i]);
            else   /* -1 (unknown) .. 254, as written */
                r[i].profile[k - nfields] = (int16_t)(v[i] < 0 || v[i] >= CS_PROFILE_UNKNOWN ? -1 : v[i]);
        }
    }
    close_table(f, g);
    cust_row *got = NULL;
    if (rc == CS_OK)
        rc = shuffle_route(x->c, r, n, sizeof *r, NULL, NULL, (void **)&got, &ngot, NULL, NULL,
                           err);
    if (rc == CS_OK) {
        merge_users(x, got, ngot, err);
        rc = comm_agree(x->c, err);
    }
    free(r); free(v); free(ids); free(got);
    return rc;
}

/* Collective: one run's sessions.h5 rows, this rank's even slab of them,
 * appended to its spool a block at a time (every rank makes as many
 * collective reads as the one with the most blocks). */
static int add_sessions(merge_ctx *x, const char *dir, cs_err *err)
{
    char path[CS_PATH_MAX + 20];
    hid_t f, g;
    uint64_t lo = 0, n = 0;
    open_table(x->c, dir, "sessions.h5", "sessions", path, sizeof path, &f, &g, &lo, &n, err);
    int rc = comm_agree(x->c, err);
    if (rc != CS_OK)
        return rc;
    int64_t blocks = (int64_t)((n + CS_SPOOL_BLOCK - 1) / CS_SPOOL_BLOCK);
    cs_session *s = cs_calloc(CS_SPOOL_BLOCK, sizeof *s, err, "session rows");
    int64_t *v = s ? cs_malloc(CS_SPOOL_BLOCK * sizeof *v, err, "session rows") : NULL;
    uint8_t *seg = (uint8_t *)(void *)v;
    rc = comm_agree(x->c, err);
    if (rc == CS_OK)
        rc = comm_max_i64(x->c, &blocks, 1, 1, err);
    hid_t et = report_segment_enum(&x->cfg->rules);
    for (int64_t b = 0; rc == CS_OK && b < blocks; b++) {
        uint64_t at = (uint64_t)b * CS_SPOOL_BLOCK;
        uint64_t m = at < n ? (n - at < CS_SPOOL_BLOCK ? n - at : CS_SPOOL_BLOCK) : 0;
        for (int k = 0; rc == CS_OK && k < REPORT_SESSION_COLS; k++) {
            hid_t mt;
            const char *name = report_session_column(k, et, &mt);
            read_slab(g, path, name, mt, lo + at, m, v, err);
            rc = comm_agree(x->c, err);
            for (uint64_t i = 0; rc == CS_OK && i < m; i++) {
                if (k == 0) s[i].user_id = (uint64_t)v[i];
                else if (k == 1) s[i].start_ts = v[i];
                else if (k == 2) s[i].end_ts = v[i];
                else if (k == 3) s[i].segment = seg[i];
                else s[i].f.v[k - 4] = v[i];
            }
        }
        int added = rc;
        for (uint64_t i = 0; added == CS_OK && i < m; i++)
            added = spool_add(&x->spool, &s[i], err);
        if (rc == CS_OK)
            rc = comm_agree(x->c, err);   /* err holds a failed add */
    }
    H5Tclose(et);
    close_table(f, g);
    free(v); free(s);
    return rc;
}

/* ---- the merge ---- */

static int prolog(merge_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    int rc = stats_init(&x->st, x->cfg->rules.nsegments, err);
    if (rc == CS_OK)
        rc = users_init(&x->users, 1024, x->cfg->rules.nsegments, err);
    if (rc == CS_OK && c->rank == 0) {
        if (x->o->ninputs == 0)
            rc = cs_err_set(err, CS_EUSAGE, "no report directories to merge");
        x->sessions = 1;
        for (int i = 0; rc == CS_OK && i < x->o->ninputs; i++) {
            char p[CS_PATH_MAX + 20];
            snprintf(p, sizeof p, "%s/sessions.h5", x->o->inputs[i]);
            x->sessions &= access(p, R_OK) == 0;
            rc = add_report(x, i, err);
        }
        /* Users are counted again from the merged customer tables. */
        x->st.tot.users = 0;
        for (int s = 0; s < x->st.nseg; s++)
            x->st.seg[s].users = 0;
        if (rc == CS_OK &&
            fs_lock_output(x->cfg->output_dir, &x->lock_fd, err) == CS_OK)   /* as run's prolog */
            fs_begin_output(x->cfg->output_dir, report_outputs, x->o->force, x->outtmp,
                            sizeof x->outtmp, err);
    }
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    rc = comm_bcast(c, x->outtmp, sizeof x->outtmp, err);
    if (rc == CS_OK)
        rc = comm_bcast(c, &x->sessions, sizeof x->sessions, err);
    if (rc == CS_OK && x->sessions) {
        spool_open(&x->spool, x->outtmp, c->rank, err);
        rc = comm_agree(c, err);
    }
    return rc;
}

/* Rank 0: the merged targets' and prospects' user keys from the runs'
 * dictionaries, as each run showed its own; a note when one is gone. */
static int merged_target_keys(merge_ctx *x, cs_err *err)
{
    const char **d = cs_calloc((size_t)x->ndicts, sizeof *d, err, "dictionary list");
    if (!d)
        return CS_ENOMEM;
    for (int i = 0; i < x->ndicts; i++)
        d[i] = x->dicts[i];
    char gone[PATH_MAX];
    int rc = userkeys_for_ranking(&x->ranking, d, x->ndicts, gone, sizeof gone, err);
    free(d);
    if (rc == CS_OK && gone[0])
        fprintf(stderr, "clickseg merge: note: %s, the user dictionary of a run, is gone: "
                "targets %s show hashed ids only\n", gone,
                x->ranking.target_keys ? "whose users it alone knew" : "and prospects");
    return rc;
}

static int write_outputs(merge_ctx *x, double t0, cs_err *err)
{
    const cs_comm *c = x->c;
    x->st.tot.users += (int64_t)x->users.n;
    for (uint64_t i = 0; i < x->users.n; i++)
        for (int s = 0; x->users.slot[i].used && s < x->st.nseg; s++)
            x->st.seg[s].users += users_seg_sessions(&x->users, &x->users.slot[i], s) > 0;
    int rc = stats_reduce(c, &x->st, err);
    /* Rankings are recomputed over the merged customers, as one run over the
     * whole span would: recency counts from the last event of any input. */
    int64_t t_end = INT64_MIN;
    for (uint64_t i = 0; i < x->users.n; i++)
        if (x->users.slot[i].last_ts > t_end)
            t_end = x->users.slot[i].last_ts;
    if (rc == CS_OK)
        rc = comm_max_i64(c, &t_end, 1, 1, err);
    if (rc == CS_OK) {
        if (users_rank_alloc(&x->users, err) == CS_OK && x->prof)
            for (uint64_t i = 0; i < x->users.n; i++)
                memcpy(x->users.rank[i].profile, x->prof + i * CS_MAX_PROFILE_COLS,
                       CS_MAX_PROFILE_COLS);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK)
        rc = rank_customers_profiled(c, x->cfg, x->nprof, (const char (*)[48])x->prof_cols,
                                     (const char (*)[CS_PROFILE_VALUES_MAX])x->prof_values,
                                     &x->users, t_end, &x->ranking, err);
    if (rc == CS_OK)
        rc = comm_sum_i64(c, &x->prof_conflicts, 1, 0, err);
    x->ranking.profile_conflicts = x->prof_conflicts;
    if (rc == CS_OK)
        rc = report_write_customers(c, x->outtmp, &x->users, &x->cfg->rules, &x->ranking,
                                    (uint64_t)x->cfg->memory_per_rank / 16, err);
    if (rc == CS_OK && x->sessions)
        rc = report_write_sessions(c, x->outtmp, &x->spool, &x->cfg->rules,
                                   (uint64_t)x->cfg->memory_per_rank / 16, err);
    spool_close(&x->spool);   /* before the outputs move: see run.c's epilog */
    if (rc != CS_OK)
        return rc;
    cs_run_meta m;
    memset(&m, 0, sizeof m);
    m.ranks = c->size;
    m.files = x->o->ninputs;
    m.total_rows = (uint64_t)x->st.tot.rows_read;
    m.config_hash = config_hash(x->cfg);
    snprintf(m.currency, sizeof m.currency, "%s", x->currency);
    /* the runs' dictionaries, so a merge of merged reports finds the keys */
    for (int i = 0, at = 0; i < x->ndicts; i++)
        if (strlen(x->dicts[i]) + 2 < sizeof m.dictionaries - (size_t)at)
            at += snprintf(m.dictionaries + at, sizeof m.dictionaries - (size_t)at, "%s%s",
                           at ? "\n" : "", x->dicts[i]);
    size_t used = 0;
    for (int i = 0; i < x->o->ninputs && used < sizeof m.inputs; i++)
        used += (size_t)snprintf(m.inputs + used, sizeof m.inputs - used, "%s%s", i ? "," : "",
                                 x->o->inputs[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m.peak_rss_kb_max = m.peak_rss_kb_rank0 = (int64_t)ru.ru_maxrss;
    m.wall_s = timer_now() - t0;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m.started_utc, sizeof m.started_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const cs_totals *t = &x->st.tot;
    if (c->rank == 0 && t->rows_read != t->events + t->late_events + t->rejected_events)
        cs_err_set(err, CS_EINPUT, "the reports' row counts do not add up (%" PRId64 " rows "
                   "read, %" PRId64 " used + %" PRId64 " late + %" PRId64 " rejected)",
                   t->rows_read, t->events, t->late_events, t->rejected_events);
    if (err->code == CS_OK && c->rank == 0 && x->ndicts)
        merged_target_keys(x, err);
    if (err->code == CS_OK && c->rank == 0)
        report_write_summary(x->outtmp, x->cfg, &x->st, &x->ranking, &m, err);
    if (err->code == CS_OK && c->rank == 0)
        fs_commit_output(x->outtmp, x->cfg->output_dir, report_outputs, err);
    rc = comm_agree(c, err);
    if (rc == CS_OK && c->rank == 0 && !x->o->quiet)
        printf("clickseg merge: %d reports, %lld events, %lld sessions, %lld users, %llu "
               "periods; report in %s/report.json\n", x->o->ninputs, (long long)t->events,
               (long long)t->sessions, (long long)t->users, (unsigned long long)x->st.nperiods,
               x->cfg->output_dir);
    if (rc == CS_OK && c->rank == 0 && x->prof_conflicts > 0)   /* a warning: even with -q */
        fprintf(stderr, "clickseg merge: note: the runs give %lld profile values differently for "
                "the same users; the later run's (in the order given) wins "
                "(report.json ranking.profile_conflicts)\n", (long long)x->prof_conflicts);
    return rc;
}

int merge_reports(const cs_comm *c, const cs_config *cfg, const cs_merge_opts *o, cs_err *err)
{
    double t0 = timer_now();
    merge_ctx x;
    memset(&x, 0, sizeof x);
    spool_init(&x.spool);
    x.lock_fd = -1;
    x.c = c;
    x.cfg = cfg;
    x.o = o;
    int rc = prolog(&x, err);
    for (int i = 0; rc == CS_OK && i < o->ninputs; i++) {
        rc = add_customers(&x, o->inputs[i], err);
        if (rc == CS_OK && x.sessions)
            rc = add_sessions(&x, o->inputs[i], err);
    }
    if (rc == CS_OK)
        rc = write_outputs(&x, t0, err);
    spool_close(&x.spool);   /* before the directory it was made in goes */
    if (rc != CS_OK && c->rank == 0 && x.outtmp[0])
        fs_abandon_output(x.outtmp);
    if (c->rank == 0)
        fs_unlock_output(cfg->output_dir, x.lock_fd);
    stats_free(&x.st);
    rank_free(&x.ranking);
    free(x.dicts);
    users_free(&x.users);
    free(x.seen_key);
    free(x.seen_src);
    free(x.prof);
    return rc;
}
