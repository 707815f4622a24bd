/* import_dict.c — the ranks' dictionaries become one: each entry goes to
 * the rank that owns its hash range (64-bit ids: users, sessions,
 * products) or to rank 0 (32-bit ids: categories, brands, which are few
 * and need one place to settle collisions of their 31 hashed bits), is
 * merged there, and written in hash order to dictionaries.h5 — the same
 * file for any number of ranks. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/h5util.h"
#include "import_impl.h"

/* 64-bit ids: hashes have the top bit set and uniform lower bits, so rank
 * r owns the r-th of nranks equal ranges and rank order is hash order. */
static int owner_range(uint64_t h, void *arg)
{
    int n = *(const int *)arg;
    return (int)(((unsigned __int128)(h << 1) * (unsigned)n) >> 64);
}

static int owner_zero(uint64_t h, void *arg)
{
    (void)h;
    (void)arg;
    return 0;
}

/* Sends dictionary d's entries to their owners and merges what arrives. */
static int merge_one(imp_ctx *x, int d, cs_err *err)
{
    const cs_comm *c = x->c;
    char *buf = NULL;
    void *recv = NULL;
    uint64_t recvcap = 0, nrecv = 0;
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "dictionary exchange");
    int n = c->size, rc = counts ? CS_OK : CS_ENOMEM;
    if (rc == CS_OK)
        rc = dict_pack(&x->p.dict[d], n, imp_dict_is32(d) ? owner_zero : owner_range, &n, &buf,
                       counts, err);
    if (comm_agree(c, err) != CS_OK) {
        free(counts);
        free(buf);
        return err->code;
    }
    rc = comm_alltoallv(c, buf, counts, 1, &recv, &recvcap, &nrecv, err);
    free(buf);
    free(counts);
    dict_free(&x->p.dict[d]);
    if (rc == CS_OK)
        rc = dict_unpack(&x->p.dict[d], recv, nrecv, err);
    free(recv);
    if (rc == CS_OK)
        dict_sort(&x->p.dict[d]);
    if (rc != CS_OK)
        cs_err_wrap(err, "dictionary '%s'", imp_dict_name(d));
    return comm_agree(c, err);
}

/* Rank 0, 32-bit dictionary: each hash (in hash order) gets
 * dict_fold32(hash, 0), or the next free probe when an earlier one has it.
 * Those that moved are appended to the remap list. */
static int assign32(imp_ctx *x, int d, cs_err *err)
{
    cs_dict *dd = &x->p.dict[d];
    uint64_t nslots = 64;
    while (nslots < 2 * dd->n + 2)
        nslots *= 2;
    uint32_t *used = cs_calloc(nslots, sizeof *used, err, "32-bit ids");
    uint64_t *rh = cs_realloc(x->remap_hash, (x->nremap + dd->n + 1) * sizeof *rh, err, "ids");
    if (rh)
        x->remap_hash = rh;
    uint32_t *ri = cs_realloc(x->remap_id, (x->nremap + dd->n + 1) * sizeof *ri, err, "ids");
    if (ri)
        x->remap_id = ri;
    if (!used || !rh || !ri) {
        free(used);
        return CS_ENOMEM;
    }
    for (uint64_t i = 0; i < dd->n; i++) {
        uint32_t probe = 0, id;
        for (;; probe++) {
            id = dict_fold32(dd->e[i].hash, probe);
            uint64_t s = id & (nslots - 1);
            while (used[s] && used[s] != id)
                s = (s + 1) & (nslots - 1);
            if (!used[s]) {
                used[s] = id;
                break;
            }
        }
        dd->e[i].id32 = id;
        if (probe) {
            x->remap_hash[x->nremap] = dd->e[i].hash;
            x->remap_id[x->nremap++] = id;
        }
    }
    free(used);
    return CS_OK;
}

static int cmp_remap(const void *a, const void *b, void *arg)
{
    const uint64_t *h = arg;
    uint64_t x = h[*(const uint64_t *)a], y = h[*(const uint64_t *)b];
    return x < y ? -1 : x > y;
}

