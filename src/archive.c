/* archive.c — reading archive format v1: schema checks (archive_scan) and
 * typed row-range reads (archive_read_range) with checked conversion.
 *
 * Files are opened read-only with HDF5's default driver on each rank on its
 * own: reads need no coordination, and the input is never modified. Where
 * the columns allow, archive_view_range reads stored chunks in place from a
 * read-only mapping of the file (the input must not change while a job
 * reads it: a file cut short under a mapping is a SIGBUS, not an error). */
#include "clickseg/archive.h"
#include "clickseg/archive_attrs.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickseg/chunkread.h"
#include "clickseg/features.h"
#include "clickseg/h5util.h"
#include "clickseg/profiles.h"

static const char *const col_names[COL_NCOLUMNS] = {
    "ts", "user_id", "event_type", "product_id",
    "category_id", "brand_id", "price", "session_id",
};

const char *archive_column_name(int col)
{
    return (col >= 0 && col < COL_NCOLUMNS) ? col_names[col] : NULL;
}

/* Native memory type of each column. */
static hid_t col_mem_type(int col)
{
    switch (col) {
    case COL_TS: case COL_PRICE: return H5T_NATIVE_INT64;
    case COL_USER_ID: case COL_PRODUCT_ID: case COL_SESSION_ID: return H5T_NATIVE_UINT64;
    case COL_EVENT_TYPE: return H5T_NATIVE_UINT8;
    default: return H5T_NATIVE_UINT32;
    }
}

static size_t col_elem_size(int col)
{
    return H5Tget_size(col_mem_type(col));
}

static void *col_ptr(const cs_columns *c, int col)
{
    switch (col) {
    case COL_TS: return c->ts;
    case COL_USER_ID: return c->user_id;
    case COL_EVENT_TYPE: return c->event_type;
    case COL_PRODUCT_ID: return c->product_id;
    case COL_CATEGORY_ID: return c->category_id;
    case COL_BRAND_ID: return c->brand_id;
    case COL_PRICE: return c->price;
    default: return c->session_id;
    }
}

/* Points column col of c at p (rows of any alignment: cs_colview). */
static void set_col_ptr(cs_colview *c, int col, const void *q)
{
    switch (col) {
    case COL_TS: c->ts = q; break;
    case COL_USER_ID: c->user_id = q; break;
    case COL_EVENT_TYPE: c->event_type = q; break;
    case COL_PRODUCT_ID: c->product_id = q; break;
    case COL_CATEGORY_ID: c->category_id = q; break;
    case COL_BRAND_ID: c->brand_id = q; break;
    case COL_PRICE: c->price = q; break;
    default: c->session_id = q; break;
    }
}

/* Checks an enum event_type: every member name must be a v1 type name. */
static int check_event_enum(hid_t type, const char *path, cs_err *err)
{
    int n = H5Tget_nmembers(type);
    for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(type, (unsigned)i);
        int known = 0;
        for (int t = 0; t < EV_NTYPES && name; t++)
            known |= strcmp(name, ev_type_name(t)) == 0;
        if (!known) {
            cs_err_set(err, CS_EINPUT, "%s: dataset /events/event_type: enum member '%s' "
                       "is not an event type of format v1 (page_view, product_view, search, "
                       "add_to_cart, remove_from_cart, checkout, purchase, refund)",
                       path, name ? name : "?");
            H5free_memory(name);
            return CS_EINPUT;
        }
        H5free_memory(name);
    }
    return CS_OK;
}


/* The names of a dataset's filters, in pipeline order, joined by '+'
 * ("shuffle+deflate+fletcher32"), into buf; "" when it has none. inspect
 * prints them: a checksum alone is not compression. */
static void filter_names(hid_t dcpl, char *buf, size_t n)
{
    int nf = H5Pget_nfilters(dcpl);
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < nf && at < n; i++) {
        unsigned flags, conf;
        size_t ncd = 0;
        char other[16];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, NULL, 0, NULL, &conf);
        const char *name = id == H5Z_FILTER_DEFLATE ? "deflate" : id == H5Z_FILTER_SHUFFLE ? "shuffle"
                           : id == H5Z_FILTER_FLETCHER32 ? "fletcher32" : id == H5Z_FILTER_SZIP ? "szip"
                           : id == H5Z_FILTER_NBIT ? "nbit" : id == H5Z_FILTER_SCALEOFFSET ? "scaleoffset"
                           : NULL;
        if (!name) {
            snprintf(other, sizeof other, "filter%d", (int)id);
            name = other;
        }
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? "+" : "", name);
    }
}
/* The first filter of dcpl this HDF5 cannot run (neither built in nor a
 * plugin it finds), its name in buf; 0 when every one is there. Found at
 * plan time, a missing filter is one clear message instead of HDF5's
 * plugin-path error in the middle of the job. */
