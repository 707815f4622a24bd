/* snapshot_read.c — loading a run's state from a snapshot file (see
 * snapshot.h; the layout is described in snapshot.c): each rank reads an
 * even slab of every dataset and sends each record to its owner under the
 * current rank count (the closed sessions to any rank: an even share to
 * each); the statistics go to rank 0. */
#include "clickseg/snapshot.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/h5util.h"
#include "clickseg/shuffle.h"

#include "snapshot_priv.h"

/* Collective (every rank reads its rows of the dataset, then this): the
 * XOR of every rank's rows against the dataset's checksum attribute, which
 * every rank reads alike. Only when every rank read its rows (`ok`): a
 * rank short of memory is reported as that, not as damage. A snapshot from
 * before checksums has none: not checked. CS_EINPUT on a mismatch, the
 * same on every rank. */
static int check_sum(const cs_comm *c, hid_t d, const char *name, uint64_t sum, int ok,
                     cs_err *err)
{
    int64_t all_ok = ok;
    if (comm_min_i64(c, &all_ok, 1, 1, err) != CS_OK)
        return err->code;
    if (!all_ok)
        return CS_OK;   /* the failing rank's own error is reported */
    int64_t want = 0;
    int have = h5_attr_get_int64(d, "checksum", &want);
    if (comm_xor_u64(c, &sum, err) != CS_OK)
        return err->code;
    if (have && sum != (uint64_t)want)
        return cs_err_set(err, CS_EINPUT, "dataset %s fails its checksum: the file is damaged "
                          "(a checkpoint: start the run over with --force; a --state file: "
                          "restore it from a copy)", name);
    return CS_OK;
}

/* check_sum of this rank's n rows at buf (rows row0.. of the dataset). */
static int check_rows(const cs_comm *c, hid_t d, const char *name, const void *buf, size_t size,
                      uint64_t n, uint64_t row0, int ok, cs_err *err)
{
    return check_sum(c, d, name, ok ? snap_rows_checksum(buf, size, n, row0) : 0, ok, err);
}

/* Collective: this rank's even slab of dataset `name` (all of it on rank 0
 * and nothing elsewhere when root_only). *buf is malloc'd (size bytes per
 * record); *n records. */
static int get(const cs_comm *c, hid_t f, const char *name, hid_t t, size_t size, int root_only,
               void **buf, uint64_t *n, cs_err *err)
{
    *buf = NULL;
    *n = 0;
    uint64_t total, lo, hi;
    hid_t d;
    int agreed = h5_open_agreed(c, f, name, &d, &total, err);
    if (agreed != CS_OK)
        return agreed;
    if (root_only) {
        lo = 0;
        hi = c->rank == 0 ? total : 0;
    } else {
        lo = total * (uint64_t)c->rank / (uint64_t)c->size;
        hi = total * (uint64_t)(c->rank + 1) / (uint64_t)c->size;
    }
    *buf = cs_malloc((hi - lo + 1) * size, err, name);
    /* Without a buffer the rank still takes part in the collective read
     * and the checksum's XOR. */
    herr_t rc = h5_read_rows(d, t, lo, *buf ? hi - lo : 0, *buf);
    cs_err sum_err;
    cs_err_clear(&sum_err);
    int sum_rc = check_rows(c, d, name, *buf, size, hi - lo, lo, *buf && rc >= 0, &sum_err);
    H5Dclose(d);
    if (!*buf)
        return CS_ENOMEM;
    if (rc < 0)
        return h5_fail(err, CS_EINPUT, "reading %s", name);
    if (sum_rc != CS_OK)
        return cs_err_set(err, sum_rc, "%s", sum_err.msg);
    *n = hi - lo;
    return CS_OK;
}

/* Puts received user records into the table (no unfinished session
 * bound yet: sess_reopen binds the pool once it is loaded). */
