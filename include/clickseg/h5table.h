/* h5table.h — a column table read from one HDF5 group: each 1-D dataset of
 * the group is a column (signed or unsigned integers, floats, or strings:
 * fixed-length, variable-length or enum member names), and the group's
 * scalar attributes are kept beside it.
 *
 * report_doc reads report.h5 with it, including tables that other modules
 * add (tiers, targets, profile cross-tabs) and that this code does not know
 * in advance; the HTML report renders them by column name. Members that are
 * not columns (sub-groups, datasets of another rank) are listed in
 * `skipped`, never dropped silently. Plain serial HDF5, no MPI. */
#ifndef CLICKSEG_H5TABLE_H
#define CLICKSEG_H5TABLE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "clickseg/error.h"

#define H5T_NAME_MAX 64

enum cs_tkind { TK_I64, TK_U64, TK_F64, TK_STR };

typedef struct cs_tcol {
    char name[H5T_NAME_MAX];
    int kind;
    int64_t *i;          /* TK_I64 */
    uint64_t *u;         /* TK_U64 */
    double *d;           /* TK_F64 */
    char *s;             /* TK_STR: nrows strings of `width` bytes, terminated */
    size_t width;
} cs_tcol;

typedef struct cs_tattr {
    char name[H5T_NAME_MAX];
    int kind;            /* TK_I64, TK_F64 or TK_STR */
    int64_t i;
    double d;
    char s[4096];
} cs_tattr;

typedef struct cs_table {
    char path[256];      /* the group's path, e.g. "/segments" */
    uint64_t nrows;
    int ncols, nattrs, nskipped;
    cs_tcol *cols;       /* in creation order when the file tracks it, else by name */
    cs_tattr *attrs;
    char (*skipped)[H5T_NAME_MAX];
} cs_table;

/* Reads group `path` of an open file into t. CS_EINPUT when the group is
 * missing, a column's type is unsupported or columns differ in length
 * (naming the group and columns). t is empty (safe to free) on error. */
int h5table_read(hid_t file, const char *path, cs_table *t, cs_err *err);

void h5table_free(cs_table *t);

/* The column named `name`, or NULL. */
const cs_tcol *h5table_col(const cs_table *t, const char *name);

/* Index of a column, or -1. */
int h5table_col_index(const cs_table *t, const char *name);

/* A numeric cell as a double (strings: NaN) or as an int64 (floats are
 * truncated; strings: 0). */
double tcol_num(const cs_tcol *c, uint64_t row);
int64_t tcol_i64(const cs_tcol *c, uint64_t row);

/* A string cell ("" for other kinds). */
const char *tcol_str(const cs_tcol *c, uint64_t row);

/* Attribute lookups with a default when absent (or of another kind for
 * strings; numbers convert between int and float). */
const char *h5table_attr_str(const cs_table *t, const char *name, const char *dflt);
int64_t h5table_attr_i64(const cs_table *t, const char *name, int64_t dflt);
double h5table_attr_f64(const cs_table *t, const char *name, double dflt);

/* Whether the object `path` exists in the file and is a group. */
int h5table_is_group(hid_t file, const char *path);

/* The names of the sub-groups of group `path` (creation order when
 * tracked, else by name) into a malloc'd array *names of *n entries
 * (caller frees). CS_EINPUT when path is not a group. */
int h5table_subgroups(hid_t file, const char *path, char (**names)[H5T_NAME_MAX], int *n,
                      cs_err *err);

#endif