/* Sorts the remap list by hash and sends it to every rank. */
static int share_remap(imp_ctx *x, cs_err *err)
{
    int rc = comm_bcast(x->c, &x->nremap, sizeof x->nremap, err);
    if (rc != CS_OK)
        return rc;
    if (x->c->rank == 0 && x->nremap > 1) {
        uint64_t *idx = cs_malloc(x->nremap * sizeof *idx, err, "ids");
        uint64_t *h = cs_malloc(x->nremap * sizeof *h, err, "ids");
        uint32_t *id = cs_malloc(x->nremap * sizeof *id, err, "ids");
        if (idx && h && id) {
            for (uint64_t i = 0; i < x->nremap; i++)
                idx[i] = i;
            qsort_r(idx, x->nremap, sizeof *idx, cmp_remap, x->remap_hash);
            for (uint64_t i = 0; i < x->nremap; i++) {
                h[i] = x->remap_hash[idx[i]];
                id[i] = x->remap_id[idx[i]];
            }
            memcpy(x->remap_hash, h, x->nremap * sizeof *h);
            memcpy(x->remap_id, id, x->nremap * sizeof *id);
        }
        free(idx);
        free(h);
        free(id);
    }
    if (x->c->rank != 0 && x->nremap) {
        x->remap_hash = cs_malloc(x->nremap * sizeof *x->remap_hash, err, "ids");
        x->remap_id = cs_malloc(x->nremap * sizeof *x->remap_id, err, "ids");
    }
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    rc = comm_bcast(x->c, x->remap_hash, x->nremap * sizeof *x->remap_hash, err);
    if (rc == CS_OK)
        rc = comm_bcast(x->c, x->remap_id, x->nremap * sizeof *x->remap_id, err);
    return rc;
}