static int insert_users(cs_users *t, const snap_user *u, uint64_t n, cs_err *err)
{
    for (uint64_t i = 0; i < n; i++) {
        cs_user *e = users_get(t, u[i].u.user_id, err);
        if (!e)
            return CS_ENOMEM;
        *e = u[i].u;
        e->used = 1;
        e->open_slot = 0;
        for (int s = 0; s < t->nmore; s++)
            *users_seg(t, e, CS_HOT_SEGMENTS + s) = u[i].more[s];
    }
    return CS_OK;
}

/* Puts received unfinished sessions (with their id lists) into the pool. */
static int insert_open(cs_sessionizer *s, const cs_sess_state *o, uint64_t n,
                       const uint64_t *ids, cs_err *err)
{
    for (uint64_t i = 0; i < n; i++) {
        cs_sess_state st = o[i];
        uint64_t k = (uint64_t)st.nprod + st.ncat + st.nbrand;
        st.ids = NULL;
        if (k) {
            st.ids = cs_malloc(k * sizeof *ids, err, "open session ids");
            if (!st.ids)
                return CS_ENOMEM;
            memcpy(st.ids, ids, k * sizeof *ids);
        }
        if (sess_pool_append(s, &st, err) != CS_OK) {
            free(st.ids);
            return err->code;
        }
        ids += k;
    }
    return CS_OK;
}

/* Appends n records to a growable array. */
static int append(void **arr, uint64_t *len, uint64_t *cap, const void *recs, uint64_t n,
                  size_t size, cs_err *err, const char *what)
{
    if (n == 0)
        return CS_OK;
    if (*len + n > *cap) {
        void *p = cs_realloc(*arr, (*len + n) * size, err, what);
        if (!p)
            return CS_ENOMEM;
        *arr = p;
        *cap = *len + n;
    }
    memcpy((char *)*arr + *len * size, recs, n * size);
    *len += n;
    return CS_OK;
}

/* Bytes of a cs_segstat whose two histograms had 64 bins (format 3). */
#define SEGSTAT_V3_SIZE (sizeof(cs_segstat) - 2 * (CS_HIST_BINS - CS_HIST_BINS_V3) * sizeof(int64_t))

static int read_attrs(hid_t f, cs_snap_meta *m, int64_t *maxts, cs_err *err)
{
    char sig[256] = "(none)", want[256], old[256], fmt[64] = "", hash[32] = "";
    snap_layout_signature(want, sizeof want);
    snap_layout_signature_segstat(old, sizeof old, SEGSTAT_V3_SIZE);
    int64_t v[6] = {0};
    if (h5_attr_get_string(f, "format", fmt, sizeof fmt) != 1 || strcmp(fmt, SNAP_FORMAT) != 0)
        return cs_err_set(err, CS_EINPUT, "not a clickseg snapshot (no format attribute '%s')",
                          SNAP_FORMAT);
    if (!h5_attr_get_int64(f, "version", &v[0]) || v[0] != SNAP_VERSION)
        return cs_err_set(err, CS_EINPUT, "snapshot version %lld, this clickseg reads %d; "
                          "finish it with the build that wrote it or start over",
                          (long long)v[0], SNAP_VERSION);
    if (h5_attr_get_string(f, "layout", sig, sizeof sig) == 1 && strcmp(sig, old) == 0)
        m->hist_v3 = 1;
    else if (strcmp(sig, want) != 0)
        return cs_err_set(err, CS_EINPUT, "written by a clickseg build with another record "
                          "layout (%s; this build: %s); finish it with that build or start over",
                          sig, want);
    if (h5_attr_get_string(f, "config_hash", hash, sizeof hash) != 1 ||
        !h5_attr_get_int64(f, "next_row", &v[1]) || !h5_attr_get_int64(f, "row_base", &v[2]) ||
        !h5_attr_get_int64(f, "maxts", &v[3]) || !h5_attr_get_int64(f, "sessions", &v[4]) ||
        !h5_attr_get_int64(f, "ranks", &v[5]))
        return cs_err_set(err, CS_EINPUT, "snapshot attributes missing");
    m->config_hash = strtoull(hash, NULL, 16);
    m->next_row = (uint64_t)v[1];
    m->row_base = (uint64_t)v[2];
    /* absent in snapshots written before max_reject_share: judged as 0 */
    int64_t rb = 0;
    m->rejected_base = h5_attr_get_int64(f, "rejected_base", &rb) && rb > 0 ? (uint64_t)rb : 0;
    /* absent in snapshots written before max_late_share: 0, and
     * no_late_base for ckpt_begin to judge a --state run's resume by */
    int64_t lb = 0;
    m->no_late_base = !h5_attr_get_int64(f, "late_base", &lb);
    m->late_base = lb > 0 ? (uint64_t)lb : 0;
    *maxts = v[3];
    m->sessions = (int)v[4];
    m->ranks = (int)v[5];
    return CS_OK;
}