static H5Z_filter_t missing_filter(hid_t dcpl, char *buf, size_t n)
{
    static const struct { H5Z_filter_t id; const char *name; } known[] = {
        {307, "bzip2"}, {32000, "lzf (h5py)"}, {32001, "blosc"}, {32004, "lz4"},
        {32008, "bitshuffle"}, {32015, "zstd"}, {32017, "sz"}, {32026, "blosc2"}};
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags, conf;
        size_t ncd = 0;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, NULL, 0, NULL, &conf);
        if (id < 0 || H5Zfilter_avail(id) > 0)
            continue;
        H5Eclear2(H5E_DEFAULT);
        snprintf(buf, n, "filter %d", (int)id);
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (known[k].id == id)
                snprintf(buf, n, "filter %d, %s", (int)id, known[k].name);
        return id;
    }
    return 0;
}

/* Where HDF5 finds a virtual dataset's source file `src`, named in the VDS
 * file `vds`: as given when absolute, else under $HDF5_VDS_PREFIX, beside
 * the VDS file, or from the working directory. 1 with the path in buf
 * when the file exists. */
static int vds_source_path(const char *vds, const char *src, char *buf, size_t n)
{
    if (strcmp(src, ".") == 0) {
        snprintf(buf, n, "%s", vds);
        return 1;
    }
    if (src[0] == '/') {
        snprintf(buf, n, "%s", src);
        return access(buf, F_OK) == 0;
    }
    const char *prefix = getenv("HDF5_VDS_PREFIX");
    if (prefix && *prefix) {
        snprintf(buf, n, "%s/%s", prefix, src);
        if (access(buf, F_OK) == 0)
            return 1;
    }
    const char *slash = strrchr(vds, '/');
    snprintf(buf, n, "%.*s%s", slash ? (int)(slash - vds + 1) : 0, vds, src);
    if (access(buf, F_OK) == 0)
        return 1;
    snprintf(buf, n, "%s", src);
    return access(buf, F_OK) == 0;
}

/* A virtual dataset whose source file or dataset is missing reads as its
 * fill value (zeros: events at 1970-01-01 of user 0) without an error; the
 * whole mapping is checked here instead. */
static int check_virtual(hid_t dcpl, const char *path, const char *name, cs_err *err)
{
    size_t count = 0;
    if (H5Pget_layout(dcpl) != H5D_VIRTUAL || H5Pget_virtual_count(dcpl, &count) < 0)
        return CS_OK;
    for (size_t i = 0; i < count; i++) {
        char src[1024] = "", dset[1024] = "", at[2048];
        H5Pget_virtual_filename(dcpl, i, src, sizeof src);
        H5Pget_virtual_dsetname(dcpl, i, dset, sizeof dset);
        int ok = vds_source_path(path, src, at, sizeof at);
        if (ok) {
            hid_t f = H5Fopen(at, H5F_ACC_RDONLY, H5P_DEFAULT);
            ok = f >= 0 && H5Lexists(f, dset, H5P_DEFAULT) > 0;
            if (f >= 0)
                H5Fclose(f);
            H5Eclear2(H5E_DEFAULT);
        }
        if (!ok)
            return cs_err_set(err, CS_EINPUT, "%s: dataset /events/%s is virtual and its source "
                              "%s:%s is missing (HDF5 would read its rows as zeros)", path, name,
                              src, dset);
    }
    return CS_OK;
}

/* Checks one /events column: 1-D, integer (or enum for event_type), rows
 * equal to the first column's. Fills the column's fields of info. */
