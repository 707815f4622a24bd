/* h5util.c — HDF5 error capture and attribute helpers (see h5util.h). */
#include "clickseg/h5util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/features.h"
#include "clickseg/fsutil.h"

typedef struct walk_ctx {
    char *buf;
    size_t n;
} walk_ctx;

static herr_t walk_cb(unsigned nth, const H5E_error2_t *e, void *data)
{
    (void)nth;
    walk_ctx *w = data;
    /* Walking downward, the last entry seen is the deepest cause. */
    if (e->desc && e->desc[0])
        snprintf(w->buf, w->n, "%s (in %s)", e->desc, e->func_name ? e->func_name : "?");
    return 0;
}

/* HDF5 clears its error stack at the start of every API call, so the cause
 * of a failed H5Dread would be gone after the H5Sclose calls that tidy up
 * before the caller reports it. HDF5 calls this handler (in place of
 * printing) as the failing API call returns: it copies the deepest message
 * of that moment. The copy is process state, like the HDF5 error stack it
 * mirrors; h5_describe consumes it. */
static char last_cause[512];

static herr_t record_cb(hid_t estack, void *data)
{
    (void)data;
    char buf[sizeof last_cause] = "";
    walk_ctx w = {buf, sizeof buf};
    H5Ewalk2(estack, H5E_WALK_DOWNWARD, walk_cb, &w);
    if (buf[0])
        memcpy(last_cause, buf, sizeof buf);
    return 0;
}

void h5_silence(void)
{
    last_cause[0] = '\0';
    H5Eset_auto2(H5E_DEFAULT, record_cb, NULL);
}

void h5_describe(char *buf, size_t n)
{
    walk_ctx w = {buf, n};
    if (n)
        buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, &w);
    if (n && !buf[0] && last_cause[0])
        snprintf(buf, n, "%s", last_cause);
    last_cause[0] = '\0';
    H5Eclear2(H5E_DEFAULT);
}

int h5_fail(cs_err *err, int code, const char *fmt, ...)
{
    char what[1024], why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    h5_describe(why, sizeof why);
    if (why[0])
        return cs_err_set(err, code, "%s: %s", what, why);
    return cs_err_set(err, code, "%s", what);
}

int h5_attr_string(hid_t obj, const char *name, const char *value, cs_err *err)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(value) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    if (rc < 0)
        return h5_fail(err, CS_EIO, "writing attribute '%s'", name);
    return CS_OK;
}

/* Writes one scalar attribute: ftype on disk, mtype for *value. */
static int attr_scalar(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                       const void *value, cs_err *err)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, mtype, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    if (rc < 0)
        return h5_fail(err, CS_EIO, "writing attribute '%s'", name);
    return CS_OK;
}

int h5_attr_int64(hid_t obj, const char *name, int64_t value, cs_err *err)
{
    return attr_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, err);
}

int h5_attr_double(hid_t obj, const char *name, double value, cs_err *err)
{
    return attr_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, err);
}

/* Values in attribute a (-1 when unknown). */
static hssize_t attr_points(hid_t a)
{
    hid_t sp = H5Aget_space(a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    return n;
}

/* s into buf when it fits: 1; else buf "" and -1. */
static int fits(char *buf, size_t n, const char *s)
{
    if (strlen(s) < n) {
        memcpy(buf, s, strlen(s) + 1);
        return 1;
    }
    if (n)
        buf[0] = '\0';
    return -1;
}

int h5_attr_get_string(hid_t obj, const char *name, char *buf, size_t n)
{
    if (n)
        buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    int ok = -1;
    /* One value only: an array would be read past buf (or past &v). */
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && attr_points(a) == 1) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ft));   /* HDF5 converts no character set into another */
        if (H5Tis_variable_str(ft) > 0) {
            char *v = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &v) >= 0) {
                ok = fits(buf, n, v ? v : "");
                free(v);   /* a scalar variable-length string is one malloc'd block */
            }
        } else {
            /* Read straight into buf when its sz characters fit (every
             * attribute clickseg writes is sized to its text): no
             * allocation, whose failure would read as "not one string". A
             * wider field may still hold a short text, read via a copy. */
            size_t sz = H5Tget_size(ft);
            int direct = sz < n;
            char *tmp = direct ? buf : calloc(1, sz + 1);
            H5Tset_size(mt, sz + 1);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            if (tmp && H5Aread(a, mt, tmp) >= 0)
                ok = direct ? 1 : fits(buf, n, tmp);
            else if (direct && n)
                buf[0] = '\0';
            if (!direct)
                free(tmp);
        }
        H5Tclose(mt);
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

