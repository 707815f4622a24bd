/* snapshot.c — a run's state in one parallel HDF5 file (see snapshot.h).
 *
 * Layout: attributes (format, version, layout signature, config hash,
 * next_row, row_base, maxts, sessions, ranks) and 1-D datasets: `users`
 * (opaque cs_user records), `open` (opaque cs_sess_state records: the
 * unfinished sessions, id list pointers cleared), `open_ids` (their
 * product, category and brand id lists, concatenated in the order of
 * `open`), `carry` (opaque cs_event), `sessions` (opaque cs_session),
 * `stats_totals`, `stats_segments`, `stats_period_keys`, `stats_period_rows`
 * (int64, the reduced statistics), and `history_*` (the files of earlier
 * runs of a --state chain). Each rank writes its records at the offset of
 * an exclusive prefix sum; on load each rank reads an even slab and sends
 * every record to its owner under the current rank count. */
#include "clickseg/snapshot.h"

#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/h5util.h"
#include "clickseg/shuffle.h"

#define SNAP_FORMAT "clickseg-snapshot"
#define SNAP_VERSION 2   /* 2: unfinished sessions in `open`, no longer inside `users` */

/* The struct sizes and constants a snapshot's records depend on. */
static void layout_signature(char *buf, size_t n)
{
    /* cs_user_seg: per-segment counters interleaved (an older table kept
     * two arrays at the same offsets and sizes). */
    snprintf(buf, n, "cs_user=%zu/%zu/cs_user_seg=%zu@%zu cs_sess_state=%zu/%zu cs_event=%zu "
             "cs_session=%zu cs_totals=%zu cs_segstat=%zu segments=%d features=%d "
             "period_fields=%d",
             sizeof(cs_user), offsetof(cs_user, profile), sizeof(cs_user_seg),
             offsetof(cs_user, seg), sizeof(cs_sess_state),
             offsetof(cs_sess_state, ids), sizeof(cs_event), sizeof(cs_session),
             sizeof(cs_totals), sizeof(cs_segstat), CS_MAX_SEGMENTS, F_NFEATURES, PS_NFIELDS);
}

static hid_t rec_type(const char *tag, size_t size)
{
    hid_t t = H5Tcreate(H5T_OPAQUE, size);
    H5Tset_tag(t, tag);
    return t;
}

static hid_t open_file(const cs_comm *c, const char *path, int create)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL);
    hid_t f = create ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)
                     : H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

/* ---- writing ---- */

/* Collective: dataset `name` of `total` records of type t, this rank's n
 * records going to [off, off + n). */
static int put_at(hid_t f, const char *name, hid_t t, uint64_t total, uint64_t off, uint64_t n,
                  const void *buf, cs_err *err)
{
    hsize_t dims[1] = {total}, st[1] = {off}, cnt[1] = {n};
    hid_t fs = H5Screate_simple(1, dims, NULL);
    hid_t ms = H5Screate_simple(1, cnt, NULL);
    hid_t d = H5Dcreate2(f, name, t, fs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE);
    if (n) {
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    } else {
        H5Sselect_none(fs);
        H5Sselect_none(ms);
    }
    /* An empty contiguous dataset has no storage to write to. */
    herr_t rc = d < 0 ? -1 : total == 0 ? 0 : H5Dwrite(d, t, ms, fs, x, buf);
    H5Pclose(x);
    H5Sclose(ms);
    H5Sclose(fs);
    if (d >= 0 && H5Dclose(d) < 0)
        rc = -1;
    return rc < 0 ? h5_fail(err, CS_EIO, "writing %s", name) : CS_OK;
}

/* Collective: every rank's n records, concatenated in rank order. */
static int put_all(const cs_comm *c, hid_t f, const char *name, hid_t t, uint64_t n,
                   const void *buf, cs_err *err)
{
    uint64_t off = 0;
    int64_t total = (int64_t)n;
    if (comm_exscan_u64(c, n, &off, err) != CS_OK || comm_sum_i64(c, &total, 1, 1, err) != CS_OK)
        return err->code;
    return put_at(f, name, t, (uint64_t)total, off, n, buf, err);
}

/* Collective: rank 0's n values (n must be equal on every rank). */
static int put_root(const cs_comm *c, hid_t f, const char *name, hid_t t, uint64_t n,
                    const void *buf, cs_err *err)
{
    return put_at(f, name, t, n, 0, c->rank == 0 ? n : 0, buf, err);
}