static int scan_column(hid_t grp, int col, cs_file_info *info, cs_err *err)
{
    const char *name = col_names[col];
    if (H5Lexists(grp, name, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        /* pandas' DataFrame.to_hdf (PyTables) keeps a frame as "table" or
         * "block0_values": say what the file is, not only what it lacks */
        int pytables = H5Lexists(grp, "table", H5P_DEFAULT) > 0 ||
                       H5Lexists(grp, "block0_values", H5P_DEFAULT) > 0;
        H5Eclear2(H5E_DEFAULT);
        if (col <= COL_EVENT_TYPE)
            return cs_err_set(err, CS_EINPUT, "%s: required dataset /events/%s is missing%s",
                              info->path, name, pytables
                              ? " (/events is a pandas/PyTables table, as DataFrame.to_hdf "
                                "writes; format v1 needs one 1-D dataset per column: write "
                                "them with h5py, see docs/archive-format.md)" : "");
        return CS_OK;
    }
    hid_t d = H5Dopen2(grp, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "%s: /events/%s is not a readable dataset", info->path, name);
    int rc = CS_OK;
    hid_t t = H5Dget_type(d), s = H5Dget_space(d), p = H5Dget_create_plist(d);
    H5T_class_t cls = H5Tget_class(t);
    h5_type_describe(t, info->type_desc[col], sizeof info->type_desc[col]);
    int ndims = H5Sget_simple_extent_ndims(s);
    hsize_t dims[1] = {0};
    if (ndims != 1) {
        rc = cs_err_set(err, CS_EINPUT, "%s: dataset /events/%s has %d dimensions; format v1 "
                        "columns are 1-D", info->path, name, ndims);
    } else if (!(cls == H5T_INTEGER || (cls == H5T_ENUM && col == COL_EVENT_TYPE))) {
        rc = cs_err_set(err, CS_EINPUT, "%s: dataset /events/%s has type %s; format v1 needs an "
                        "integer%s", info->path, name, info->type_desc[col],
                        col == COL_EVENT_TYPE ? " or enum" : "");
    } else if (cls == H5T_ENUM) {
        rc = check_event_enum(t, info->path, err);
    }
    if (rc == CS_OK) {
        H5Sget_simple_extent_dims(s, dims, NULL);
        if (col == COL_TS)
            info->rows = dims[0];
        else if (dims[0] != info->rows)
            rc = cs_err_set(err, CS_EINPUT, "%s: dataset /events/%s has %llu rows but /events/ts "
                            "has %llu; all columns must have the same length", info->path, name,
                            (unsigned long long)dims[0], (unsigned long long)info->rows);
    }
    if (rc == CS_OK)
        rc = check_virtual(p, info->path, name, err);
    char missing[48];
    if (rc == CS_OK && missing_filter(p, missing, sizeof missing))
        rc = cs_err_set(err, CS_EINPUT, "%s: dataset /events/%s is compressed with a filter this "
                        "HDF5 does not have (%s); rewrite the file with a built-in one, e.g. "
                        "h5repack -f GZIP=1 IN OUT", info->path, name, missing);
    if (rc == CS_OK) {
        info->present[col] = 1;
        if (H5Pget_layout(p) == H5D_CHUNKED) {
            hsize_t cd[1];
            H5Pget_chunk(p, 1, cd);
            info->chunk_rows[col] = cd[0];
        }
        filter_names(p, info->filters[col], sizeof info->filters[col]);
    }
    H5Pclose(p);
    H5Sclose(s);
    H5Tclose(t);
    H5Dclose(d);
    return rc;
}

/* Reads one int64 ts value at `row` (for the first/last-row times). */
static int read_ts_at(hid_t grp, uint64_t row, int64_t *ts)
{
    hid_t d = H5Dopen2(grp, "ts", H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t fs = H5Dget_space(d);
    hsize_t start[1] = {row}, count[1] = {1};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t ms = H5Screate_simple(1, count, NULL);
    herr_t rc = H5Dread(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, ts);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    return rc < 0 ? -1 : 0;
}

int archive_scan(const char *path, cs_file_info *info, cs_err *err)
{
    memset(info, 0, sizeof *info);
    snprintf(info->path, sizeof info->path, "%s", path);
    struct stat st;
    if (stat(path, &st) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: cannot open archive file: %s", path, strerror(errno));
    /* Opening a named pipe would block until a writer comes: never wait. */
    if (!S_ISREG(st.st_mode))
        return cs_err_set(err, CS_EINPUT, "%s: not a regular file (%s); an archive file is a "
                          "plain HDF5 file", path, S_ISDIR(st.st_mode) ? "a directory"
                          : S_ISFIFO(st.st_mode) ? "a named pipe" : "a device or socket");
    info->file_bytes = (int64_t)st.st_size;
    /* HDF5 says only "not HDF5" when it cannot open a file: ask the system
     * first, so a permission problem is named as one. */
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cs_err_set(err, CS_EINPUT, "%s: cannot open archive file: %s", path, strerror(errno));
    close(fd);
    if (st.st_size == 0)
        return cs_err_set(err, CS_EINPUT, "%s: an empty file (0 bytes), not an HDF5 file", path);
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return cs_err_set(err, CS_EINPUT, "%s: not an HDF5 file (or truncated/corrupted)", path);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open HDF5 file", path);
    int rc = CS_OK;
    info->has_events = H5Lexists(f, "events", H5P_DEFAULT) > 0;
    info->has_customers = H5Lexists(f, "customers", H5P_DEFAULT) > 0;
    info->has_dictionaries = H5Lexists(f, "dictionaries", H5P_DEFAULT) > 0;
    H5Eclear2(H5E_DEFAULT);
    if (!info->has_events && !info->has_customers && !info->has_dictionaries)
        rc = cs_err_set(err, CS_EINPUT, "%s: no /events group (and no /customers profile table); "
                        "not a clickseg archive file (format v1)", path);
    if (rc == CS_OK && info->has_events) {
        hid_t g = H5Gopen2(f, "events", H5P_DEFAULT);
        if (g < 0)
            rc = cs_err_set(err, CS_EINPUT, "%s: /events is not a group (a compound "
                            "table?); format v1 needs a group /events of one 1-D dataset per "
                            "column, see docs/archive-format.md", path);
        for (int c = 0; rc == CS_OK && c < COL_NCOLUMNS; c++)
            rc = scan_column(g, c, info, err);
        if (rc == CS_OK)
            rc = archive_check_attrs(g, path, info->currency, sizeof info->currency, err);
        if (rc == CS_OK && info->rows > 0 &&
            (read_ts_at(g, 0, &info->ts_first) < 0 || read_ts_at(g, info->rows - 1, &info->ts_last) < 0 ||
             read_ts_at(g, info->rows / 2, &info->ts_mid) < 0))
            rc = h5_fail(err, CS_EINPUT, "%s: cannot read dataset /events/ts (first, middle and "
                         "last rows)", path);
        if (g >= 0)
            H5Gclose(g);
    }
    if (rc == CS_OK && info->has_customers)
        rc = profiles_scan(path, &info->customer_rows, err);
    H5Fclose(f);
    return rc;
}

/* ---- range reads ---- */

struct cs_archive_reader {
    char path[1024];
    hid_t file;
    hid_t dset[COL_NCOLUMNS];  /* -1 when the column is absent */
    hid_t mem_enum;            /* v1 enum, when event_type is an enum */
    hid_t dxpl;                /* with the overflow callback */
    cs_chunk_reader cr[COL_NCOLUMNS]; /* direct chunk reads where possible */
    const uint8_t *map;        /* the whole file, read-only (archive_view_range) */
    uint64_t map_len;
    int map_state;             /* 0 not tried, 1 mapped, -1 not mappable */
};

typedef struct conv_ctx {
    int overflow;      /* set by the callback */
    int clamp_types;   /* event_type: out-of-range becomes 255 (rejected row) */
} conv_ctx;

/* Aborts the read on any value that does not fit; for event_type, maps it to
 * 255 so the row is rejected (counted) instead of failing the job. */
static H5T_conv_ret_t conv_cb(H5T_conv_except_t kind, hid_t src, hid_t dst,
                              void *sbuf, void *dbuf, void *user)
{
    (void)src; (void)sbuf;
    conv_ctx *c = user;
    if (c->clamp_types && H5Tget_size(dst) == 1 &&
        (kind == H5T_CONV_EXCEPT_RANGE_HI || kind == H5T_CONV_EXCEPT_RANGE_LOW)) {
        *(uint8_t *)dbuf = 255;
        return H5T_CONV_HANDLED;
    }
    c->overflow = 1;
    return H5T_CONV_ABORT;
}

/* 1 when enum type t is one byte, unsigned, and numbers exactly the eight
 * v1 type names 0..7 as format v1 does: a stored byte then means what it
 * means in v1, and one outside 0..7 is rejected like any bad type. */
static int enum_is_v1(hid_t t)
{
    hid_t base = H5Tget_super(t);
    int ok = base >= 0 && H5Tget_size(t) == 1 && H5Tget_sign(base) == H5T_SGN_NONE &&
             H5Tget_nmembers(t) == EV_NTYPES;
    for (int k = 0; ok && k < EV_NTYPES; k++) {
        uint8_t v = 0xff;
        ok = H5Tenum_valueof(t, ev_type_name(k), &v) >= 0 && v == k;
    }
    if (base >= 0)
        H5Tclose(base);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

int archive_reader_open(const char *path, cs_archive_reader **out, cs_err *err)
{
    cs_archive_reader *r = cs_calloc(1, sizeof *r, err, "archive reader");
    if (!r)
        return CS_ENOMEM;
    snprintf(r->path, sizeof r->path, "%s", path);
    r->mem_enum = -1;
    r->dxpl = H5Pcreate(H5P_DATASET_XFER);
    for (int c = 0; c < COL_NCOLUMNS; c++)
        r->dset[c] = -1;
    r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r->file < 0) {
        archive_reader_close(r);
        return h5_fail(err, CS_EINPUT, "%s: cannot open HDF5 file", path);
    }
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        char name[64];
        snprintf(name, sizeof name, "/events/%s", col_names[c]);
        if (H5Lexists(r->file, "events", H5P_DEFAULT) > 0 &&
            H5Lexists(r->file, name, H5P_DEFAULT) > 0)
            r->dset[c] = H5Dopen2(r->file, name, H5P_DEFAULT);
        H5Eclear2(H5E_DEFAULT);
        if (r->dset[c] >= 0) {
            chunkread_open(&r->cr[c], r->dset[c], col_mem_type(c));
            chunkread_set_map(&r->cr[c], r->dset[c], r->file);
        }
        if (r->dset[c] < 0 && c <= COL_EVENT_TYPE) {
            archive_reader_close(r);
            return cs_err_set(err, CS_EINPUT, "%s: required dataset %s is missing", path, name);
        }
    }
    hid_t t = H5Dget_type(r->dset[COL_EVENT_TYPE]);
    if (H5Tget_class(t) == H5T_ENUM) {
        r->mem_enum = h5_event_enum_type();
        /* The enum generate and import write numbers the types as v1
         * does: its stored bytes are the values, read as they are. */
        if (enum_is_v1(t)) {
            chunkread_close(&r->cr[COL_EVENT_TYPE]);
            chunkread_open(&r->cr[COL_EVENT_TYPE], r->dset[COL_EVENT_TYPE], t);
            chunkread_set_map(&r->cr[COL_EVENT_TYPE], r->dset[COL_EVENT_TYPE], r->file);
        }
    }
    H5Tclose(t);
    *out = r;
    return CS_OK;
}

void archive_reader_close(cs_archive_reader *r)
{
    if (!r)
        return;
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        if (r->dset[c] >= 0)
            H5Dclose(r->dset[c]);
        chunkread_close(&r->cr[c]);
    }
    if (r->mem_enum >= 0)
        H5Tclose(r->mem_enum);
    if (r->map)
        munmap((void *)r->map, r->map_len);
    if (r->dxpl >= 0)
        H5Pclose(r->dxpl);
    if (r->file >= 0)
        H5Fclose(r->file);
    free(r);
}

/* Reads one column's rows into dst with the checked conversion. */
static int read_column(cs_archive_reader *r, int col, uint64_t start, uint64_t count,
                       void *dst, cs_err *err)
{
    hid_t d = r->dset[col];
    if (d < 0) {
        memset(dst, 0, count * col_elem_size(col));
        return CS_OK;
    }
    char what[64];
    snprintf(what, sizeof what, "/events/%s", col_names[col]);
    int crc = chunkread_rows(&r->cr[col], d, start, count, dst, r->path, what, err);
    if (crc != CHUNKREAD_FALLBACK)
        return crc;
    hid_t fs = H5Dget_space(d);
    hsize_t st[1] = {start}, cnt[1] = {count};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    hid_t ms = H5Screate_simple(1, cnt, NULL);
    conv_ctx ctx = {0, col == COL_EVENT_TYPE};
    H5Pset_type_conv_cb(r->dxpl, conv_cb, &ctx);
    hid_t mt = (col == COL_EVENT_TYPE && r->mem_enum >= 0) ? r->mem_enum : col_mem_type(col);
    herr_t rc = H5Dread(d, mt, ms, fs, r->dxpl, dst);
    H5Sclose(ms);
    H5Sclose(fs);
    if (rc < 0) {
        if (ctx.overflow)
            return h5_fail(err, CS_EINPUT, "%s: dataset /events/%s rows %llu..%llu: a value does "
                           "not fit in %s", r->path, col_names[col], (unsigned long long)start,
                           (unsigned long long)(start + count - 1),
                           col == COL_TS || col == COL_PRICE ? "int64"
                           : col == COL_CATEGORY_ID || col == COL_BRAND_ID ? "uint32" : "uint64");
        return h5_fail(err, CS_EINPUT, "%s: cannot read dataset /events/%s rows %llu..%llu",
                       r->path, col_names[col], (unsigned long long)start,
                       (unsigned long long)(start + count - 1));
    }
    return CS_OK;
}

int archive_read_range(cs_archive_reader *r, uint64_t start, uint64_t count,
                       const cs_columns *cols, cs_err *err)
{
    if (count == 0)
        return CS_OK;
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        void *dst = col_ptr(cols, c);
        if (!dst)
            continue;
        int rc = read_column(r, c, start, count, dst, err);
        if (rc != CS_OK)
            return rc;
    }
    return CS_OK;
}

