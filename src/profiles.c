/* profiles.c — profile tables (/customers): their shape checked when an
 * archive is scanned, their values checked by the ranks in slices before
 * the job, and their rows read in turns and routed to the users' owners
 * at its end (see profiles.h). */
#include "clickseg/profiles.h"

#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "clickseg/event.h"
#include "clickseg/h5util.h"

/* Rows each rank reads in a load's exchange round: about 4 MiB of rows to
 * send and as much received, whatever the table's size. */
#define PROF_BLOCK ((uint64_t)1 << 18)

/* Rows the value check reads at a time (8 MiB of values): fewer, larger
 * reads than the load's blocks measured faster. */
#define CHECK_BLOCK ((uint64_t)1 << 20)

/* Rows a lookup is asked for ahead of its use: the index and the rankings
 * are far larger than the cache, and each row's user is a miss. */
#define PROF_AHEAD 16

/* A row on its way to the rank that owns its user. */
typedef struct prof_row {
    uint64_t user_id;
    uint8_t v[CS_MAX_PROFILE_COLS];
} prof_row;

/* The table's datasets: user_id first, then the profile columns in name
 * order (a name longer than the ranking keeps is kept whole here, for the
 * scan to refuse; `more` counts the columns past the most it takes). */
typedef struct prof_ctx {
    char name[CS_MAX_PROFILE_COLS + 1][256];
    int n, more, has_id, id_signed;
} prof_ctx;

typedef struct prof_bufs {
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

static herr_t list_col(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    (void)g; (void)li;
    prof_ctx *p = data;
    if (strcmp(name, "user_id") == 0)
        p->has_id = 1;
    else if (p->n < CS_MAX_PROFILE_COLS)
        snprintf(p->name[1 + p->n++], sizeof p->name[0], "%s", name);
    else
        p->more++;
    return 0;
}

/* Lists /customers' datasets into *p and notes whether user_id is signed
 * (its negative values are then looked for: HDF5 would make them 0). */
static void list_cols(hid_t g, prof_ctx *p)
{
    memset(p, 0, sizeof *p);
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, list_col, p);
    snprintf(p->name[0], sizeof p->name[0], "user_id");
    hid_t d = p->has_id ? H5Dopen2(g, "user_id", H5P_DEFAULT) : -1;
    hid_t t = d < 0 ? -1 : H5Dget_type(d);
    p->id_signed = t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_sign(t) != H5T_SGN_NONE;
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
}

/* ---- values ---- */

/* Not a user id (k == 0: negative), or not a category code (0..254; 255
 * is "unknown"). */
static inline int is_bad(int64_t v, int k)
{
    return v < 0 || (k > 0 && v >= CS_PROFILE_UNKNOWN);
}

/* The first bad value of v[0, n), or n. A block is first tested with
 * shifts and ORs that the compiler vectorises (SSE2 has no 64-bit
 * compare): x >> 8 is nonzero outside 0..255, (x + 1) >> 8 also at 255;
 * x >> 63 for a negative id. Only a block that fails is searched. */
static uint64_t first_bad(const int64_t *v, uint64_t n, int k)
{
    for (uint64_t at = 0; at < n; at += 4096) {
        uint64_t end = n - at < 4096 ? n : at + 4096, acc = 0;
        if (k == 0)
            for (uint64_t i = at; i < end; i++)
                acc |= (uint64_t)v[i] >> 63;
        else
            for (uint64_t i = at; i < end; i++)
                acc |= ((uint64_t)v[i] >> 8) | (((uint64_t)v[i] + 1) >> 8);
        for (uint64_t i = at; acc && i < end; i++)
            if (is_bad(v[i], k))
                return i;
    }
    return n;
}

static int bad_value(cs_err *err, const char *path, const char *name, uint64_t row, int64_t v,
                     int k)
{
    return cs_err_set(err, CS_EINPUT, "%s: /customers/%s row %llu: value %lld %s", path, name,
                      (unsigned long long)row, (long long)v,
                      k == 0 ? "is not a user id (negative)"
                             : "outside 0..254 (profile columns are small category codes)");
}

/* Reads rows [at, at+n) of /customers/<name>, a column of `rows` rows, in
 * memory type mtype (HDF5 converts; the caller checks the values). */
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
            rc = h5_fail(err, CS_EINPUT, "%s: cannot read /customers/%s rows %llu..%llu", path,
                         name, (unsigned long long)at, (unsigned long long)(at + n - 1));
        H5Sclose(ms);
    }
    H5Sclose(fs);
    H5Dclose(d);
    return rc;
}

/* Reads rows [at, at+n) of every column, each through v, and checks
 * them; with out, also sets out[0, n) from them. On a bad value err names
 * the lowest such row (the first column's on a tie), so the row named is
 * the table's first bad one however the rows are split among ranks. */
