/* report_tables.c — the parallel per-user and per-session tables,
 * customers.h5 and sessions.h5 (see report.h): every rank writes its own
 * rows of each column dataset at an offset from an exclusive prefix sum;
 * run and merge call them at the end of a job. */
#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/h5util.h"
#include "clickseg/report.h"
#include "clickseg/sort.h"
#include "clickseg/users.h"

/* ---- a parallel column table ---- */

typedef struct ptable {
    hid_t file, group, dxpl;
    uint64_t total, offset, n;
    const char *path;
    const cs_comm *c;
    int sessions;   /* the sessions table: its `refunds` is a count of events */
} ptable;

/* Collective: creates the file, sets aside room for its n rows (this
 * rank's) of row_bytes each (h5_reserve), and makes the group. */
static int ptable_open(const cs_comm *c, ptable *t, const char *path, const char *group,
                       uint64_t n, uint64_t row_bytes, cs_err *err)
{
    memset(t, 0, sizeof *t);
    t->group = t->dxpl = -1;
    t->path = path;
    t->c = c;
    t->sessions = strcmp(group, "sessions") == 0;
    t->n = n;
    int64_t total = (int64_t)n;
    if (comm_exscan_u64(c, n, &t->offset, err) != CS_OK || comm_sum_i64(c, &total, 1, 1, err) != CS_OK)
        return err->code;
    t->total = (uint64_t)total;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL);
    t->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (t->file < 0)
        return h5_fail(err, CS_EIO, "%s: cannot create", path);
    if (h5_reserve(c, path, t->total * row_bytes, err) != CS_OK)
        return cs_err_wrap(err, "%s", path);
    t->group = h5_group_create(t->file, group);
    t->dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(t->dxpl, H5FD_MPIO_INDEPENDENT);
    return t->group < 0 ? h5_fail(err, CS_EIO, "%s: cannot create group", path) : CS_OK;
}

/* The unit of a column, from its name, for its `units` attribute (NULL:
 * a count or a code), so h5py readers need not look it up. */
static const char *column_units(const ptable *t, const char *name)
{
    if (report_name_ends(name, "_ts"))
        return "microseconds since 1970-01-01 00:00:00 UTC";
    if (strcmp(name, "revenue") == 0 || (strcmp(name, "refunds") == 0 && !t->sessions) ||
        strcmp(name, "monetary") == 0 || strcmp(name, "refund_amount") == 0)
        return "minor currency units (cents)";
    if (report_name_ends(name, "_ms"))
        return "milliseconds";
    if (report_name_ends(name, "_s"))
        return "seconds";
    if (report_name_ends(name, "_days"))
        return "days";
    return NULL;
}