/* get() on every rank, then agreement: a rank whose buffer failed would
 * otherwise skip the next collective read the others are in. */
static int get_agreed(const cs_comm *c, hid_t f, const char *name, hid_t t, size_t size,
                      void **buf, uint64_t *n, cs_err *err)
{
    get(c, f, name, t, size, 1, buf, n, err);
    return comm_agree(c, err);
}

/* n segments' statistics of format 3 (64-bin histograms) into st->seg. */
static void segstats_from_v3(cs_stats *st, const int64_t *v, int n)
{
    const size_t scalars = offsetof(cs_segstat, hist_duration) / sizeof(int64_t);
    for (int s = 0; s < n; s++) {
        const int64_t *o = v + (size_t)s * (SEGSTAT_V3_SIZE / sizeof(int64_t));
        cs_segstat *g = &st->seg[s];
        memcpy(g, o, scalars * sizeof *o);
        stats_hist_from_v3(o + scalars, g->hist_duration);
        stats_hist_from_v3(o + scalars + CS_HIST_BINS_V3, g->hist_events);
    }
}

static int read_stats(const cs_comm *c, hid_t f, cs_stats *st, int hist_v3, cs_err *err)
{
    void *tot = NULL, *seg = NULL, *keys = NULL, *rows = NULL;
    uint64_t nt, ns, nk, nr, w = (uint64_t)st->nseg * PS_NFIELDS;
    hid_t i64 = H5T_NATIVE_INT64;
    int rc = get_agreed(c, f, "stats_totals", i64, 8, &tot, &nt, err);
    if (rc == CS_OK) rc = get_agreed(c, f, "stats_segments", i64, 8, &seg, &ns, err);
    if (rc == CS_OK) rc = get_agreed(c, f, "stats_period_keys", i64, 8, &keys, &nk, err);
    if (rc == CS_OK) rc = get_agreed(c, f, "stats_period_rows", i64, 8, &rows, &nr, err);
    if (rc == CS_OK && c->rank == 0) {
        size_t segsize = hist_v3 ? SEGSTAT_V3_SIZE : sizeof(cs_segstat);
        if (nt != sizeof st->tot / 8 || ns != (uint64_t)st->nseg * segsize / 8 || nr != nk * w)
            rc = cs_err_set(err, CS_EINPUT, "statistics of another shape (%d segments expected)",
                            st->nseg);
        if (rc == CS_OK) {
            memcpy(&st->tot, tot, sizeof st->tot);
            if (hist_v3)
                segstats_from_v3(st, seg, st->nseg);
            else
                memcpy(st->seg, seg, ns * 8);
        }
        for (uint64_t i = 0; rc == CS_OK && i < nk; i++) {
            int64_t *row = stats_period_row(st, ((int64_t *)keys)[i], err);
            if (!row)
                rc = CS_ENOMEM;
            else
                memcpy(row, (int64_t *)rows + i * w, w * 8);
        }
    }
    free(tot); free(seg); free(keys); free(rows);
    return rc;
}