static int read_block(hid_t g, const prof_ctx *pc, uint64_t rows, uint64_t at, uint64_t n,
                      int64_t *v, prof_row *out, const char *path, cs_err *err)
{
    if (n == 0)
        return CS_OK;   /* a rank past the table's end in a load's last round */
    uint64_t worst = n;
    int64_t wv = 0;
    int wk = 0;
    for (int k = 0; k <= pc->n; k++) {
        int check = k > 0 || pc->id_signed;   /* any uint64 is an id */
        if (!check && !out)
            continue;
        hid_t mtype = check ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64;
        int rc = read_col(g, pc->name[k], mtype, rows, at, n, v, path, err);
        if (rc != CS_OK)
            return rc;
        uint64_t i = check ? first_bad(v, worst, k) : worst;
        if (i < worst) {
            worst = i;
            wv = v[i];
            wk = k;
        }
        for (uint64_t j = 0; out && j < worst; j++) {
            if (k == 0)
                out[j].user_id = (uint64_t)v[j];
            else
                out[j].v[k - 1] = (uint8_t)v[j];
        }
    }
    return worst < n ? bad_value(err, path, pc->name[wk], at + worst, wv, wk) : CS_OK;
}

/* ---- shape (archive_scan) ---- */

/* Checks /customers/<name>: a 1-D integer dataset of `rows` rows (rows 0:
 * sets it). Values are looked at by profiles_check, in slices. */
static int check_shape(hid_t g, const char *name, int is_id, uint64_t *rows, const char *path,
                       cs_err *err)
{
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "%s: /customers/%s is not a readable dataset", path, name);
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    hsize_t dims[1] = {0};
    int rc = CS_OK, ndims = H5Sget_simple_extent_ndims(s);
    char desc[64];
    h5_type_describe(t, desc, sizeof desc);
    if (ndims != 1)
        rc = cs_err_set(err, CS_EINPUT, "%s: /customers/%s has %d dimensions; profile columns "
                        "are 1-D", path, name, ndims);
    else if (H5Tget_class(t) != H5T_INTEGER)
        rc = cs_err_set(err, CS_EINPUT, "%s: /customers/%s has type %s; %s", path, name, desc,
                        is_id ? "user ids are integers" : "profile columns are small integer "
                        "category codes (0..254)");
    if (rc == CS_OK) {
        H5Sget_simple_extent_dims(s, dims, NULL);
        if (is_id)
            *rows = dims[0];
        else if (dims[0] != *rows)
            rc = cs_err_set(err, CS_EINPUT, "%s: /customers/%s has %llu rows but /customers/"
                            "user_id has %llu; profile columns must have one row a customer",
                            path, name, (unsigned long long)dims[0], (unsigned long long)*rows);
    }
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

