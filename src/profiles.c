/* profiles.c — profile tables read in slices and routed to the users'
 * owners (see profiles.h). */
#include "clickseg/profiles.h"

#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "clickseg/event.h"
#include "clickseg/h5util.h"

/* Rows a rank reads per exchange round: about 4 MiB of rows to send and as
 * much received, whatever the table's size. */
#define PROF_BLOCK ((uint64_t)1 << 18)

/* Rows a lookup is asked for ahead of its use: the index and the rankings
 * are far larger than the cache, and each row's user is a miss. */
#define PROF_AHEAD 16

/* A row on its way to the rank that owns its user. */
typedef struct prof_row {
    uint64_t user_id;
    uint8_t v[CS_MAX_PROFILE_COLS];
} prof_row;

typedef struct prof_ctx {
    char names[CS_MAX_PROFILE_COLS][48];
    int n;
} prof_ctx;

typedef struct prof_bufs {
    uint64_t *ids;        /* PROF_BLOCK read user ids */
    int64_t *val;         /* PROF_BLOCK values of one column */
    prof_row *rows;       /* PROF_BLOCK rows read */
    prof_row *send;       /* the same, by owner */
    uint64_t *counts;     /* rows for each rank */
    uint64_t *at;         /* where each rank's rows go next in send */
    void *recv;           /* rows received, in the senders' rank order */
    uint64_t recvcap;
    void *pos;            /* table position of each received row's user */
    uint64_t poscap;
} prof_bufs;

static herr_t list_cols(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g; (void)info;
    prof_ctx *p = data;
    if (strcmp(name, "user_id") != 0 && p->n < CS_MAX_PROFILE_COLS)
        snprintf(p->names[p->n++], sizeof p->names[0], "%s", name);
    return 0;
}

/* Reads rows [at, at+n) of /customers/<name>, a column of `rows` rows, in
 * memory type mtype (HDF5 converts, checked). */
static int read_col(hid_t g, const char *name, hid_t mtype, uint64_t rows, uint64_t at,
                    uint64_t n, void *buf, const char *path, cs_err *err)
{
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open /customers/%s", path, name);
    hid_t fs = H5Dget_space(d);
    hsize_t st[1] = {at}, cnt[1] = {n}, dims[1] = {0};
    int rc = CS_OK;
    if (H5Sget_simple_extent_ndims(fs) != 1 || (H5Sget_simple_extent_dims(fs, dims, NULL), dims[0] != rows))
        rc = cs_err_set(err, CS_EINPUT, "%s: /customers/%s must be 1-D with as many rows as "
                        "/customers/user_id", path, name);
    if (rc == CS_OK) {
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
        hid_t ms = H5Screate_simple(1, cnt, NULL);
        if (H5Dread(d, mtype, ms, fs, H5P_DEFAULT, buf) < 0)
            rc = h5_fail(err, CS_EINPUT, "%s: reading /customers/%s rows %llu+%llu", path, name,
                         (unsigned long long)at, (unsigned long long)n);
        H5Sclose(ms);
    }
    H5Sclose(fs);
    H5Dclose(d);
    return rc;
}

/* Rows [at, at + n) of the table into b->rows, every value checked. */
static int read_block(hid_t g, const prof_ctx *pc, uint64_t rows, uint64_t at, uint64_t n,
                      prof_bufs *b, const char *path, cs_err *err)
{
    if (n == 0)
        return CS_OK;
    int rc = read_col(g, "user_id", H5T_NATIVE_UINT64, rows, at, n, b->ids, path, err);
    for (uint64_t i = 0; rc == CS_OK && i < n; i++)
        b->rows[i].user_id = b->ids[i];
    for (int k = 0; rc == CS_OK && k < pc->n; k++) {
        rc = read_col(g, pc->names[k], H5T_NATIVE_INT64, rows, at, n, b->val, path, err);
        for (uint64_t i = 0; rc == CS_OK && i < n; i++) {
            if (b->val[i] < 0 || b->val[i] >= CS_PROFILE_UNKNOWN)
                rc = cs_err_set(err, CS_EINPUT, "%s: /customers/%s row %llu: value %lld outside "
                                "0..254 (profile columns are small category codes)", path,
                                pc->names[k], (unsigned long long)(at + i), (long long)b->val[i]);
            else
                b->rows[i].v[k] = (uint8_t)b->val[i];
        }
    }
    return rc;
}

/* b->rows[0, n) into b->send grouped by owner, each group in row order
 * (a later row of the same user must still come later). */
static void route(const cs_comm *c, prof_bufs *b, uint64_t n)
{
    memset(b->counts, 0, (size_t)c->size * sizeof *b->counts);
    for (uint64_t i = 0; i < n; i++)
        b->counts[cs_owner(b->rows[i].user_id, c->size)]++;
    uint64_t sum = 0;
    for (int r = 0; r < c->size; r++) {
        b->at[r] = sum;
        sum += b->counts[r];
    }
    for (uint64_t i = 0; i < n; i++)
        b->send[b->at[cs_owner(b->rows[i].user_id, c->size)]++] = b->rows[i];
}

/* Sets the received rows' values: each user looked up once (its index
 * cell asked for ahead), then its ranking entry visited once for all the
 * columns. Rows of users without events here are passed over. */