int h5_attr_get_int64(hid_t obj, const char *name, int64_t *value)
{
    if (H5Aexists(obj, name) <= 0)
        return 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t ft = H5Aget_type(a);
    int integer = ft >= 0 && H5Tget_class(ft) == H5T_INTEGER;
    if (ft >= 0)
        H5Tclose(ft);
    herr_t rc = integer && attr_points(a) == 1 ? H5Aread(a, H5T_NATIVE_INT64, value) : -1;
    H5Aclose(a);
    if (rc < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    return 1;
}

void h5_attr_int_text(hid_t obj, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "?");
    hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1;
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    if (ft >= 0 && H5Tget_class(ft) == H5T_INTEGER && attr_points(a) == 1) {
        if (H5Tget_sign(ft) == H5T_SGN_NONE) {
            unsigned long long u;
            if (H5Aread(a, H5T_NATIVE_ULLONG, &u) >= 0)
                snprintf(buf, n, "%llu", u);
        } else {
            long long v;
            if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0)
                snprintf(buf, n, "%lld", v);
        }
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
}

int h5_write_column(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *buf,
                    uint64_t n, cs_err *err)
{
    hsize_t d[1] = {n};
    hid_t s = H5Screate_simple(1, d, NULL);
    hid_t ds = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : (n ? H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0);
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(s);
    return rc < 0 ? h5_fail(err, CS_EIO, "report.h5: writing %s", name) : CS_OK;
}

int h5_close_file(const cs_comm *c, hid_t f, const char *path, cs_err *err)
{
    /* The ballast goes before the agreement, so no rank starts the close
     * (metadata is written by several ranks) before its room is free. */
    if (c->rank == 0)
        fs_release_room(path);
    int rc = comm_agree(c, err);
    if (rc != CS_OK) {
        /* Not closed: the file is the caller's to remove, and the close
         * would write its metadata collectively on a disk that may have
         * no room for it. One such write failing on some ranks only left
         * the others waiting inside HDF5 for ever (3 or more ranks); a
         * close failing on all of them leaves HDF5 a half-closed file
         * that MPI_Finalize crashes on. The command fails, and main
         * leaves before MPI_Finalize when HDF5 still holds a file. */
        if (c->rank == 0) {
            int gone = truncate(path, 0);   /* the space back now, not at exit */
            (void)gone;
        }
        return rc;
    }
    if (H5Fclose(f) < 0)
        rc = h5_fail(err, CS_EIO, "%s: closing", path);
    rc = comm_agree(c, err);
    if (rc == CS_OK && c->rank == 0)
        fs_unreserve(path);
    return rc;
}

/* HDF5's own bytes beyond the datasets' (superblock, object headers, chunk
 * indexes, attributes): measured at 25 kB for a generated archive file of
 * 1.7 MB and 26 kB for one of 262 MB, 12 kB for profiles.h5, 7 kB for a
 * snapshot, 12-14 kB for customers.h5 and sessions.h5. 256 KiB leaves
 * room for many more columns and attributes, 1/256 of the data for the
 * chunk indexes of large files (about 2 kB per 64 chunks of 2^18 rows). */
#define RESERVE_SLACK(b) ((b) / 256 + ((uint64_t)256 << 10))

int h5_reserve(const cs_comm *c, const char *path, uint64_t bytes, cs_err *err)
{
    if (c->rank == 0 && err->code == CS_OK)
        fs_reserve(path, bytes + RESERVE_SLACK(bytes), RESERVE_SLACK(bytes), err);
    return comm_agree(c, err);
}

hid_t h5_event_enum_type(void)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    for (uint8_t v = 0; v < EV_NTYPES; v++)
        H5Tenum_insert(t, ev_type_name(v), &v);
    return t;
}

void h5_type_describe(hid_t type, char *buf, size_t n)
{
    H5T_class_t cls = H5Tget_class(type);
    hid_t base = cls == H5T_ENUM ? H5Tget_super(type) : H5Tcopy(type);
    const char *kind = "other";
    H5T_class_t bcls = H5Tget_class(base);
    if (bcls == H5T_INTEGER)
        kind = H5Tget_sign(base) == H5T_SGN_NONE ? "uint" : "int";
    else if (bcls == H5T_FLOAT)
        kind = "float";
    else if (bcls == H5T_STRING)
        kind = "string";
    size_t bits = H5Tget_size(base) * 8;
    snprintf(buf, n, "%s%zu%s", kind, bits, cls == H5T_ENUM ? " enum" : "");
    H5Tclose(base);
}