/* Collective: column `name` of the table, with its units attribute. */
static hid_t ptable_create(ptable *t, const char *name, hid_t ftype, cs_err *err)
{
    hsize_t dims[1] = {t->total};
    hid_t fs = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(t->group, name, ftype, fs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(fs);
    if (d < 0)
        h5_fail(err, CS_EIO, "%s: creating column %s", t->path, name);
    const char *units = d >= 0 ? column_units(t, name) : NULL;
    if (units && h5_attr_string(d, "units", units, err) != CS_OK) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

/* Independent: rows [t->offset + at, + count) of column d from buf. */
static int ptable_write(ptable *t, hid_t d, const char *name, hid_t mtype, uint64_t at,
                        uint64_t count, const void *buf, cs_err *err)
{
    if (count == 0)
        return CS_OK;
    hsize_t dims[1] = {t->total}, st[1] = {t->offset + at}, cnt[1] = {count};
    hid_t fs = H5Screate_simple(1, dims, NULL), ms = H5Screate_simple(1, cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    herr_t rc = H5Dwrite(d, mtype, ms, fs, t->dxpl, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? h5_fail(err, CS_EIO, "%s: writing column %s", t->path, name) : CS_OK;
}

/* Collective: err holds this rank's status of the writing (the output
 * directory goes after a failure, the file first emptied to close). */
static int ptable_close(ptable *t, cs_err *err)
{
    if (t->dxpl >= 0)
        H5Pclose(t->dxpl);
    if (t->group >= 0)
        H5Gclose(t->group);
    return h5_close_file(t->c, t->file, t->path, err);
}

/* ---- customers.h5 ---- */

enum { CU_EVENTS, CU_SESSIONS, CU_PURCHASE_SESSIONS, CU_PURCHASES, CU_REVENUE, CU_REFUNDS,
       CU_FIRST_TS, CU_LAST_TS, CU_CART_ABANDONS, CU_CART_REMOVES, CU_RECENCY, CU_FREQUENCY, CU_MONETARY, CU_R, CU_F, CU_M,
       CU_INTENT, CU_RISK, CU_SCORE, CU_NFIXED };
static const char *const cu_names[CU_NFIXED] = {"events", "sessions", "purchase_sessions",
    "purchases", "revenue", "refunds", "first_ts", "last_ts", "cart_abandons", "cart_removes",
    "recency_days", "frequency",
    "monetary", "r_score", "f_score", "m_score", "intent", "risk", "score"};

static int64_t cu_value(const cs_user *u, const cs_user_rank *rk, int k, int64_t t_end)
{
    switch (k) {
    case CU_CART_ABANDONS: return u->cart_abandons;
    case CU_CART_REMOVES: return u->cart_removes;
    case CU_RECENCY: return rank_recency_days(u, t_end);
    case CU_FREQUENCY: return u->purchase_sessions;
    case CU_MONETARY: return rank_monetary(u);
    case CU_R: return rk->r_score;
    case CU_F: return rk->f_score;
    case CU_M: return rk->m_score;
    case CU_INTENT: return rk->intent;
    case CU_RISK: return rk->risk;
    case CU_SCORE: return rk->score;
    case CU_EVENTS: return u->events;
    case CU_SESSIONS: return u->sessions;
    case CU_PURCHASE_SESSIONS: return u->purchase_sessions;
    case CU_PURCHASES: return u->purchases;
    case CU_REVENUE: return u->revenue;
    case CU_REFUNDS: return u->refunds;
    case CU_FIRST_TS: return u->first_ts;
    default: return u->last_ts;
    }
}

/* An enum type of `n` names from fn (tiers, RFM segments). */
static hid_t names_enum(const char *(*fn)(int), int n)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    for (int i = 0; i < n; i++) {
        uint8_t v = (uint8_t)i;
        H5Tenum_insert(t, fn(i), &v);
    }
    return t;
}

/* The customers table has CU_COLS columns at most: user_id, the fixed
 * ones, one per segment, tier, RFM segment and one per profile column. */
#define CU_COLS (1 + CU_NFIXED + CS_MAX_SEGMENTS + 2 + CS_MAX_PROFILE_COLS)
#define CU_BLOCK_MIN 1024
#define CU_BLOCK_MAX 131072   /* rows gathered at a time, at most (see report.h) */
#define CU_AHEAD 10      /* rows prefetched ahead */

typedef struct cu_writer {
    ptable t;
    hid_t d[CU_COLS];
    hid_t mt[CU_COLS];   /* memory type of each column */
    hid_t ft[CU_COLS];   /* its file type */
    hid_t tier_t, rfm_t; /* the enum types of tier and rfm_segment */
    char name[CU_COLS][112];
    int width[CU_COLS];  /* bytes a value in memory and in the file */
    int count_width;     /* 4 (uint32) or 8 (int64): the per-user counts */
    int ncols, nseg, nprof;
    int64_t *buf;        /* CU_COLS x block values (at most 8 bytes each) */
    uint64_t block;      /* rows gathered at a time */
} cu_writer;

/* Column k: its name, its memory type and the file type of the same width. */
static void cu_column(cu_writer *w, int k, const char *name, hid_t mem, hid_t file, int width)
{
    snprintf(w->name[k], sizeof w->name[k], "%s", name);
    w->mt[k] = mem;
    w->ft[k] = file;
    w->width[k] = width;
    w->d[k] = -1;
}

/* Value v into column col (of `width` bytes a value) at row i. */
static inline void cu_put(int64_t *col, int width, uint64_t i, int64_t v)
{
    switch (width) {
    case 1: ((uint8_t *)col)[i] = (uint8_t)v; break;
    case 2: ((int16_t *)col)[i] = (int16_t)v; break;
    case 4: ((uint32_t *)col)[i] = (uint32_t)v; break;
    default: col[i] = v; break;
    }
}

/* Lays out every column, in the table's order (cu_create makes them):
 * their widths size the file before it is made. */
static void cu_plan(cu_writer *w, const cs_rules *rules, const cs_ranking *rk)
{
    int k = 0;
    w->tier_t = names_enum(rank_tier_name, CS_NTIERS);
    w->rfm_t = names_enum(rank_rfm_name, CS_NRFM);
    /* Each column as wide as its values need (the R, F, M, intent and
     * risk steps in a byte, the score in 32 bits, as the user table holds
     * them): a smaller file to write and to load, the same values. */
    cu_column(w, k++, "user_id", H5T_NATIVE_UINT64, H5T_STD_U64LE, 8);
    for (int f = 0; f < CU_NFIXED; f++) {
        int count = f == CU_EVENTS || f == CU_SESSIONS || f == CU_PURCHASE_SESSIONS ||
                    f == CU_PURCHASES || f == CU_CART_ABANDONS || f == CU_CART_REMOVES ||
                    f == CU_FREQUENCY;
        if (count && w->count_width == 4)
            cu_column(w, k++, cu_names[f], H5T_NATIVE_UINT32, H5T_STD_U32LE, 4);
        else if (f == CU_RECENCY)   /* days between two valid times: under 2^22 */
            cu_column(w, k++, cu_names[f], H5T_NATIVE_INT32, H5T_STD_I32LE, 4);
        else if (f == CU_R || f == CU_F || f == CU_M || f == CU_INTENT || f == CU_RISK)
            cu_column(w, k++, cu_names[f], H5T_NATIVE_UINT8, H5T_STD_U8LE, 1);
        else if (f == CU_SCORE)
            cu_column(w, k++, cu_names[f], H5T_NATIVE_INT32, H5T_STD_I32LE, 4);
        else
            cu_column(w, k++, cu_names[f], H5T_NATIVE_INT64, H5T_STD_I64LE, 8);
    }
    char nm[96];
    for (int s = 0; s < w->nseg; s++) {
        snprintf(nm, sizeof nm, "sessions_%s", rules->segments[s]);
        cu_column(w, k++, nm, H5T_NATIVE_UINT32, H5T_STD_U32LE, 4);
    }
    cu_column(w, k++, "tier", w->tier_t, w->tier_t, 1);
    cu_column(w, k++, "rfm_segment", w->rfm_t, w->rfm_t, 1);
    for (int p = 0; p < w->nprof; p++) {
        snprintf(nm, sizeof nm, "profile_%s", rk->profile_cols[p]);
        cu_column(w, k++, nm, H5T_NATIVE_INT16, H5T_STD_I16LE, 2);
    }
    w->ncols = k;
}

/* Collective: creates the columns cu_plan laid out. */
static int cu_create(cu_writer *w, const cs_ranking *rk, cs_err *err)
{
    int rc = CS_OK, prof0 = w->ncols - w->nprof;
    for (int k = 0; k < w->ncols; k++) {
        w->d[k] = ptable_create(&w->t, w->name[k], w->ft[k], err);
        if (w->d[k] < 0) {
            rc = CS_EIO;
            continue;
        }
        /* collective, as the column: the labels go on for merge and readers */
        const char *labels = k >= prof0 ? rk->profile_values[k - prof0] : "";
        if (labels[0] && h5_attr_string(w->d[k], "values", labels, err) != CS_OK)
            rc = CS_EIO;
    }
    return rc;
}

/* Row i of every column (the fixed ones through cu_value and cu_put). */
static void cu_row(const cu_writer *w, int64_t *const *col, uint64_t i, const cs_users *users,
                   const cs_user *u, const cs_user_rank *rk, int64_t t_end)
{
    int c = 0;
    col[c++][i] = (int64_t)u->user_id;
    for (int f = 0; f < CU_NFIXED; f++, c++)
        cu_put(col[c], w->width[c], i, cu_value(u, rk, f, t_end));
    for (int s = 0; s < w->nseg; s++, c++)
        cu_put(col[c], 4, i, users_seg_sessions(users, u, s));
    cu_put(col[c++], 1, i, rk->tier);
    cu_put(col[c++], 1, i, rk->rfm);
    for (int p = 0; p < w->nprof; p++, c++)
        cu_put(col[c], 2, i, rk->profile[p] == CS_PROFILE_UNKNOWN ? -1 : rk->profile[p]);
}

/* The same row when the counts are 32-bit (cu_create: every rank's counts
 * fit, the usual case): each value stored straight into its typed column,
 * with no switch on the column and its width per value (measured at 10^8
 * events, 2 ranks: the gather took 0.17 s of a rank's CPU for 1.9 million
 * rows of 26 columns; the write phase 0.31 -> 0.28 s). */
static inline void cu_row32(const cu_writer *w, int64_t *const *col, uint64_t i,
                            const cs_users *users, const cs_user *u, const cs_user_rank *rk,
                            int64_t t_end)
{
#define C32(f) ((uint32_t *)(void *)col[1 + (f)])[i]
#define C8(f) ((uint8_t *)(void *)col[1 + (f)])[i]
    col[0][i] = (int64_t)u->user_id;
    C32(CU_EVENTS) = (uint32_t)u->events;
    C32(CU_SESSIONS) = (uint32_t)u->sessions;
    C32(CU_PURCHASE_SESSIONS) = (uint32_t)u->purchase_sessions;
    C32(CU_PURCHASES) = (uint32_t)u->purchases;
    col[1 + CU_REVENUE][i] = u->revenue;
    col[1 + CU_REFUNDS][i] = u->refunds;
    col[1 + CU_FIRST_TS][i] = u->first_ts;
    col[1 + CU_LAST_TS][i] = u->last_ts;
    C32(CU_CART_ABANDONS) = (uint32_t)u->cart_abandons;
    C32(CU_CART_REMOVES) = (uint32_t)u->cart_removes;
    C32(CU_RECENCY) = (uint32_t)rank_recency_days(u, t_end);
    C32(CU_FREQUENCY) = (uint32_t)u->purchase_sessions;
    col[1 + CU_MONETARY][i] = rank_monetary(u);
    C8(CU_R) = rk->r_score;
    C8(CU_F) = rk->f_score;
    C8(CU_M) = rk->m_score;
    C8(CU_INTENT) = rk->intent;
    C8(CU_RISK) = rk->risk;
    C32(CU_SCORE) = (uint32_t)rk->score;
#undef C32
#undef C8
    int c = 1 + CU_NFIXED;
    for (int s = 0; s < w->nseg; s++, c++)
        ((uint32_t *)(void *)col[c])[i] = users_seg_sessions(users, u, s);
    ((uint8_t *)(void *)col[c++])[i] = rk->tier;
    ((uint8_t *)(void *)col[c++])[i] = rk->rfm;
    for (int p = 0; p < w->nprof; p++, c++)
        ((int16_t *)(void *)col[c])[i] =
            (int16_t)(rk->profile[p] == CS_PROFILE_UNKNOWN ? -1 : rk->profile[p]);
}

/* Rows [at, at + m) of this rank: users kv[at..) (in key order),
 * gathered once each (fetched a few rows ahead) into every column. */
static int cu_block(cu_writer *w, const cs_users *users, const cs_kv *kv, uint64_t at,
                    uint64_t m, int64_t t_end, cs_err *err)
{
    int64_t *col[CU_COLS];
    for (int c = 0; c < w->ncols; c++)
        col[c] = w->buf + (size_t)c * w->block;
    for (uint64_t i = 0; i < m; i++) {
        /* Entries are scattered over the table: fetch the lines a row
         * reads (entries are line aligned, users.h) and its ranking far
         * enough ahead to hide the memory latency. */
        if (at + i + CU_AHEAD < users->n) {
            uint64_t pos = kv[at + i + CU_AHEAD].val;
            const char *p = (const char *)&users->slot[pos];
            __builtin_prefetch(p);
            __builtin_prefetch(p + 64);
            __builtin_prefetch(&users->rank[pos]);
            if (w->nseg > CS_HOT_SEGMENTS)
                __builtin_prefetch(&users->more_seg[pos * (uint64_t)users->nmore]);
        }
        uint64_t pos = kv[at + i].val;
        if (w->count_width == 4)
            cu_row32(w, col, i, users, &users->slot[pos], &users->rank[pos], t_end);
        else
            cu_row(w, col, i, users, &users->slot[pos], &users->rank[pos], t_end);
    }
    int rc = CS_OK;
    for (int c = 0; rc == CS_OK && c < w->ncols; c++)
        rc = ptable_write(&w->t, w->d[c], w->name[c], w->mt[c], at, m, col[c], err);
    return rc;
}

int report_write_customers(const cs_comm *c, const char *dir, const cs_users *users,
                           const cs_rules *rules, const cs_ranking *rk, uint64_t buffer_bytes,
                           cs_err *err)
{
    uint64_t n = users->n;
    /* Rows in the rank's key order (cs_user_key: a bijection of user_id, so
     * the order is total and the same whatever the windows or resumes).
     * The table holds each window's new users in that order, one run after
     * another, so the gather below walks a few runs forwards instead of
     * jumping over the whole table for each row as user_id order did
     * (measured at 10^8 events, 2 ranks: 0.33-0.43 s -> 0.12-0.15 s). */
    cs_kv *kv = cs_malloc((2 * n + 1) * sizeof *kv, err, "customers order");
    cu_writer w;
    memset(&w, 0, sizeof w);
    w.nseg = rules->nsegments;
    w.nprof = rk->nprofile_cols;
    /* Measured at 10^8 events, 2 ranks: blocks of 131072 rows instead of
     * 16384 took the write phase from 0.35-0.41 to 0.28-0.33 s (both
     * ranks write the one file, and each write holds it for the other). */
    w.block = buffer_bytes / (CU_COLS * sizeof *w.buf);
    w.block = w.block < CU_BLOCK_MIN ? CU_BLOCK_MIN : w.block > CU_BLOCK_MAX ? CU_BLOCK_MAX : w.block;
    w.block = n < w.block ? (n ? n : 1) : w.block;
    w.buf = kv ? cs_malloc((size_t)CU_COLS * w.block * sizeof *w.buf, err, "customers table")
               : NULL;
    /* The largest count of any user on any rank picks the counts' width:
     * uint32 unless a value needs more (one user id collecting billions of
     * events), the same for every rank's rows. */
    int64_t most = 0;
    if (w.buf) {
        for (uint64_t i = 0; i < n; i++) {
            const cs_user *u = &users->slot[i];
            kv[i] = (cs_kv){cs_user_key(u->user_id), i};
            int64_t m = u->events > u->sessions ? u->events : u->sessions;
            m = u->purchases > m ? u->purchases : m;
            m = u->cart_removes > m ? u->cart_removes : m;
            most = m > most ? m : most;
        }
        sort_kv(kv, kv + n, n, err);
    }
    if (comm_agree(c, err) != CS_OK || comm_max_i64(c, &most, 1, 1, err) != CS_OK) {
        free(kv);
        free(w.buf);
        return err->code;
    }
    w.count_width = most <= (int64_t)UINT32_MAX ? 4 : 8;
    char path[1300];
    snprintf(path, sizeof path, "%s/customers.h5", dir);
    cu_plan(&w, rules, rk);
    uint64_t row_bytes = 0;
    for (int k = 0; k < w.ncols; k++)
        row_bytes += (uint64_t)w.width[k];
    int rc = ptable_open(c, &w.t, path, "customers", n, row_bytes, err);
    if (rc == CS_OK)
        rc = cu_create(&w, rk, err);
    /* Independent writes from here: a failing rank stops writing, and the
     * ranks agree on the outcome below. */
    for (uint64_t at = 0; rc == CS_OK && at < n; at += w.block)
        rc = cu_block(&w, users, kv, at, n - at < w.block ? n - at : w.block, rk->t_end, err);
    for (int i = 0; i < w.ncols; i++)
        if (w.d[i] >= 0)
            H5Dclose(w.d[i]);
    if (w.tier_t > 0)
        H5Tclose(w.tier_t);
    if (w.rfm_t > 0)
        H5Tclose(w.rfm_t);
    if (w.t.file > 0)
        ptable_close(&w.t, err);
    free(kv);
    free(w.buf);
    return comm_agree(c, err);
}

/* ---- sessions.h5 ---- */

hid_t report_segment_enum(const cs_rules *rules)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    for (int s = 0; s < rules->nsegments; s++) {
        uint8_t v = (uint8_t)s;
        H5Tenum_insert(t, rules->segments[s], &v);
    }
    return t;
}

const char *report_session_column(int k, hid_t et, hid_t *mtype)
{
    *mtype = k == 0 ? H5T_NATIVE_UINT64 : k == 3 ? et : H5T_NATIVE_INT64;
    return k == 0 ? "user_id" : k == 1 ? "start_ts" : k == 2 ? "end_ts" :
           k == 3 ? "segment" : feature_name(k - 4);
}

/* Rows [at, at + m) of every column from the spool's sessions. */
static int se_block(ptable *t, const hid_t *d, const char *const *name, const hid_t *mt,
                    cs_spool *sp, cs_session *blk, int64_t *col, uint64_t at, uint64_t m,
                    cs_err *err)
{
    int rc = spool_read(sp, at, m, blk, err);
    for (int k = 0; rc == CS_OK && k < REPORT_SESSION_COLS; k++) {
        uint8_t *seg = (uint8_t *)(void *)col;
        for (uint64_t i = 0; i < m; i++) {
            const cs_session *s = &blk[i];
            if (k == 3)
                seg[i] = (uint8_t)s->segment;
            else
                col[i] = k == 0 ? (int64_t)s->user_id : k == 1 ? s->start_ts :
                         k == 2 ? s->end_ts : s->f.v[k - 4];
        }
        rc = ptable_write(t, d[k], name[k], mt[k], at, m, col, err);
    }
    return rc;
}

int report_write_sessions(const cs_comm *c, const char *dir, cs_spool *sp,
                          const cs_rules *rules, uint64_t buffer_bytes, cs_err *err)
{
    enum { NCOL = REPORT_SESSION_COLS };
    uint64_t n = sp->n, block = buffer_bytes / (sizeof(cs_session) + sizeof(int64_t));
    block = block < CS_SPOOL_BLOCK ? CS_SPOOL_BLOCK : block > CU_BLOCK_MAX ? CU_BLOCK_MAX : block;
    cs_session *blk = cs_malloc(block * sizeof *blk, err, "sessions table");
    int64_t *col = blk ? cs_malloc(block * sizeof *col, err, "sessions table") : NULL;
    if (comm_agree(c, err) != CS_OK) {
        free(blk); free(col);
        return err->code;
    }
    char path[1300];
    snprintf(path, sizeof path, "%s/sessions.h5", dir);
    ptable t;
    hid_t d[NCOL], mt[NCOL], et = report_segment_enum(rules);
    const char *name[NCOL];
    for (int k = 0; k < NCOL; k++) {
        d[k] = -1;
        name[k] = report_session_column(k, et, &mt[k]);
    }
    /* user_id, the two times and the features 8 bytes each, the segment 1 */
    int rc = ptable_open(c, &t, path, "sessions", n, 8 * (NCOL - 1) + 1, err);
    for (int k = 0; rc == CS_OK && k < NCOL; k++) {
        hid_t ft = k == 0 ? H5T_STD_U64LE : k == 3 ? et : H5T_STD_I64LE;
        if ((d[k] = ptable_create(&t, name[k], ft, err)) < 0)
            rc = CS_EIO;
    }
    /* Independent writes from here: a failing rank stops writing, and the
     * ranks agree on the outcome below. */
    if (comm_agree(c, err) == CS_OK)
        for (uint64_t at = 0; rc == CS_OK && at < n; at += block)
            rc = se_block(&t, d, name, mt, sp, blk, col, at, n - at < block ? n - at : block,
                          err);
    else
        rc = err->code;
    for (int k = 0; k < NCOL; k++)
        if (d[k] >= 0)
            H5Dclose(d[k]);
    H5Tclose(et);
    if (t.file > 0)
        ptable_close(&t, err);
    free(blk); free(col);
    return comm_agree(c, err);
}