static int read_history(const cs_comm *c, hid_t f, cs_snap_meta *m, cs_err *err)
{
    void *p = NULL, *r = NULL, *a = NULL, *b = NULL;
    uint64_t n, k;
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, sizeof m->hist->path);
    H5Tset_strpad(st, H5T_STR_NULLTERM);
    int rc = get_agreed(c, f, "history_path", st, sizeof m->hist->path, &p, &n, err);
    H5Tclose(st);
    hid_t i64 = H5T_NATIVE_INT64;
    if (rc == CS_OK) rc = get_agreed(c, f, "history_rows", i64, 8, &r, &k, err);
    if (rc == CS_OK) rc = get_agreed(c, f, "history_ts_first", i64, 8, &a, &k, err);
    if (rc == CS_OK) rc = get_agreed(c, f, "history_ts_last", i64, 8, &b, &k, err);
    if (rc == CS_OK && c->rank == 0 && n) {
        m->hist = cs_calloc(n, sizeof *m->hist, err, "history");
        rc = m->hist ? CS_OK : CS_ENOMEM;
        for (uint64_t i = 0; rc == CS_OK && i < n; i++) {
            memcpy(m->hist[i].path, (char *)p + i * sizeof m->hist->path, sizeof m->hist->path);
            m->hist[i].path[sizeof m->hist->path - 1] = '\0';
            m->hist[i].rows = (uint64_t)((int64_t *)r)[i];
            m->hist[i].ts_first = ((int64_t *)a)[i];
            m->hist[i].ts_last = ((int64_t *)b)[i];
        }
        m->nhist = rc == CS_OK ? (int)n : 0;
    }
    free(p); free(r); free(a); free(b);
    return rc;
}

/* Collective: the chain's user dictionaries into rank 0's m->dicts; none
 * in a file written before dictionary_path was. */
static int read_dicts(const cs_comm *c, hid_t f, cs_snap_meta *m, cs_err *err)
{
    htri_t there = H5Lexists(f, "dictionary_path", H5P_DEFAULT);
    if (there < 0)
        return h5_fail(err, CS_EINPUT, "cannot look for dictionary_path");
    if (there == 0)
        return CS_OK;
    void *p = NULL;
    uint64_t n = 0;
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, CS_DICT_PATH_LEN);
    H5Tset_strpad(st, H5T_STR_NULLTERM);
    int rc = get_agreed(c, f, "dictionary_path", st, CS_DICT_PATH_LEN, &p, &n, err);
    H5Tclose(st);
    if (rc == CS_OK && c->rank == 0 && n) {
        m->dicts = p;
        p = NULL;
        for (uint64_t i = 0; i < n; i++)
            m->dicts[i][CS_DICT_PATH_LEN - 1] = '\0';
        m->ndicts = (int)n;
    }
    free(p);
    return rc;
}

static uint64_t nids_of(const cs_sess_state *o)
{
    return (uint64_t)o->nprod + o->ncat + o->nbrand;
}

/* Collective: reads [off, off + n) of the uint64 dataset `name` into buf
 * (buf NULL: this rank reads nothing but takes part). `have` 0: this rank
 * could not size its range (a failed allocation, in err): its n of 0 is
 * not its share, so the checksum is not checked (check_sum), rather than
 * failed on every rank as damage. */
static int get_range(const cs_comm *c, hid_t f, const char *name, uint64_t off, uint64_t n,
                     uint64_t *buf, int have, cs_err *err)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "no dataset %s", name);
    herr_t rc = h5_read_rows(d, H5T_NATIVE_UINT64, off, buf ? n : 0, buf);
    cs_err sum_err;
    cs_err_clear(&sum_err);
    int sum_rc = check_rows(c, d, name, buf, sizeof *buf, n, off,
                            have && (buf || n == 0) && rc >= 0, &sum_err);
    H5Dclose(d);
    if (rc < 0)
        return h5_fail(err, CS_EINPUT, "reading %s", name);
    return sum_rc != CS_OK ? cs_err_set(err, sum_rc, "%s", sum_err.msg) : CS_OK;
}

/* Takes one block of a dataset read in blocks: m records at recs (m may
 * be 0). Collective: returns the same code on every rank. */
