/* h5util.h — small HDF5 helpers shared by the archive and report writers:
 * silencing HDF5's own error printing, turning its error stack into one
 * line for a cs_err, and typed attribute writers. Called by archive*.c,
 * report*.c and the CLI start-up. */
#ifndef CLICKSEG_H5UTIL_H
#define CLICKSEG_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/error.h"

/* Stops HDF5 from printing its error stack (we report errors ourselves);
 * instead, the cause of each failed HDF5 call is kept until h5_describe
 * (HDF5 itself clears its stack at the next call, e.g. the H5Sclose that
 * tidies up after a failed H5Dread). Called once at start-up. */
void h5_silence(void);

/* Writes the deepest message of HDF5's current error stack into buf, or,
 * when the stack was cleared since, the cause kept from the last failed
 * call ("" when neither); clears both. */
void h5_describe(char *buf, size_t n);

/* Sets err to "what: <HDF5's deepest message>" with the given code. */
int h5_fail(cs_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Attribute writers on an object; return CS_OK or CS_EIO. */
int h5_attr_string(hid_t obj, const char *name, const char *value, cs_err *err);
int h5_attr_int64(hid_t obj, const char *name, int64_t value, cs_err *err);

int h5_attr_double(hid_t obj, const char *name, double value, cs_err *err);

/* Reads a string attribute (fixed or variable length) into buf if present;
 * returns 1 when read, 0 when absent, -1 when it is not one string or does
 * not fit in n bytes (buf is "" unless 1). */
int h5_attr_get_string(hid_t obj, const char *name, char *buf, size_t n);

/* Reads an int64 attribute if present; returns 1 when read, 0 when absent
 * or not one integer. */
int h5_attr_get_int64(hid_t obj, const char *name, int64_t *value);

/* An integer attribute's value as decimal text, unsigned ones beyond
 * INT64_MAX included (h5_attr_get_int64 clamps them): for messages that
 * quote what the file says. "?" when it is not one integer. */
void h5_attr_int_text(hid_t obj, const char *name, char *buf, size_t n);


/* The number of rows of the 1-D dataset d into *rows: 0, or -1 (and
 * *rows 0) when d's space cannot be read or has another number of
 * dimensions, with the cause for h5_fail. Asking a space of more
 * dimensions for its extent into one hsize_t writes past it. */
int h5_dataset_rows(hid_t d, uint64_t *rows);

/* A group whose members keep the order they were made in (tracked and
 * indexed): report tables list their columns as written (name first,
 * tiers in tier order) to h5py, pandas recipes and the page, not by name.
 * Negative when HDF5 fails. */
hid_t h5_group_create(hid_t loc, const char *name);

/* Collective: opens dataset `name` under loc (*d) and its rows (*rows),
 * agreed on every rank: a rank whose open failed alone (HDF5 out of
 * memory) would leave the others in the collective read that follows.
 * CS_EINPUT "no dataset NAME" / "reading NAME" for the caller to prefix
 * with the file; on an error *d is closed (and -1). */
int h5_open_agreed(const cs_comm *c, hid_t loc, const char *name, hid_t *d, uint64_t *rows,
                   cs_err *err);

/* Collective (MPI-IO, the file opened with an mpio driver): rows
 * [off, off + n) of the 1-D dataset d read as mtype into buf. A rank with
 * n == 0 (buf may then be NULL) still takes part, as a collective read
 * needs; so does a rank whose range lies past the dataset's end (or whose
 * dataset is not 1-D), with an empty range, and then fails with the
 * cause for h5_fail. Negative when HDF5 fails. */
herr_t h5_read_rows(hid_t d, hid_t mtype, uint64_t off, uint64_t n, void *buf);

/* Rows [off, off + n) of the 1-D dataset d written from buf (as mtype)
 * with transfer list dxpl: collective when dxpl says so, a rank with
 * n == 0 then still taking part. Negative when HDF5 fails. */
herr_t h5_write_rows(hid_t d, hid_t mtype, hid_t dxpl, uint64_t off, uint64_t n,
                     const void *buf);

/* Writes a 1-D dataset `name` of n values under loc (plain HDF5, one
 * process): ftype on disk, mtype in memory. CS_EIO naming the dataset. */
int h5_write_column(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *buf,
                    uint64_t n, cs_err *err);

/* Closes file f, created at path for writing on c's ranks with the mpio
 * driver; err holds the caller's status of the writing so far. Collective:
 * every rank returns the lowest failing rank's error. After a failure the
 * file is not closed but emptied (the caller removes it): HDF5 (1.10)
 * writes its metadata collectively as it closes a file, and on a full
 * disk a close that fails on some ranks only leaves the others waiting in
 * HDF5 for ever, while one that fails on all leaves an id whose file is
 * freed, which MPI_Finalize closes again and crashes on. The command then
 * fails, and main.c leaves before MPI_Finalize while HDF5 holds a file.
 * Before the close rank 0 deletes the file's ballast (fs_reserve), so the
 * close's metadata finds room where space could not be set aside.
 * Returns CS_OK, the writing's error, or the close's (CS_EIO, naming
 * path). After a good close rank 0 gives back the room h5_reserve set
 * aside past the file's end. report.h5, one rank's file, is written from
 * memory instead (report_h5.c). */
int h5_close_file(const cs_comm *c, hid_t f, const char *path, cs_err *err);
/* Collective, right after the file at path was created (by H5Fcreate on
 * c's ranks) and before anything is written to it: rank 0 sets aside
 * `bytes` (what the caller will write: its datasets' bytes) and some room
 * for HDF5's metadata on the disk (fs_reserve), and every rank returns the
 * outcome. Parallel HDF5 1.10 cannot survive a write that fails on some
 * ranks only (MPI-IO's collective writes report ENOSPC on the ranks that
 * write, or lose it; HDF5 allocates chunks and flushes metadata at
 * collective points where a failed rank leaves the others waiting): with
 * the room set aside no write fails, and a full disk is this call's clean
 * CS_EIO. A rank whose err is set on entry makes every rank return that
 * error, nothing reserved. Where the file system cannot set space aside,
 * rank 0 writes a ballast of HDF5's share instead ("<path>.room", a
 * full disk or quota there is this call's CS_EIO), which h5_close_file
 * deletes for the close's metadata. h5_close_file gives back what the file
 * did not use. */
int h5_reserve(const cs_comm *c, const char *path, uint64_t bytes, cs_err *err);

/* The v1 event-type enum (base uint8); the caller closes it. */
hid_t h5_event_enum_type(void);

/* Human description of an integer/enum type: "int64", "uint8 enum", ... */
void h5_type_describe(hid_t type, char *buf, size_t n);

#endif