/* Every used entry of the table, packed. */
static int pack_users(const cs_users *t, cs_user **out, cs_err *err)
{
    uint64_t n = 0;
    *out = cs_malloc((t->n + 1) * sizeof **out, err, "checkpoint user records");
    if (!*out)
        return CS_ENOMEM;
    for (uint64_t i = 0; i < t->n; i++)
        if (t->slot[i].used)
            (*out)[n++] = t->slot[i];
    return CS_OK;
}

/* The unfinished sessions (id pointers cleared) and their id lists
 * concatenated in the same order. */
static int pack_open(const cs_sessionizer *s, cs_sess_state **out, uint64_t **ids,
                     uint64_t *nids, cs_err *err)
{
    uint64_t m = 0;
    for (uint64_t i = 0; i < s->npool; i++)
        m += s->pool[i].ids ? (uint64_t)s->pool[i].nprod + s->pool[i].ncat + s->pool[i].nbrand : 0;
    *out = cs_malloc((s->npool + 1) * sizeof **out, err, "checkpoint open sessions");
    *ids = cs_malloc((m + 1) * sizeof **ids, err, "checkpoint id lists");
    if (!*out || !*ids)
        return CS_ENOMEM;
    m = 0;
    for (uint64_t i = 0; i < s->npool; i++) {
        const cs_sess_state *o = &s->pool[i];
        cs_sess_state *p = &(*out)[i];
        *p = *o;
        p->ids = NULL;
        p->user_pos = 0;   /* a position in this run's table only */
        uint64_t k = o->ids ? (uint64_t)o->nprod + o->ncat + o->nbrand : 0;
        if (!o->ids)
            p->nprod = p->ncat = p->nbrand = 0;
        memcpy(*ids + m, o->ids ? o->ids : *ids, k * sizeof **ids);
        m += k;
    }
    *nids = m;
    return CS_OK;
}

static int write_attrs(hid_t f, const cs_snap_meta *m, int64_t maxts, int ranks, cs_err *err)
{
    char sig[256], hash[32];
    layout_signature(sig, sizeof sig);
    snprintf(hash, sizeof hash, "%016" PRIx64, m->config_hash);
    int rc = h5_attr_string(f, "format", SNAP_FORMAT, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "version", SNAP_VERSION, err);
    if (rc == CS_OK) rc = h5_attr_string(f, "layout", sig, err);
    if (rc == CS_OK) rc = h5_attr_string(f, "config_hash", hash, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "next_row", (int64_t)m->next_row, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "row_base", (int64_t)m->row_base, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "maxts", maxts, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "sessions", m->sessions, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "ranks", ranks, err);
    return rc;
}

/* Collective: the statistics, reduced onto rank 0; other ranks reset. */
static int write_stats(const cs_comm *c, hid_t f, cs_stats *st, cs_err *err)
{
    int rc = stats_reduce(c, st, err);
    if (rc != CS_OK)
        return rc;
    uint64_t np = st->nperiods, w = (uint64_t)st->nseg * PS_NFIELDS;
    rc = put_root(c, f, "stats_totals", H5T_NATIVE_INT64, sizeof st->tot / 8, &st->tot, err);
    if (rc == CS_OK)
        rc = put_root(c, f, "stats_segments", H5T_NATIVE_INT64,
                      (uint64_t)st->nseg * sizeof(cs_segstat) / 8, st->seg, err);
    if (rc == CS_OK)
        rc = put_root(c, f, "stats_period_keys", H5T_NATIVE_INT64, np, st->pkeys, err);
    if (rc == CS_OK)
        rc = put_root(c, f, "stats_period_rows", H5T_NATIVE_INT64, np * w, st->prow, err);
    if (c->rank != 0) {
        int nseg = st->nseg;
        stats_free(st);
        stats_init(st, nseg, err);
    }
    return rc;
}