typedef int (*snap_take_fn)(const cs_comm *c, void *ctx, const void *recs, uint64_t m,
                            cs_err *err);

/* Collective: this rank's even slab of dataset `name` (records of t's
 * size), read SNAP_BLOCK_BYTES at a time and handed to take, so a resume
 * never holds the slab and its redistribution beside the table it fills.
 * Every rank reads and takes as many blocks as the rank with the largest
 * slab (empty ones past its own); the checksum is checked as get's. */
static int get_blocks(const cs_comm *c, hid_t f, const char *name, hid_t t, snap_take_fn take,
                      void *ctx, cs_err *err)
{
    uint64_t total;
    hid_t d;
    int rc = h5_open_agreed(c, f, name, &d, &total, err);
    if (rc != CS_OK)
        return rc;
    size_t size = H5Tget_size(t);
    uint64_t ranks = (uint64_t)c->size, block = SNAP_BLOCK_BYTES / size;
    uint64_t lo = total * (uint64_t)c->rank / ranks, hi = total * (uint64_t)(c->rank + 1) / ranks;
    uint64_t most = (total + ranks - 1) / ranks, blocks = (most + block - 1) / block, sum = 0;
    char *buf = cs_malloc(block * size, err, name);
    for (uint64_t b = 0; rc == CS_OK && b < blocks; b++) {
        uint64_t at = lo + b * block;
        uint64_t m = buf && at < hi ? (hi - at < block ? hi - at : block) : 0;
        if (h5_read_rows(d, t, at, m, m ? buf : NULL) < 0) {
            h5_fail(err, CS_EINPUT, "reading %s", name);
            m = 0;
        }
        sum ^= snap_rows_checksum(buf, size, m, at);
        rc = take(c, ctx, buf, m, err);   /* agrees on a failed read or malloc too */
    }
    if (rc == CS_OK && blocks == 0)
        rc = comm_agree(c, err);   /* a failed malloc with no block to take */
    if (rc == CS_OK)
        rc = check_sum(c, d, name, sum, 1, err);
    H5Dclose(d);
    free(buf);
    return rc;
}

/* snap_take_fn of the users: sent to their owners and put into the table. */
static int take_users(const cs_comm *c, void *ctx, const void *recs, uint64_t m, cs_err *err)
{
    snap_user *got = NULL;
    uint64_t ngot = 0;
    int rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = shuffle_route(c, recs, m, sizeof(snap_user), NULL, NULL, (void **)&got, &ngot,
                           NULL, NULL, err);
    if (rc == CS_OK) {
        insert_users(ctx, got, ngot, err);
        rc = comm_agree(c, err);
    }
    free(got);
    return rc;
}

/* Collective: the users, spread to their owners a block at a time. */
static int read_users(const cs_comm *c, hid_t f, const cs_run_state *s, cs_err *err)
{
    hid_t tu = snap_rec_type("clickseg snap_user", sizeof(snap_user));
    int rc = get_blocks(c, f, "users", tu, take_users, s->users, err);
    H5Tclose(tu);
    return rc;
}

/* Collective: the unfinished sessions and their id lists, spread to their
 * users' owners (by user_id, the record's first field). */
