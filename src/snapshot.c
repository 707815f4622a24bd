/* snapshot.c — a run's state in one parallel HDF5 file (see snapshot.h).
 *
 * Layout: attributes (format, version, layout signature, config hash,
 * next_row, row_base, rejected_base, maxts, sessions, ranks) and 1-D datasets: `users`
 * (opaque cs_user records), `open` (opaque cs_sess_state records: the
 * unfinished sessions, id list pointers cleared), `open_ids` (their
 * product, category and brand id lists, concatenated in the order of
 * `open`), `carry` (opaque cs_event), `sessions` (opaque cs_session),
 * `stats_totals`, `stats_segments`, `stats_period_keys`, `stats_period_rows`
 * (int64, the reduced statistics), and `history_*` (the files of earlier
 * runs of a --state chain). Each rank writes its records at the offset of
 * an exclusive prefix sum; on load each rank reads an even slab and sends
 * every record to its owner under the current rank count. This file holds
 * what both directions share and the writing; snapshot_read.c the
 * reading. */
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

#include "snapshot_priv.h"

/* The struct sizes and constants a snapshot's records depend on. */
void snap_layout_signature(char *buf, size_t n)
{
    snap_layout_signature_segstat(buf, n, sizeof(cs_segstat));
}

void snap_layout_signature_segstat(char *buf, size_t n, size_t segstat_size)
{
    /* cs_user_seg: per-segment counters interleaved (an older table kept
     * two arrays at the same offsets and sizes); cs_event's price offset:
     * an older record kept it after the ids, at the same size. */
    snprintf(buf, n, "snap_user=%zu/%zu/cs_user_seg=%zu@%zu cs_sess_state=%zu/%zu cs_event=%zu/%zu "
             "cs_session=%zu cs_totals=%zu cs_segstat=%zu segments=%d features=%d "
             "period_fields=%d",
             sizeof(snap_user), offsetof(snap_user, more), sizeof(cs_user_seg),
             offsetof(cs_user, seg), sizeof(cs_sess_state),
             offsetof(cs_sess_state, ids), sizeof(cs_event), offsetof(cs_event, price),
             sizeof(cs_session),
             sizeof(cs_totals), segstat_size, CS_MAX_SEGMENTS, F_NFEATURES, PS_NFIELDS);
}

hid_t snap_rec_type(const char *tag, size_t size)
{
    hid_t t = H5Tcreate(H5T_OPAQUE, size);
    H5Tset_tag(t, tag);
    return t;
}

hid_t snap_open_file(const cs_comm *c, const char *path, int create)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL);
    hid_t f = create ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)
                     : H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

uint64_t snap_rows_checksum(const void *buf, size_t size, uint64_t n, uint64_t row0)
{
    const unsigned char *p = buf;
    uint64_t x = 0;
    for (uint64_t i = 0; p && i < n; i++, p += size) {
        uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (row0 + i), w;
        size_t k = 0;
        for (; k + 8 <= size; k += 8) {
            memcpy(&w, p + k, 8);
            h = cs_mix64(h ^ w);
        }
        if (k < size) {
            w = 0;
            memcpy(&w, p + k, size - k);
            h = cs_mix64(h ^ w);
        }
        x ^= cs_mix64(h);
    }
    return x;
}

/* ---- writing ---- */

/* Collective, after a dataset's rows are written: the XOR of every rank's
 * checksum of its rows (sum), agreed, stored as the `checksum` attribute
 * only when every rank wrote (a collective call with one value), and the
 * dataset closed. Every rank takes part whatever its own write gave. */
static int put_finish(const cs_comm *c, hid_t d, const char *name, uint64_t sum, cs_err *err)
{
    int arc = comm_xor_u64(c, &sum, err);
    if (arc == CS_OK)
        arc = comm_agree(c, err);
    if (arc == CS_OK)
        arc = h5_attr_int64(d, "checksum", (int64_t)sum, err);
    if (d >= 0 && H5Dclose(d) < 0 && arc == CS_OK)
        arc = h5_fail(err, CS_EIO, "writing %s", name);
    return arc;
}

/* Collective: dataset `name` of `total` records of type t, this rank's n
 * records going to [off, off + n), with its checksum attribute. */