static int write_history(const cs_comm *c, hid_t f, const cs_snap_meta *m, cs_err *err)
{
    int64_t n = c->rank == 0 ? m->nhist : 0;
    int rc = comm_max_i64(c, &n, 1, 1, err);
    uint64_t k = (uint64_t)n;
    char *paths = rc == CS_OK ? cs_calloc(k + 1, sizeof m->hist->path, err, "history") : NULL;
    int64_t *v = paths ? cs_calloc(3 * k + 1, sizeof *v, err, "history") : NULL;
    if (v && c->rank == 0)
        for (uint64_t i = 0; i < k; i++) {
            memcpy(paths + i * sizeof m->hist->path, m->hist[i].path, sizeof m->hist->path);
            v[i] = (int64_t)m->hist[i].rows;
            v[k + i] = m->hist[i].ts_first;
            v[2 * k + i] = m->hist[i].ts_last;
        }
    if (comm_agree(c, err) != CS_OK) {
        free(paths); free(v);
        return err->code;
    }
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, sizeof m->hist->path);
    H5Tset_strpad(st, H5T_STR_NULLTERM);
    rc = put_root(c, f, "history_path", st, k, paths, err);
    if (rc == CS_OK) rc = put_root(c, f, "history_rows", H5T_NATIVE_INT64, k, v, err);
    if (rc == CS_OK) rc = put_root(c, f, "history_ts_first", H5T_NATIVE_INT64, k, v + k, err);
    if (rc == CS_OK) rc = put_root(c, f, "history_ts_last", H5T_NATIVE_INT64, k, v + 2 * k, err);
    H5Tclose(st);
    free(paths); free(v);
    return rc;
}

/* Rank 0: flushes a closed file to the disk. */
static int sync_file(const char *path, cs_err *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        cs_err_set(err, CS_EIO, "%s: cannot sync to disk: %m", path);
        if (fd >= 0)
            close(fd);
        return CS_EIO;
    }
    close(fd);
    return CS_OK;
}

int snapshot_write(const cs_comm *c, const char *path, const cs_run_state *s,
                   const cs_snap_meta *m, cs_err *err)
{
    cs_user *urec = NULL;
    cs_sess_state *orec = NULL;
    uint64_t *ids = NULL, nids = 0;
    if (pack_users(s->users, &urec, err) == CS_OK)
        pack_open(s->sz, &orec, &ids, &nids, err);
    if (comm_agree(c, err) != CS_OK) {
        free(urec); free(orec); free(ids);
        return err->code;
    }
    hid_t f = open_file(c, path, 1);
    int rc = f < 0 ? h5_fail(err, CS_EIO, "%s: cannot create", path) : CS_OK;
    if (comm_agree(c, err) != CS_OK) {
        free(urec); free(orec); free(ids);
        return err->code;
    }
    hid_t tu = rec_type("clickseg cs_user", sizeof(cs_user));
    hid_t to = rec_type("clickseg cs_sess_state", sizeof(cs_sess_state));
    hid_t te = rec_type("clickseg cs_event", sizeof(cs_event));
    hid_t ts = rec_type("clickseg cs_session", sizeof(cs_session));
    /* Each step is collective; agreeing after each keeps the ranks in step
     * when one of them fails. */
#define STEP(call) do { if (rc == CS_OK) { call; rc = comm_agree(c, err); } } while (0)
    STEP(write_attrs(f, m, *s->maxts, c->size, err));
    STEP(put_all(c, f, "users", tu, s->users->n, urec, err));
    STEP(put_all(c, f, "open", to, s->sz->npool, orec, err));
    STEP(put_all(c, f, "open_ids", H5T_NATIVE_UINT64, nids, ids, err));
    STEP(put_all(c, f, "carry", te, *s->ncarry, *s->carry, err));
    STEP(put_all(c, f, "sessions", ts, s->sess ? *s->nsess : 0, s->sess ? *s->sess : NULL, err));
    STEP(write_stats(c, f, s->st, err));
    STEP(write_history(c, f, m, err));
#undef STEP
    H5Tclose(tu); H5Tclose(to); H5Tclose(te); H5Tclose(ts);
    free(urec); free(orec); free(ids);
    int agreed = rc != CS_OK;   /* a failed STEP was agreed already */
    if (H5Fclose(f) < 0 && rc == CS_OK)
        rc = h5_fail(err, CS_EIO, "closing");
    if (rc == CS_OK && c->rank == 0)
        rc = sync_file(path, err);
    if (!agreed)
        rc = comm_agree(c, err);
    if (rc != CS_OK)
        cs_err_wrap(err, "%s", path);
    return rc;
}