static int read_open(const cs_comm *c, hid_t f, const cs_run_state *s, cs_err *err)
{
    hid_t to = snap_rec_type("clickseg cs_sess_state", sizeof(cs_sess_state));
    cs_sess_state *o = NULL, *got = NULL;
    uint64_t no = 0, mine = 0, before = 0, *ids = NULL, *nx = NULL, *xgot = NULL, ngot, nxgot;
    get(c, f, "open", to, sizeof(cs_sess_state), 0, (void **)&o, &no, err);
    H5Tclose(to);
    int rc = comm_agree(c, err);
    if (rc != CS_OK)
        goto out;
    nx = cs_malloc((no + 1) * sizeof *nx, err, "checkpoint id lists");
    for (uint64_t i = 0; nx && i < no; i++)
        mine += nx[i] = nids_of(&o[i]);
    ids = nx ? cs_malloc((mine + 1) * 8, err, "checkpoint id lists") : NULL;
    /* This slab's id lists follow those of the slabs before it. */
    if ((rc = comm_exscan_u64(c, mine, &before, err)) != CS_OK)
        goto out;
    get_range(c, f, "open_ids", before, mine, ids, nx && ids, err);
    if ((rc = comm_agree(c, err)) != CS_OK)
        goto out;
    rc = shuffle_route(c, o, no, sizeof(cs_sess_state), ids, nx, (void **)&got, &ngot, &xgot,
                       &nxgot, err);
    if (rc == CS_OK) {
        insert_open(s->sz, got, ngot, xgot, err);
        rc = comm_agree(c, err);
    }
out:
    free(o); free(ids); free(nx); free(got); free(xgot);
    return rc;
}

/* Collective: records of dataset `name`, spread to their owners and
 * appended to *arr. */
static int read_keyed(const cs_comm *c, hid_t f, const char *name, const char *tag, size_t size,
                      void **arr, uint64_t *len, uint64_t *cap, cs_err *err)
{
    hid_t t = snap_rec_type(tag, size);
    void *mine = NULL, *got = NULL;
    uint64_t n = 0, ngot = 0;
    get(c, f, name, t, size, 0, &mine, &n, err);
    H5Tclose(t);
    int rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = shuffle_route(c, mine, n, size, NULL, NULL, &got, &ngot, NULL, NULL, err);
    if (rc == CS_OK) {
        append(arr, len, cap, got, ngot, size, err, name);
        rc = comm_agree(c, err);
    }
    free(mine);
    free(got);
    return rc;
}

/* snap_take_fn of the closed sessions: into this rank's spool (any rank
 * may write any session's row). */
static int take_sessions(const cs_comm *c, void *ctx, const void *recs, uint64_t m, cs_err *err)
{
    const cs_session *ses = recs;
    int rc = err->code;
    for (uint64_t i = 0; rc == CS_OK && i < m; i++)
        rc = spool_add(ctx, &ses[i], err);
    return comm_agree(c, err);
}

/* Collective: an even share of the closed sessions, into each rank's
 * spool a block at a time. */
static int read_sessions(const cs_comm *c, hid_t f, cs_spool *sp, cs_err *err)
{
    hid_t t = snap_rec_type("clickseg cs_session", sizeof(cs_session));
    int rc = get_blocks(c, f, "sessions", t, take_sessions, sp, err);
    H5Tclose(t);
    return rc;
}

int snapshot_read(const cs_comm *c, const char *path, const cs_run_state *s,
                  cs_snap_meta *m, cs_err *err)
{
    memset(m, 0, sizeof *m);
    hid_t f = snap_open_file(c, path, 0);
    if (f < 0)
        h5_fail(err, CS_EINPUT, "cannot open");
    int rc = comm_agree(c, err);
    if (rc == CS_OK) {
        read_attrs(f, m, s->maxts, err);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK)
        rc = read_users(c, f, s, err);
    if (rc == CS_OK)
        rc = read_open(c, f, s, err);
    if (rc == CS_OK)
        rc = read_keyed(c, f, "carry", "clickseg cs_event", sizeof(cs_event), (void **)s->carry,
                        s->ncarry, s->carry_cap, err);
    if (rc == CS_OK && m->sessions && s->spool)
        rc = read_sessions(c, f, s->spool, err);
    if (rc == CS_OK) {
        read_stats(c, f, s->st, m->hist_v3, err);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK) {
        read_history(c, f, m, err);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK) {
        read_dicts(c, f, m, err);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK) {
        sess_reopen(s->sz, s->users, err);
        rc = comm_agree(c, err);
    }
    if (f >= 0)
        H5Fclose(f);
    if (rc != CS_OK) {
        free(m->dicts);
        m->dicts = NULL;
        m->ndicts = 0;
        cs_err_wrap(err, "%s", path);
    }
    return rc;
}