static int put_at(const cs_comm *c, hid_t f, const char *name, hid_t t, uint64_t total,
                  uint64_t off, uint64_t n, const void *buf, cs_err *err)
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
    /* Every rank takes part in the XOR and the agreement, whatever its own
     * write gave (MPI-IO can fail a collective write on some ranks only,
     * out of space on the ones that write); the attribute, a collective
     * call with one value, only when every rank wrote. */
    uint64_t sum = rc >= 0 ? snap_rows_checksum(buf, H5Tget_size(t), n, off) : 0;
    if (rc < 0)
        h5_fail(err, CS_EIO, "writing %s", name);
    return put_finish(c, d, name, sum, err);
}

/* Collective: every rank's n records, concatenated in rank order. */
static int put_all(const cs_comm *c, hid_t f, const char *name, hid_t t, uint64_t n,
                   const void *buf, cs_err *err)
{
    uint64_t off = 0;
    int64_t total = (int64_t)n;
    if (comm_exscan_u64(c, n, &off, err) != CS_OK || comm_sum_i64(c, &total, 1, 1, err) != CS_OK)
        return err->code;
    return put_at(c, f, name, t, (uint64_t)total, off, n, buf, err);
}

/* This rank's records [at, at + m) of a dataset written in blocks, into
 * out (m records). */
typedef int (*snap_fill_fn)(void *ctx, uint64_t at, uint64_t m, void *out, cs_err *err);

/* Collective: every rank's n records, concatenated in rank order, made by
 * fill and written SNAP_BLOCK_BYTES at a time, so a checkpoint never holds
 * a second copy of the user table or the sessions. Every rank makes as
 * many collective writes as the rank with the most blocks (empty ones
 * after its own, or after a failure, which the agreement then reports);
 * the checksum is put_at's. */
static int put_blocks(const cs_comm *c, hid_t f, const char *name, hid_t t, uint64_t n,
                      snap_fill_fn fill, void *ctx, cs_err *err)
{
    size_t size = H5Tget_size(t);
    uint64_t block = SNAP_BLOCK_BYTES / size, off = 0;
    int64_t total = (int64_t)n, blocks = (int64_t)((n + block - 1) / block);
    if (comm_exscan_u64(c, n, &off, err) != CS_OK || comm_sum_i64(c, &total, 1, 1, err) != CS_OK ||
        comm_max_i64(c, &blocks, 1, 1, err) != CS_OK)
        return err->code;
    char *buf = cs_malloc(block * size, err, name);
    hsize_t dims[1] = {(hsize_t)total};
    hid_t fs = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(f, name, t, fs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(fs);
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE);
    int ok = d >= 0 && buf != NULL;
    if (d < 0)
        h5_fail(err, CS_EIO, "writing %s", name);
    uint64_t sum = 0, dummy = 0;   /* a rank writing nothing still passes a buffer */
    for (int64_t b = 0; b < blocks; b++) {
        uint64_t at = (uint64_t)b * block;
        uint64_t m = ok && at < n ? (n - at < block ? n - at : block) : 0;
        if (m && fill(ctx, at, m, buf, err) != CS_OK) {
            ok = 0;
            m = 0;
        }
        void *src = m ? (void *)buf : (void *)&dummy;
        if (d >= 0 && h5_write_rows(d, t, x, off + at, m, src) < 0 && ok) {
            h5_fail(err, CS_EIO, "writing %s", name);
            ok = 0;
        }
        if (ok)
            sum ^= snap_rows_checksum(buf, size, m, off + at);
    }
    H5Pclose(x);
    free(buf);
    return put_finish(c, d, name, sum, err);
}

/* snap_fill_fn of the user table: entries [at, at + m) with their further
 * segments (each entry was inserted, so used), padding zeroed. */
static int fill_users(void *ctx, uint64_t at, uint64_t m, void *out, cs_err *err)
{
    (void)err;
    const cs_users *t = ctx;
    snap_user *u = out;
    memset(u, 0, m * sizeof *u);
    for (uint64_t i = 0; i < m; i++) {
        u[i].u = t->slot[at + i];
        for (int s = 0; s < t->nmore; s++)
            u[i].more[s] = t->more_seg[(at + i) * (uint64_t)t->nmore + (uint64_t)s];
    }
    return CS_OK;
}