int profiles_scan(const char *path, uint64_t *rows, cs_err *err)
{
    *rows = 0;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = f < 0 ? -1 : H5Gopen2(f, "customers", H5P_DEFAULT);
    int rc = CS_OK;
    prof_ctx pc = {.n = 0};
    if (f < 0)
        rc = h5_fail(err, CS_EINPUT, "%s: cannot open HDF5 file", path);
    else if (g < 0)
        rc = h5_fail(err, CS_EINPUT, "%s: /customers is not a group", path);
    else
        list_cols(g, &pc);
    /* customers.h5 of an earlier report, left among the inputs: its own
     * columns would read as dozens of profile columns. Known by the
     * ranking's columns together, which a profile table (a CRM export
     * with a score or a tier of its own) does not have all of. */
    static const char *const ranked[] = {"r_score", "f_score", "m_score", "score", "tier",
                                         "rfm_segment", "recency_days", "monetary"};
    int report_cols = 0;
    for (size_t i = 0; rc == CS_OK && i < sizeof ranked / sizeof *ranked; i++)
        report_cols += H5Lexists(g, ranked[i], H5P_DEFAULT) > 0;
    if (report_cols == (int)(sizeof ranked / sizeof *ranked))
        rc = cs_err_set(err, CS_EINPUT, "%s: the customers table of a clickseg report (it has "
                        "the ranking's columns: scores, tier, rfm_segment), not a profile table: "
                        "remove it from the inputs", path);
    else if (rc == CS_OK && !pc.has_id)
        rc = cs_err_set(err, CS_EINPUT, "%s: /customers has no user_id dataset", path);
    else if (rc == CS_OK && pc.n + pc.more > CS_MAX_PROFILE_COLS)
        rc = cs_err_set(err, CS_EINPUT, "%s: /customers has %d profile columns; the cross-tabs "
                        "take at most %d: keep the ones to report in the profile table",
                        path, pc.n + pc.more, CS_MAX_PROFILE_COLS);
    for (int k = 1; rc == CS_OK && k <= pc.n; k++)
        if (strlen(pc.name[k]) > CS_PROFILE_NAME_MAX)
            rc = cs_err_set(err, CS_EINPUT, "%s: /customers/%s: a profile column's name has at "
                            "most %d characters", path, pc.name[k], CS_PROFILE_NAME_MAX);
    for (int k = 0; rc == CS_OK && k <= pc.n; k++)
        rc = check_shape(g, pc.name[k], k == 0, rows, path, err);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

/* ---- values (before the job) ---- */

int profiles_check_rows(const char *path, uint64_t from, uint64_t to, cs_err *err)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = f < 0 ? -1 : H5Gopen2(f, "customers", H5P_DEFAULT);
    int rc = g < 0 ? h5_fail(err, CS_EINPUT, "%s: cannot open /customers", path) : CS_OK;
    prof_ctx pc = {.n = 0};
    uint64_t rows = 0;
    /* The shape again (metadata only): a table changed since the scan is
     * refused, not read through a conversion. */
    if (rc == CS_OK)
        list_cols(g, &pc);
    for (int k = 0; rc == CS_OK && k <= pc.n; k++)
        rc = check_shape(g, pc.name[k], k == 0, &rows, path, err);
    if (rc == CS_OK && to > rows)
        rc = cs_err_set(err, CS_EINPUT, "%s: /customers has %llu rows, fewer than when the "
                        "archive was scanned (%llu): changed during the job?", path,
                        (unsigned long long)rows, (unsigned long long)to);
    int64_t *v = rc == CS_OK && to > from
                     ? cs_malloc(CHECK_BLOCK * sizeof *v, err, "profile check") : NULL;
    if (rc == CS_OK && to > from && !v)
        rc = CS_ENOMEM;
    for (uint64_t at = from; rc == CS_OK && at < to; at += CHECK_BLOCK)
        rc = read_block(g, &pc, rows, at, to - at < CHECK_BLOCK ? to - at : CHECK_BLOCK, v, NULL,
                        path, err);
    free(v);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

int profiles_check(const cs_comm *c, const char *path, uint64_t rows, cs_err *err)
{
    /* Contiguous slices: the lowest failing rank, whose message the
     * agreement keeps, holds the table's first bad row. */
    uint64_t from = rows / (uint64_t)c->size * (uint64_t)c->rank +
                    (rows % (uint64_t)c->size < (uint64_t)c->rank ? rows % (uint64_t)c->size
                                                                   : (uint64_t)c->rank);
    uint64_t n = rows / (uint64_t)c->size + ((uint64_t)c->rank < rows % (uint64_t)c->size);
    if (err->code == CS_OK)
        profiles_check_rows(path, from, from + n, err);
    return comm_agree(c, err);
}

/* ---- load (after the job) ---- */

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

/* Opens /customers, lists its columns and counts its rows (local; the
 * scan has checked the table's shape). */
static int open_table(const char *path, cs_ranking *r, hid_t *f, hid_t *g, prof_ctx *pc,
                      uint64_t *rows, cs_err *err)
{
    *f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    *g = *f < 0 ? -1 : H5Gopen2(*f, "customers", H5P_DEFAULT);
    if (*g < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open /customers", path);
    list_cols(*g, pc);
    char names[CS_MAX_PROFILE_COLS][48];
    memset(names, 0, sizeof names);
    for (int k = 0; k < pc->n; k++)
        snprintf(names[k], sizeof names[k], "%.*s", CS_PROFILE_NAME_MAX, pc->name[1 + k]);
    int first = r->nprofile_cols == 0;
    if (first) {
        r->nprofile_cols = pc->n;
        memcpy(r->profile_cols, names, sizeof names);
    } else if (pc->n != r->nprofile_cols || memcmp(names, r->profile_cols, sizeof names)) {
        return cs_err_set(err, CS_EINPUT, "%s: /customers has other columns than the first "
                          "profile table; profile tables must share their columns", path);
    }
    /* The codes' labels (`<col>_values`): the first table's, unless a later
     * one says otherwise, when no label is trusted (the report shows the
     * codes). */
    for (int k = 0; k < pc->n; k++) {
        char an[64], v[CS_PROFILE_VALUES_MAX];
        snprintf(an, sizeof an, "%s_values", names[k]);
        if (h5_attr_get_string(*g, an, v, sizeof v) != 1)
            v[0] = '\0';
        if (first)
            memcpy(r->profile_values[k], v, sizeof v);
        else if (strcmp(r->profile_values[k], v) != 0)
            r->profile_values[k][0] = '\0';
    }
    return check_shape(*g, "user_id", 1, rows, path, err);
}

static int alloc_bufs(int nranks, prof_bufs *b, cs_err *err)
{
    memset(b, 0, sizeof *b);
    b->val = cs_malloc(PROF_BLOCK * sizeof *b->val, err, "profile rows");
    b->rows = b->val ? cs_malloc(PROF_BLOCK * sizeof *b->rows, err, "profile rows") : NULL;
    b->send = b->rows ? cs_malloc(PROF_BLOCK * sizeof *b->send, err, "profile rows") : NULL;
    b->counts = b->send ? cs_calloc(2 * (size_t)nranks, sizeof *b->counts, err, "profile rows")
                        : NULL;
    b->at = b->counts ? b->counts + nranks : NULL;
    return b->counts ? CS_OK : CS_ENOMEM;
}

static void free_bufs(prof_bufs *b)
{
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
            read_block(g, &pc, rows, at, n, b.val, b.rows, path, err);
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