/* File and memory dataspaces selecting rows [off, off + n) of 1-D dataset
 * d (both empty when n is 0: a rank with nothing still takes part in a
 * collective transfer). */
static void select_rows(hid_t d, uint64_t off, uint64_t n, hid_t *fs, hid_t *ms)
{
    hsize_t st[1] = {off}, cnt[1] = {n};
    *fs = H5Dget_space(d);
    *ms = H5Screate_simple(1, cnt, NULL);
    if (n) {
        H5Sselect_hyperslab(*fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    } else {
        H5Sselect_none(*fs);
        H5Sselect_none(*ms);
    }
}

/* d's number of dimensions (-1 when its space cannot be read) and, when
 * it is 1, its rows in *rows (else 0). */
static int dataset_shape(hid_t d, uint64_t *rows)
{
    *rows = 0;
    hid_t sp = H5Dget_space(d);
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t dims[1] = {0};
    if (nd == 1)   /* a space of more dimensions would write past dims */
        H5Sget_simple_extent_dims(sp, dims, NULL);
    if (sp >= 0)
        H5Sclose(sp);
    *rows = dims[0];
    return nd;
}

static void note_shape(int nd)
{
    if (nd >= 0)
        snprintf(last_cause, sizeof last_cause, "a dataset of %d dimensions where 1 is read", nd);
}

int h5_dataset_rows(hid_t d, uint64_t *rows)
{
    int nd = dataset_shape(d, rows);
    if (nd == 1)
        return 0;
    note_shape(nd);
    return -1;
}

hid_t h5_group_create(hid_t loc, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl < 0)
        return -1;
    H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

int h5_open_agreed(const cs_comm *c, hid_t loc, const char *name, hid_t *d, uint64_t *rows,
                   cs_err *err)
{
    *rows = 0;
    *d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (*d < 0)
        h5_fail(err, CS_EINPUT, "no dataset %s", name);
    else if (h5_dataset_rows(*d, rows) != 0)
        h5_fail(err, CS_EINPUT, "reading %s", name);
    int rc = comm_agree(c, err);
    if (rc != CS_OK && *d >= 0) {
        H5Dclose(*d);
        *d = -1;
    }
    return rc;
}

herr_t h5_read_rows(hid_t d, hid_t mtype, uint64_t off, uint64_t n, void *buf)
{
    /* The range is checked against the extent here: HDF5 refuses a range
     * past the end on the rank that asks for it alone, before the
     * collective read, and the other ranks, already in that read, would
     * wait for it for ever (a damaged customers.h5 whose columns differ in
     * length, a snapshot whose open_ids is shorter than its sessions'
     * counts). Such a rank takes part with an empty range, then fails.
     * The extent and the rank of the space are the same on every rank, so
     * every rank makes the same choice of reading or not. */
    uint64_t rows;
    int nd = dataset_shape(d, &rows);
    int fits = n == 0 || (nd == 1 && off <= rows && n <= rows - off);
    if (!fits && nd != 1)
        note_shape(nd);
    else if (!fits)
        snprintf(last_cause, sizeof last_cause, "rows %llu..%llu asked for, the dataset has %llu",
                 (unsigned long long)off, (unsigned long long)(off + n - 1),
                 (unsigned long long)rows);
    hid_t fs, ms;
    select_rows(d, fits ? off : 0, fits ? n : 0, &fs, &ms);
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE);
    uint64_t dummy[1];   /* a rank reading nothing still passes a buffer */
    herr_t rc = rows == 0 ? 0 : H5Dread(d, mtype, ms, fs, x, fits && n && buf ? buf : dummy);
    H5Pclose(x);
    H5Sclose(ms);
    H5Sclose(fs);
    return fits ? rc : -1;
}

herr_t h5_write_rows(hid_t d, hid_t mtype, hid_t dxpl, uint64_t off, uint64_t n,
                     const void *buf)
{
    hid_t fs, ms;
    select_rows(d, off, n, &fs, &ms);
    herr_t rc = H5Dwrite(d, mtype, ms, fs, dxpl, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}