/* snap_fill_fn of the closed sessions: read back from the spool. */
static int fill_sessions(void *ctx, uint64_t at, uint64_t m, void *out, cs_err *err)
{
    return spool_read(ctx, at, m, out, err);
}

/* Collective: rank 0's n values (n must be equal on every rank). */
static int put_root(const cs_comm *c, hid_t f, const char *name, hid_t t, uint64_t n,
                    const void *buf, cs_err *err)
{
    return put_at(c, f, name, t, n, 0, c->rank == 0 ? n : 0, buf, err);
}

/* snap_fill_fn of the unfinished sessions: pool entries, their id list
 * pointers cleared (the counts kept only where a list is there) and
 * user_pos, a position in this run's table only, zeroed. */
static int fill_open(void *ctx, uint64_t at, uint64_t m, void *out, cs_err *err)
{
    (void)err;
    const cs_sessionizer *s = ctx;
    cs_sess_state *p = out;
    for (uint64_t i = 0; i < m; i++) {
        p[i] = s->pool[at + i];
        if (!p[i].ids)
            p[i].nprod = p[i].ncat = p[i].nbrand = 0;
        p[i].ids = NULL;
        p[i].user_pos = 0;
    }
    return CS_OK;
}

static uint64_t open_ids_of(const cs_sess_state *o)
{
    return o->ids ? (uint64_t)o->nprod + o->ncat + o->nbrand : 0;
}

/* Where the id lists of the unfinished sessions have been copied up to:
 * `open_ids` holds them concatenated in pool order, and put_blocks asks
 * for its blocks in order. */
typedef struct ids_cursor {
    const cs_sessionizer *s;
    uint64_t entry, off;
} ids_cursor;

/* snap_fill_fn of `open_ids`: the next m ids from the cursor on. */
static int fill_open_ids(void *ctx, uint64_t at, uint64_t m, void *out, cs_err *err)
{
    (void)at;
    ids_cursor *c = ctx;
    uint64_t *o = out, got = 0;
    while (got < m && c->entry < c->s->npool) {
        const cs_sess_state *e = &c->s->pool[c->entry];
        uint64_t k = open_ids_of(e), take = k - c->off < m - got ? k - c->off : m - got;
        if (take)
            memcpy(o + got, e->ids + c->off, take * sizeof *o);
        got += take;
        c->off += take;
        if (c->off == k) {
            c->entry++;
            c->off = 0;
        }
    }
    return got == m ? CS_OK : cs_err_set(err, CS_EINTERNAL, "unfinished sessions' ids: %llu of %llu",
                                         (unsigned long long)got, (unsigned long long)m);
}