static int apply(cs_users *users, cs_ranking *r, int ncols, prof_bufs *b, uint64_t n,
                 cs_err *err)
{
    if (cs_reserve(&b->pos, &b->poscap, n, sizeof(uint64_t), err, "profile rows") != CS_OK)
        return CS_ENOMEM;
    const prof_row *rows = b->recv;
    uint64_t *pos = b->pos;
    for (uint64_t i = 0; i < n; i++) {
        if (i + PROF_AHEAD < n)
            users_prefetch(users, rows[i + PROF_AHEAD].user_id);
        const cs_user *u = users_find(users, rows[i].user_id);
        pos[i] = u ? (uint64_t)(u - users->slot) : UINT64_MAX;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (i + PROF_AHEAD < n && pos[i + PROF_AHEAD] != UINT64_MAX)
            __builtin_prefetch(&users->rank[pos[i + PROF_AHEAD]], 1, 1);
        if (pos[i] == UINT64_MAX)
            continue;
        uint8_t *pv = users->rank[pos[i]].profile;
        for (int k = 0; k < ncols; k++) {
            r->profile_conflicts += pv[k] != CS_PROFILE_UNKNOWN && pv[k] != rows[i].v[k];
            pv[k] = rows[i].v[k];
        }
    }
    return CS_OK;
}

/* Opens /customers, lists its columns and counts its rows (local). */
static int open_table(const char *path, cs_ranking *r, hid_t *f, hid_t *g, prof_ctx *pc,
                      uint64_t *rows, cs_err *err)
{
    *f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    *g = *f < 0 ? -1 : H5Gopen2(*f, "customers", H5P_DEFAULT);
    if (*g < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open /customers", path);
    H5Literate(*g, H5_INDEX_NAME, H5_ITER_INC, NULL, list_cols, pc);
    if (r->nprofile_cols == 0) {
        r->nprofile_cols = pc->n;
        memcpy(r->profile_cols, pc->names, sizeof pc->names);
    } else if (pc->n != r->nprofile_cols ||
               memcmp(pc->names, r->profile_cols, sizeof pc->names)) {
        return cs_err_set(err, CS_EINPUT, "%s: /customers has other columns than the first "
                          "profile table; profile tables must share their columns", path);
    }
    hid_t d = H5Dopen2(*g, "user_id", H5P_DEFAULT), s = d < 0 ? -1 : H5Dget_space(d);
    hsize_t n = 0;
    int ok = s >= 0 && H5Sget_simple_extent_ndims(s) == 1 &&
             H5Sget_simple_extent_dims(s, &n, NULL) == 1;
    if (s >= 0) H5Sclose(s);
    if (d >= 0) H5Dclose(d);
    if (!ok)
        return h5_fail(err, CS_EINPUT, "%s: /customers/user_id must be a 1-D dataset", path);
    *rows = n;
    return CS_OK;
}

static int alloc_bufs(int nranks, prof_bufs *b, cs_err *err)
{
    memset(b, 0, sizeof *b);
    b->ids = cs_malloc(PROF_BLOCK * sizeof *b->ids, err, "profile rows");
    b->val = b->ids ? cs_malloc(PROF_BLOCK * sizeof *b->val, err, "profile rows") : NULL;
    b->rows = b->val ? cs_malloc(PROF_BLOCK * sizeof *b->rows, err, "profile rows") : NULL;
    b->send = b->rows ? cs_malloc(PROF_BLOCK * sizeof *b->send, err, "profile rows") : NULL;
    b->counts = b->send ? cs_calloc(2 * (size_t)nranks, sizeof *b->counts, err, "profile rows")
                        : NULL;
    b->at = b->counts ? b->counts + nranks : NULL;
    return b->counts ? CS_OK : CS_ENOMEM;
}

static void free_bufs(prof_bufs *b)
{
    free(b->ids);
    free(b->val);
    free(b->rows);
    free(b->send);
    free(b->counts);
    free(b->recv);
    free(b->pos);
}

int profiles_load(const cs_comm *c, const char *path, cs_users *users, cs_ranking *r,
                  cs_err *err)
{
    hid_t f = -1, g = -1;
    prof_ctx pc = {.n = 0};
    uint64_t rows = 0;
    prof_bufs b;
    /* Their failures are left in err: every rank opened the same file, and
     * all agree before the rounds, and on their number (a file that
     * changed under one rank is then refused by read_col, not a rank left
     * waiting in a round). */
    open_table(path, r, &f, &g, &pc, &rows, err);
    alloc_bufs(c->size, &b, err);
    int rc = comm_agree(c, err);
    int64_t most = (int64_t)rows;
    if (rc == CS_OK && (rc = comm_max_i64(c, &most, 1, 1, err)) == CS_OK)
        rows = (uint64_t)most;
    /* Round k reads rows [k B size, (k + 1) B size), rank r its r-th block
     * of B: within a round the received rows, in the senders' rank order,
     * are in the table's row order, and the rounds follow each other. */
    uint64_t per_round = PROF_BLOCK * (uint64_t)c->size;
    uint64_t rounds = (rows + per_round - 1) / per_round;
    for (uint64_t k = 0; rc == CS_OK && k < rounds; k++) {
        uint64_t at = k * per_round + (uint64_t)c->rank * PROF_BLOCK;
        uint64_t n = at >= rows ? 0 : rows - at < PROF_BLOCK ? rows - at : PROF_BLOCK;
        if (err->code == CS_OK)
            read_block(g, &pc, rows, at, n, &b, path, err);
        if ((rc = comm_agree(c, err)) != CS_OK)
            break;
        route(c, &b, n);
        uint64_t got = 0;
        rc = comm_alltoallv(c, b.send, b.counts, sizeof(prof_row), &b.recv, &b.recvcap, &got, err);
        if (rc == CS_OK)
            apply(users, r, pc.n, &b, got, err);   /* its failure: agreed next round */
    }
    if (rc == CS_OK)
        rc = comm_agree(c, err);
    free_bufs(&b);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    return rc;
}
