/* archive_write.c — writing archive format v1 in parallel (generate, tests).
 *
 * All ranks open the file with the MPI-IO driver and write their own row
 * ranges with collective transfers: collective is what parallel HDF5 needs
 * should a column ever be compressed, and it lets ranks with nothing to
 * write still take part. */
#include "clickseg/archive.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/h5util.h"

#define WRITE_CHUNK_ROWS (1u << 18)

struct cs_archive_writer {
    char path[1024];
    hid_t file;
    hid_t events;
    hid_t dset[COL_NCOLUMNS];
    hid_t truth;       /* /truth/intent or -1 */
    hid_t dxpl;
};

static hid_t file_type(int col)
{
    switch (col) {
    case COL_TS: case COL_PRICE: return H5T_STD_I64LE;
    case COL_USER_ID: case COL_PRODUCT_ID: case COL_SESSION_ID: return H5T_STD_U64LE;
    case COL_EVENT_TYPE: return H5T_STD_U8LE;
    default: return H5T_STD_U32LE;
    }
}

static hid_t mem_type(int col)
{
    switch (col) {
    case COL_TS: case COL_PRICE: return H5T_NATIVE_INT64;
    case COL_USER_ID: case COL_PRODUCT_ID: case COL_SESSION_ID: return H5T_NATIVE_UINT64;
    case COL_EVENT_TYPE: return H5T_NATIVE_UINT8;
    default: return H5T_NATIVE_UINT32;
    }
}

static const void *col_cptr(const cs_columns *c, int col)
{
    const void *p[COL_NCOLUMNS] = {c->ts, c->user_id, c->event_type, c->product_id,
                                   c->category_id, c->brand_id, c->price, c->session_id};
    return p[col];
}

static hsize_t chunk_rows(uint64_t rows)
{
    return rows < WRITE_CHUNK_ROWS ? (rows ? rows : 1) : WRITE_CHUNK_ROWS;
}

/* The bytes create_column's dataset takes on disk: whole chunks (parallel
 * HDF5 allocates every one as it makes the dataset), each with its
 * 4-byte checksum. No column is compressed, so this is exact. */
static uint64_t column_bytes(uint64_t rows, size_t width, int checksum)
{
    uint64_t ch = chunk_rows(rows), n = (rows + ch - 1) / ch;
    return n * (ch * width + (checksum ? 4 : 0));
}

/* Creates a 1-D chunked dataset of `rows` rows (extendible, so a zero-row
 * file is still a valid chunked dataset). Every chunk carries a Fletcher32
 * checksum: without one a flipped bit on disk reads back as a plausible
 * wrong value; with it the read fails naming the file and dataset. */
static hid_t create_column(hid_t loc, const char *name, hid_t type, uint64_t rows, int checksum)
{
    hsize_t dims[1] = {rows}, maxd[1] = {H5S_UNLIMITED};
    hsize_t chunk[1] = {chunk_rows(rows)};
    hid_t s = H5Screate_simple(1, dims, maxd);
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(p, 1, chunk);
    if (checksum)
        H5Pset_fletcher32(p);
    H5Pset_fill_time(p, H5D_FILL_TIME_NEVER);
    hid_t d = H5Dcreate2(loc, name, type, s, H5P_DEFAULT, p, H5P_DEFAULT);
    H5Pclose(p);
    H5Sclose(s);
    return d;
}

static hid_t open_parallel(MPI_Comm comm, const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return f;
}

static int write_event_attrs(hid_t g, cs_err *err)
{
    int rc = h5_attr_string(g, "format", "clickseg-archive", err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "version", CS_ARCHIVE_VERSION, err);
    if (rc == CS_OK) rc = h5_attr_string(g, "ts_unit", "microseconds since 1970-01-01T00:00:00Z", err);
    if (rc == CS_OK) rc = h5_attr_string(g, "price_unit", "minor currency units", err);
    if (rc == CS_OK) rc = h5_attr_string(g, "currency", "EUR", err);
    if (rc == CS_OK) rc = h5_attr_string(g, "sort_order", "ts", err);
    return rc;
}

/* Collective: creates path and sets aside the `bytes` its datasets will
 * take (h5_reserve); on a failure the file is closed, emptied, and -1
 * returned with err set. */
static hid_t create_reserved(const cs_comm *c, const char *path, uint64_t bytes, cs_err *err)
{
    hid_t f = open_parallel(c->comm, path);
    if (f < 0) {
        h5_fail(err, CS_EIO, "%s: cannot create archive file", path);
        return -1;
    }
    if (h5_reserve(c, path, bytes, err) != CS_OK) {
        cs_err_wrap(err, "%s", path);
        h5_close_file(c, f, path, err);
        return -1;
    }
    return f;
}

