/* merge_tables.c — the runs' customers.h5 and sessions.h5 read for
 * `clickseg merge` (merge.c calls it once per run, on every rank): each
 * rank reads a slab, customer rows go to the user's owner rank and are
 * added there, sessions are appended to the ranks' spools. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/h5util.h"
#include "clickseg/report.h"
#include "clickseg/shuffle.h"

#include "merge_priv.h"

/* Collective: rows [lo, lo + n) of dataset g/name as mtype into buf; the
 * open agreed first, so a rank whose open failed alone does not leave the
 * others in the read. */
static int read_slab(const cs_comm *c, hid_t g, const char *path, const char *name,
                     hid_t mtype, uint64_t lo, uint64_t n, void *buf, cs_err *err)
{
    hid_t d;
    uint64_t rows;
    if (h5_open_agreed(c, g, name, &d, &rows, err) != CS_OK)
        return cs_err_wrap(err, "%s", path);
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
    int64_t total = *g < 0 ? -1 : merge_rows_of(*g, "user_id");
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
int merge_add_customers(merge_ctx *x, const char *dir, cs_err *err)
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
        read_slab(x->c, g, path, "user_id", H5T_NATIVE_UINT64, lo, n, ids, err);
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
        read_slab(x->c, g, path, name, H5T_NATIVE_INT64, lo, n, v, err);
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
int merge_add_sessions(merge_ctx *x, const char *dir, cs_err *err)
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
            read_slab(x->c, g, path, name, mt, lo + at, m, v, err);
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