/* Maps the whole file read-only on first use; -1 (and reads as before)
 * where it cannot be. */
static int map_file(cs_archive_reader *r)
{
    if (r->map_state)
        return r->map_state;
    r->map_state = -1;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            r->map = m;
            r->map_len = (uint64_t)st.st_size;
            r->map_state = 1;
        }
    }
    close(fd);
    return r->map_state;
}

_Static_assert(ARCHIVE_VIEW_FALLBACK == CHUNKREAD_FALLBACK, "one fallback code");

int archive_view_range(cs_archive_reader *r, uint64_t start, uint64_t count, unsigned want,
                       uint64_t row0, cs_colsegs *segs, cs_err *err)
{
    if (count == 0)
        return CS_OK;
    uint64_t R = 0;
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        if (!(want >> c & 1))
            continue;
        const cs_chunk_reader *cr = &r->cr[c];
        if (r->dset[c] < 0 || !cr->usable || (R && cr->chunk_rows != R) ||
            start + count > cr->nrows)
            return ARCHIVE_VIEW_FALLBACK;
        R = cr->chunk_rows;
    }
    if (!R || map_file(r) < 0)
        return ARCHIVE_VIEW_FALLBACK;
    uint64_t mark = segs->n, end = start + count;
    int rc = CS_OK;
    for (uint64_t k = start / R; rc == CS_OK && k <= (end - 1) / R; k++) {
        uint64_t lo = k * R > start ? k * R : start, hi = (k + 1) * R < end ? (k + 1) * R : end;
        if ((rc = cs_reserve((void **)&segs->v, &segs->cap, segs->n + 1, sizeof *segs->v, err,
                             "read segments")) != CS_OK)
            break;
        cs_colseg *g = &segs->v[segs->n];
        memset(g, 0, sizeof *g);
        g->row0 = row0 + (lo - start);
        g->n = hi - lo;
        for (int c = 0; rc == CS_OK && c < COL_NCOLUMNS; c++) {
            if (!(want >> c & 1))
                continue;
            char what[64];
            snprintf(what, sizeof what, "/events/%s", col_names[c]);
            const uint8_t *rows = NULL;
            rc = chunkread_map_chunk(&r->cr[c], r->dset[c], r->map, r->map_len, k, &rows,
                                     r->path, what, err);
            if (rc == CS_OK)
                set_col_ptr(&g->c, c, rows + (lo - k * R) * r->cr[c].esize);
        }
        if (rc == CS_OK)
            segs->n++;
    }
    if (rc != CS_OK)
        segs->n = mark;
    return rc == CHUNKREAD_FALLBACK ? ARCHIVE_VIEW_FALLBACK : rc;
}

void archive_willneed(cs_archive_reader *r, uint64_t start, uint64_t count, unsigned want)
{
    if (count == 0 || map_file(r) < 0)
        return;
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        const cs_chunk_reader *cr = &r->cr[c];
        if (!(want >> c & 1) || r->dset[c] < 0 || !cr->chunk_rows || start >= cr->nrows)
            continue;
        uint64_t R = cr->chunk_rows, end = start + count < cr->nrows ? start + count : cr->nrows;
        for (uint64_t k = start / R; k <= (end - 1) / R; k++)
            chunkread_willneed(cr, r->dset[c], r->map, r->map_len, k);
    }
}

void archive_release_views(cs_archive_reader *r)
{
    if (r && r->map)
        madvise((void *)(uintptr_t)r->map, r->map_len, MADV_DONTNEED);
}