int archive_create(const cs_comm *c, const char *path, uint64_t total_rows,
                   int flags, cs_archive_writer **out, cs_err *err)
{
    *out = NULL;
    cs_archive_writer *w = cs_calloc(1, sizeof *w, err, "archive writer");
    /* Agreed before the file's collective create: a rank that returned
     * here alone would leave the others waiting in H5Fcreate. */
    if (comm_agree(c, err) != CS_OK) {
        free(w);
        return err->code;
    }
    snprintf(w->path, sizeof w->path, "%s", path);
    w->truth = -1;
    uint64_t bytes = (flags & CS_ARCHIVE_TRUTH)
                         ? column_bytes(total_rows, 1, flags & CS_ARCHIVE_CHECKSUM) : 0;
    for (int k = 0; k < COL_NCOLUMNS; k++)
        bytes += column_bytes(total_rows, H5Tget_size(file_type(k)),
                              flags & CS_ARCHIVE_CHECKSUM);
    w->file = create_reserved(c, path, bytes, err);
    if (w->file < 0) {
        free(w);
        return err->code;
    }
    w->events = H5Gcreate2(w->file, "events", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = write_event_attrs(w->events, err);
    hid_t etype = h5_event_enum_type();
    for (int k = 0; k < COL_NCOLUMNS; k++)
        w->dset[k] = -1;
    for (int k = 0; rc == CS_OK && k < COL_NCOLUMNS; k++) {
        w->dset[k] = create_column(w->events, archive_column_name(k),
                                   k == COL_EVENT_TYPE ? etype : file_type(k), total_rows,
                                   flags & CS_ARCHIVE_CHECKSUM);
        if (w->dset[k] < 0)
            rc = h5_fail(err, CS_EIO, "%s: cannot create /events/%s", path, archive_column_name(k));
    }
    H5Tclose(etype);
    if (rc == CS_OK && (flags & CS_ARCHIVE_TRUTH)) {
        hid_t g = H5Gcreate2(w->file, "truth", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        w->truth = create_column(g, "intent", H5T_STD_U8LE, total_rows,
                                 flags & CS_ARCHIVE_CHECKSUM);
        h5_attr_string(g, "intent_values",
                       "0=simple_browser 1=information_collector 2=immediate_buyer 3=bot", err);
        H5Gclose(g);
    }
    w->dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(w->dxpl, H5FD_MPIO_COLLECTIVE);
    *out = w;
    return rc;
}

int archive_write_rows(cs_archive_writer *w, uint64_t offset, uint64_t count,
                       const cs_columns *cols, const uint8_t *truth, cs_err *err)
{
    int rc = CS_OK;
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        hid_t mt = c == COL_EVENT_TYPE ? H5T_NATIVE_UINT8 : mem_type(c);
        /* Writing uint8 values into the enum dataset needs the enum memory type. */
        hid_t et = c == COL_EVENT_TYPE ? h5_event_enum_type() : -1;
        if (h5_write_rows(w->dset[c], et >= 0 ? et : mt, w->dxpl, offset, count,
                       col_cptr(cols, c)) < 0 && rc == CS_OK)
            rc = h5_fail(err, CS_EIO, "%s: writing /events/%s rows %llu+%llu", w->path,
                         archive_column_name(c), (unsigned long long)offset,
                         (unsigned long long)count);
        if (et >= 0)
            H5Tclose(et);
    }
    if (w->truth >= 0 && h5_write_rows(w->truth, H5T_NATIVE_UINT8, w->dxpl, offset, count,
                                    truth) < 0 && rc == CS_OK)
        rc = h5_fail(err, CS_EIO, "%s: writing /truth/intent", w->path);
    return rc;
}

uint64_t archive_chunk_rows(uint64_t total_rows)
{
    return chunk_rows(total_rows);
}

int archive_set_attr(cs_archive_writer *w, const char *name, const char *value, cs_err *err)
{
    if (H5Aexists(w->events, name) > 0 && H5Adelete(w->events, name) < 0)
        return h5_fail(err, CS_EIO, "%s: replacing attribute '%s'", w->path, name);
    H5Eclear2(H5E_DEFAULT);
    int rc = h5_attr_string(w->events, name, value, err);
    if (rc != CS_OK)
        cs_err_wrap(err, "%s", w->path);
    return rc;
}

int archive_close(const cs_comm *c, cs_archive_writer *w, int64_t ts_min, int64_t ts_max,
                  cs_err *err)
{
    int rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = h5_attr_int64(w->events, "ts_min", ts_min, err);
    if (rc == CS_OK)
        rc = h5_attr_int64(w->events, "ts_max", ts_max, err);
    for (int k = 0; k < COL_NCOLUMNS; k++)
        if (w->dset[k] >= 0)
            H5Dclose(w->dset[k]);
    if (w->truth >= 0)
        H5Dclose(w->truth);
    H5Pclose(w->dxpl);
    H5Gclose(w->events);
    rc = h5_close_file(c, w->file, w->path, err);
    free(w);
    return rc;
}

int archive_write_profiles(const cs_comm *c, const char *path, uint64_t total,
                           uint64_t offset, uint64_t count,
                           const uint64_t *user_id, const uint8_t *gender,
                           const uint8_t *age_band, const uint8_t *region,
                           cs_err *err)
{
    hid_t f = create_reserved(c, path, column_bytes(total, 8, 1) + 3 * column_bytes(total, 1, 1),
                              err);
    if (f < 0)
        return err->code;
    hid_t g = H5Gcreate2(f, "customers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = h5_attr_string(g, "gender_values", "0=unknown 1=female 2=male 3=other", err);
    if (rc == CS_OK)
        rc = h5_attr_string(g, "age_band_values", "0=unknown 1=18-24 2=25-34 3=35-44 4=45-54 "
                            "5=55-64 6=65+", err);
    const char *names[4] = {"user_id", "gender", "age_band", "region"};
    const void *bufs[4] = {user_id, gender, age_band, region};
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    for (int i = 0; i < 4; i++) {
        hid_t d = create_column(g, names[i], i == 0 ? H5T_STD_U64LE : H5T_STD_U8LE, total, 1);
        if (d < 0 || h5_write_rows(d, i == 0 ? H5T_NATIVE_UINT64 : H5T_NATIVE_UINT8, dxpl,
                                offset, count, bufs[i]) < 0) {
            if (rc == CS_OK)
                rc = h5_fail(err, CS_EIO, "%s: writing /customers/%s", path, names[i]);
        }
        if (d >= 0)
            H5Dclose(d);
    }
    H5Pclose(dxpl);
    H5Gclose(g);
    return h5_close_file(c, f, path, err);
}