static int write_attrs(hid_t f, const cs_snap_meta *m, int64_t maxts, int ranks, cs_err *err)
{
    char sig[256], hash[32];
    snap_layout_signature(sig, sizeof sig);
    snprintf(hash, sizeof hash, "%016" PRIx64, m->config_hash);
    int rc = h5_attr_string(f, "format", SNAP_FORMAT, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "version", SNAP_VERSION, err);
    if (rc == CS_OK) rc = h5_attr_string(f, "layout", sig, err);
    if (rc == CS_OK) rc = h5_attr_string(f, "config_hash", hash, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "next_row", (int64_t)m->next_row, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "row_base", (int64_t)m->row_base, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "rejected_base", (int64_t)m->rejected_base, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "late_base", (int64_t)m->late_base, err);
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

/* Collective: the chain's user dictionaries (rank 0's m->dicts) as the
 * dataset dictionary_path, one real path a row. */
static int write_dicts(const cs_comm *c, hid_t f, const cs_snap_meta *m, cs_err *err)
{
    int64_t n = c->rank == 0 ? m->ndicts : 0;
    int rc = comm_max_i64(c, &n, 1, 1, err);
    if (rc != CS_OK)
        return rc;
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, CS_DICT_PATH_LEN);
    H5Tset_strpad(st, H5T_STR_NULLTERM);
    static const char none[CS_DICT_PATH_LEN];   /* the buffer of a rank writing nothing */
    const void *buf = c->rank == 0 && m->dicts ? (const void *)m->dicts : none;
    rc = put_root(c, f, "dictionary_path", st, (uint64_t)n, buf, err);
    H5Tclose(st);
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

/* Collective: about the bytes snapshot_write's datasets take, summed over
 * the ranks (the statistics' periods are counted on every rank that has
 * them: an upper bound of the union rank 0 writes). */
static int snap_bytes(const cs_comm *c, const cs_run_state *s, const cs_snap_meta *m,
                      uint64_t nids, int64_t *bytes, cs_err *err)
{
    const cs_stats *st = s->st;
    uint64_t b = s->users->n * sizeof(snap_user) + s->sz->npool * sizeof(cs_sess_state) +
                 nids * 8 + *s->ncarry * sizeof(cs_event) +
                 (s->spool ? s->spool->n * sizeof(cs_session) : 0) +
                 st->nperiods * (1 + (uint64_t)st->nseg * PS_NFIELDS) * 8;
    if (c->rank == 0)
        b += sizeof st->tot + (uint64_t)st->nseg * sizeof(cs_segstat) +
             (uint64_t)m->nhist * (sizeof m->hist->path + 24) +
             (uint64_t)m->ndicts * CS_DICT_PATH_LEN;
    *bytes = (int64_t)b;
    return comm_sum_i64(c, bytes, 1, 1, err);
}

int snapshot_write(const cs_comm *c, const char *path, const cs_run_state *s,
                   const cs_snap_meta *m, cs_err *err)
{
    uint64_t nids = 0;
    for (uint64_t i = 0; i < s->sz->npool; i++)
        nids += open_ids_of(&s->sz->pool[i]);
    ids_cursor cursor = {s->sz, 0, 0};
    int64_t bytes = 0;
    if (snap_bytes(c, s, m, nids, &bytes, err) != CS_OK)
        return err->code;
    hid_t f = snap_open_file(c, path, 1);
    int rc = f < 0 ? h5_fail(err, CS_EIO, "%s: cannot create", path) : CS_OK;
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    /* Its room set aside before the first write: a full disk fails here,
     * on every rank alike (h5_reserve); the file is closed below, emptied. */
    rc = h5_reserve(c, path, (uint64_t)bytes, err);
    hid_t tu = snap_rec_type("clickseg snap_user", sizeof(snap_user));
    hid_t to = snap_rec_type("clickseg cs_sess_state", sizeof(cs_sess_state));
    hid_t te = snap_rec_type("clickseg cs_event", sizeof(cs_event));
    hid_t ts = snap_rec_type("clickseg cs_session", sizeof(cs_session));
    /* Each step is collective; agreeing after each keeps the ranks in step
     * when one of them fails. */
#define STEP(call) do { if (rc == CS_OK) { call; rc = comm_agree(c, err); } } while (0)
    STEP(write_attrs(f, m, *s->maxts, c->size, err));
    STEP(put_blocks(c, f, "users", tu, s->users->n, fill_users, s->users, err));
    STEP(put_blocks(c, f, "open", to, s->sz->npool, fill_open, s->sz, err));
    STEP(put_blocks(c, f, "open_ids", H5T_NATIVE_UINT64, nids, fill_open_ids, &cursor, err));
    STEP(put_all(c, f, "carry", te, *s->ncarry, *s->carry, err));
    STEP(put_blocks(c, f, "sessions", ts, s->spool ? s->spool->n : 0, fill_sessions, s->spool,
                    err));
    STEP(write_stats(c, f, s->st, err));
    STEP(write_history(c, f, m, err));
    STEP(write_dicts(c, f, m, err));
#undef STEP
    H5Tclose(tu); H5Tclose(to); H5Tclose(te); H5Tclose(ts);
    if (rc != CS_OK)
        cs_err_wrap(err, "%s", path);
    /* A failed snapshot is truncated as it closes (the caller removes
     * it), so that the close finds room on a full disk. */
    rc = h5_close_file(c, f, path, err);
    if (rc == CS_OK) {
        if (c->rank == 0)
            sync_file(path, err);
        rc = comm_agree(c, err);
    }
    return rc;
}