/* ---- reading ---- */

/* Collective: this rank's even slab of dataset `name` (all of it on rank 0
 * and nothing elsewhere when root_only). *buf is malloc'd (size bytes per
 * record); *n records. */
static int get(const cs_comm *c, hid_t f, const char *name, hid_t t, size_t size, int root_only,
               void **buf, uint64_t *n, cs_err *err)
{
    *buf = NULL;
    *n = 0;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "no dataset %s", name);
    hid_t fs = H5Dget_space(d);
    hsize_t dims[1] = {0};
    H5Sget_simple_extent_dims(fs, dims, NULL);
    uint64_t total = dims[0], lo, hi;
    if (root_only) {
        lo = 0;
        hi = c->rank == 0 ? total : 0;
    } else {
        lo = total * (uint64_t)c->rank / (uint64_t)c->size;
        hi = total * (uint64_t)(c->rank + 1) / (uint64_t)c->size;
    }
    hsize_t st[1] = {lo}, cnt[1] = {hi - lo};
    *buf = cs_malloc((hi - lo + 1) * size, err, name);
    if (!*buf)
        cnt[0] = 0;   /* still take part in the collective read */
    hid_t ms = H5Screate_simple(1, cnt, NULL);
    if (cnt[0]) {
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    } else {
        H5Sselect_none(fs);
        H5Sselect_none(ms);
    }
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE);
    char dummy[64];
    herr_t rc = total == 0 ? 0 : H5Dread(d, t, ms, fs, x, *buf ? *buf : dummy);
    H5Pclose(x);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    if (!*buf)
        return CS_ENOMEM;
    if (rc < 0)
        return h5_fail(err, CS_EINPUT, "reading %s", name);
    *n = cnt[0];
    return CS_OK;
}

/* Puts received user records into the table (no unfinished session
 * bound yet: sess_reopen binds the pool once it is loaded). */