uint32_t idict_id32(const imp_ctx *x, uint64_t v)
{
    if (v < (1ULL << 32))
        return (uint32_t)v;
    uint64_t lo = 0, hi = x->nremap;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (x->remap_hash[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->nremap && x->remap_hash[lo] == v ? x->remap_id[lo] : dict_fold32(v, 0);
}

/* ---- writing dictionaries.h5 ---- */

/* Creates dataset name of `total` rows and writes this rank's rows. */
static int write_column(hid_t g, const char *name, hid_t ftype, hid_t mtype, uint64_t total,
                        uint64_t off, uint64_t n, const void *buf, hid_t dxpl)
{
    hsize_t dims[1] = { total };
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(g, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(s);
    if (ds < 0)
        return -1;
    int rc = h5_write_rows(ds, mtype, dxpl, off, n, buf) < 0 ? -1 : 0;
    if (H5Dclose(ds) < 0)
        rc = -1;
    return rc;
}

/* Writes /dictionaries/<name> {id, key, label} of dictionary d. */
static int write_dict(imp_ctx *x, hid_t file, int d, uint64_t total, uint64_t off,
                      int64_t kw, int64_t lw, hid_t dxpl, cs_err *err)
{
    const cs_dict *dd = &x->p.dict[d];
    uint64_t n = dd->n;
    int is32 = imp_dict_is32(d);
    void *ids = cs_calloc(n + 1, is32 ? 4 : 8, err, "dictionary ids");
    char *keys = cs_calloc(n * (uint64_t)kw + 1, 1, err, "dictionary keys");
    char *labels = cs_calloc(n * (uint64_t)lw + 1, 1, err, "dictionary labels");
    int rc = ids && keys && labels ? CS_OK : CS_ENOMEM;
    for (uint64_t i = 0; rc == CS_OK && i < n; i++) {
        if (is32)
            ((uint32_t *)ids)[i] = dd->e[i].id32 ? dd->e[i].id32 : idict_id32(x, dd->e[i].hash);
        else
            ((uint64_t *)ids)[i] = dd->e[i].hash;
        memcpy(keys + i * (uint64_t)kw, dict_key(dd, i), dd->e[i].klen);
        memcpy(labels + i * (uint64_t)lw, dict_label(dd, i), dd->e[i].llen);
    }
    /* Collective from here: every rank creates the same objects. */
    hid_t g = H5Gcreate2(file, imp_dict_name(d), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t kt = H5Tcopy(H5T_C_S1), lt = H5Tcopy(H5T_C_S1);
    H5Tset_size(kt, (size_t)kw);
    H5Tset_strpad(kt, H5T_STR_NULLPAD);
    H5Tset_size(lt, (size_t)lw);
    H5Tset_strpad(lt, H5T_STR_NULLPAD);
    int bad = g < 0;
    bad |= write_column(g, "id", is32 ? H5T_STD_U32LE : H5T_STD_U64LE,
                        is32 ? H5T_NATIVE_UINT32 : H5T_NATIVE_UINT64, total, off,
                        rc == CS_OK ? n : 0, ids, dxpl) != 0;
    bad |= write_column(g, "key", kt, kt, total, off, rc == CS_OK ? n : 0, keys, dxpl) != 0;
    bad |= write_column(g, "label", lt, lt, total, off, rc == CS_OK ? n : 0, labels, dxpl) != 0;
    H5Tclose(kt);
    H5Tclose(lt);
    if (g >= 0)
        H5Gclose(g);
    free(ids);
    free(keys);
    free(labels);
    if (rc == CS_OK && bad)
        rc = h5_fail(err, CS_EIO, "%s/dictionaries.h5: writing /dictionaries/%s", x->tmp,
                     imp_dict_name(d));
    return rc;
}

/* Creates dictionaries.h5 (collective), its room set aside first, and
 * writes every non-empty one. */
static int write_all(imp_ctx *x, const uint64_t *off, const int64_t *kw, const int64_t *lw,
                     cs_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/dictionaries.h5", x->tmp);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, x->c->comm, MPI_INFO_NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return h5_fail(err, CS_EIO, "%s: cannot create", path);
    uint64_t bytes = 0;
    for (int d = 0; d < DICT_N; d++)
        bytes += (uint64_t)x->dict_sizes[d] * ((imp_dict_is32(d) ? 4 : 8) + (uint64_t)kw[d] +
                                               (uint64_t)lw[d]);
    if (h5_reserve(x->c, path, bytes, err) != CS_OK) {
        cs_err_wrap(err, "%s", path);
        return h5_close_file(x->c, f, path, err);
    }
    hid_t g = H5Gcreate2(f, "dictionaries", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = g < 0 ? h5_fail(err, CS_EIO, "%s: cannot create /dictionaries", path) : CS_OK;
    if (rc == CS_OK)
        rc = h5_attr_string(g, "about", "the original text of ids that were not numbers: row i "
                            "of <name>/key (and its label) is the id <name>/id[i] of the events "
                            "column user_id, session_id, product_id, category_id or brand_id",
                            err);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    for (int d = 0; d < DICT_N; d++) {
        if (x->dict_sizes[d] == 0)
            continue;
        int r = write_dict(x, g >= 0 ? g : f, d, (uint64_t)x->dict_sizes[d], off[d], kw[d], lw[d],
                           dxpl, err);
        if (rc == CS_OK)
            rc = r;
    }
    H5Pclose(dxpl);
    if (g >= 0)
        H5Gclose(g);
    /* agreed, and after a failure emptied first (h5util.h) */
    return h5_close_file(x->c, f, path, err);
}

int idict_merge(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    int rc = CS_OK;
    for (int d = 0; rc == CS_OK && d < DICT_N; d++)
        rc = merge_one(x, d, err);
    for (int d = 0; rc == CS_OK && d < DICT_N; d++)
        if (c->rank == 0 && imp_dict_is32(d))
            rc = assign32(x, d, err);
    if (comm_agree(c, err) != CS_OK || share_remap(x, err) != CS_OK)
        return err->code;
    uint64_t mine[DICT_N];
    for (int d = 0; d < DICT_N; d++) {
        const cs_dict *dd = &x->p.dict[d];
        mine[d] = dd->n;
        x->dict_sizes[d] = (int64_t)dd->n;
        x->dict_kw[d] = x->dict_lw[d] = 1;
        for (uint64_t i = 0; i < dd->n; i++) {
            if (dd->e[i].klen > x->dict_kw[d])
                x->dict_kw[d] = dd->e[i].klen;
            if (dd->e[i].llen > x->dict_lw[d])
                x->dict_lw[d] = dd->e[i].llen;
        }
    }
    if ((rc = comm_exscan_u64v(c, mine, x->dict_off, DICT_N, err)) != CS_OK ||
        (rc = comm_sum_i64(c, x->dict_sizes, DICT_N, 1, err)) != CS_OK ||
        (rc = comm_max_i64(c, x->dict_kw, DICT_N, 1, err)) != CS_OK)
        return rc;
    return comm_max_i64(c, x->dict_lw, DICT_N, 1, err);
}

int idict_write(imp_ctx *x, cs_err *err)
{
    int any = 0;
    for (int d = 0; d < DICT_N; d++)
        any |= x->dict_sizes[d] > 0;
    if (any)   /* a failure is in err, for the agreement below */
        write_all(x, x->dict_off, x->dict_kw, x->dict_lw, err);
    /* The text is in the file now; only the 32-bit remap is needed later. */
    for (int d = 0; d < DICT_N; d++)
        dict_free(&x->p.dict[d]);
    return comm_agree(x->c, err) != CS_OK ? err->code : CS_OK;
}