static int insert_users(cs_users *t, const cs_user *u, uint64_t n, cs_err *err)
{
    for (uint64_t i = 0; i < n; i++) {
        cs_user *e = users_get(t, u[i].user_id, err);
        if (!e)
            return CS_ENOMEM;
        *e = u[i];
        e->used = 1;
        e->open_slot = 0;
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

static int read_attrs(hid_t f, cs_snap_meta *m, int64_t *maxts, cs_err *err)
{
    char sig[256] = "(none)", want[256], fmt[64] = "", hash[32] = "";
    layout_signature(want, sizeof want);
    int64_t v[6] = {0};
    if (h5_attr_get_string(f, "format", fmt, sizeof fmt) != 1 || strcmp(fmt, SNAP_FORMAT) != 0)
        return cs_err_set(err, CS_EINPUT, "not a clickseg snapshot (no format attribute '%s')",
                          SNAP_FORMAT);
    if (!h5_attr_get_int64(f, "version", &v[0]) || v[0] != SNAP_VERSION)
        return cs_err_set(err, CS_EINPUT, "snapshot version %lld, this clickseg reads %d; "
                          "finish it with the build that wrote it or start over",
                          (long long)v[0], SNAP_VERSION);
    if (h5_attr_get_string(f, "layout", sig, sizeof sig) != 1 || strcmp(sig, want) != 0)
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
    *maxts = v[3];
    m->sessions = (int)v[4];
    m->ranks = (int)v[5];
    return CS_OK;
}

static int read_stats(const cs_comm *c, hid_t f, cs_stats *st, cs_err *err)
{
    void *tot = NULL, *seg = NULL, *keys = NULL, *rows = NULL;
    uint64_t nt, ns, nk, nr, w = (uint64_t)st->nseg * PS_NFIELDS;
    int rc = get(c, f, "stats_totals", H5T_NATIVE_INT64, 8, 1, &tot, &nt, err);
    if (rc == CS_OK) rc = get(c, f, "stats_segments", H5T_NATIVE_INT64, 8, 1, &seg, &ns, err);
    if (rc == CS_OK) rc = get(c, f, "stats_period_keys", H5T_NATIVE_INT64, 8, 1, &keys, &nk, err);
    if (rc == CS_OK) rc = get(c, f, "stats_period_rows", H5T_NATIVE_INT64, 8, 1, &rows, &nr, err);
    if (rc == CS_OK && c->rank == 0) {
        if (nt != sizeof st->tot / 8 || ns != (uint64_t)st->nseg * sizeof(cs_segstat) / 8 ||
            nr != nk * w)
            rc = cs_err_set(err, CS_EINPUT, "statistics of another shape (%d segments expected)",
                            st->nseg);
        if (rc == CS_OK) {
            memcpy(&st->tot, tot, sizeof st->tot);
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
    int rc = get(c, f, "history_path", st, sizeof m->hist->path, 1, &p, &n, err);
    H5Tclose(st);
    if (rc == CS_OK) rc = get(c, f, "history_rows", H5T_NATIVE_INT64, 8, 1, &r, &k, err);
    if (rc == CS_OK) rc = get(c, f, "history_ts_first", H5T_NATIVE_INT64, 8, 1, &a, &k, err);
    if (rc == CS_OK) rc = get(c, f, "history_ts_last", H5T_NATIVE_INT64, 8, 1, &b, &k, err);
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

static uint64_t nids_of(const cs_sess_state *o)
{
    return (uint64_t)o->nprod + o->ncat + o->nbrand;
}

/* Collective: reads [off, off + n) of the uint64 dataset `name` into buf
 * (buf NULL: this rank reads nothing but takes part). */
static int get_range(hid_t f, const char *name, uint64_t off, uint64_t n, uint64_t *buf,
                     cs_err *err)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "no dataset %s", name);
    hid_t fs = H5Dget_space(d);
    hsize_t st[1] = {off}, cnt[1] = {buf ? n : 0}, dims[1] = {0};
    H5Sget_simple_extent_dims(fs, dims, NULL);
    hid_t ms = H5Screate_simple(1, cnt, NULL);
    if (cnt[0]) {
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    } else {
        H5Sselect_none(fs);
        H5Sselect_none(ms);
    }
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE);
    uint64_t dummy[1];
    herr_t rc = dims[0] == 0 ? 0 : H5Dread(d, H5T_NATIVE_UINT64, ms, fs, x, buf ? buf : dummy);
    H5Pclose(x);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    return rc < 0 ? h5_fail(err, CS_EINPUT, "reading %s", name) : CS_OK;
}

/* Collective: the users, spread to their owners. */
static int read_users(const cs_comm *c, hid_t f, const cs_run_state *s, cs_err *err)
{
    hid_t tu = rec_type("clickseg cs_user", sizeof(cs_user));
    cs_user *u = NULL, *got = NULL;
    uint64_t nu = 0, ngot = 0;
    get(c, f, "users", tu, sizeof(cs_user), 0, (void **)&u, &nu, err);
    H5Tclose(tu);
    int rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = shuffle_route(c, u, nu, sizeof(cs_user), NULL, NULL, (void **)&got, &ngot, NULL,
                           NULL, err);
    if (rc == CS_OK) {
        insert_users(s->users, got, ngot, err);
        rc = comm_agree(c, err);
    }
    free(u); free(got);
    return rc;
}

/* Collective: the unfinished sessions and their id lists, spread to their
 * users' owners (by user_id, the record's first field). */
static int read_open(const cs_comm *c, hid_t f, const cs_run_state *s, cs_err *err)
{
    hid_t to = rec_type("clickseg cs_sess_state", sizeof(cs_sess_state));
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
    get_range(f, "open_ids", before, mine, ids, err);
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
    hid_t t = rec_type(tag, size);
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

int snapshot_read(const cs_comm *c, const char *path, const cs_run_state *s,
                  cs_snap_meta *m, cs_err *err)
{
    memset(m, 0, sizeof *m);
    hid_t f = open_file(c, path, 0);
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
    if (rc == CS_OK && m->sessions && s->sess)
        rc = read_keyed(c, f, "sessions", "clickseg cs_session", sizeof(cs_session),
                        (void **)s->sess, s->nsess, s->sess_cap, err);
    if (rc == CS_OK) {
        read_stats(c, f, s->st, err);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK) {
        read_history(c, f, m, err);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK) {
        sess_reopen(s->sz, s->users, err);
        rc = comm_agree(c, err);
    }
    if (f >= 0)
        H5Fclose(f);
    if (rc != CS_OK)
        cs_err_wrap(err, "%s", path);
    return rc;
}
