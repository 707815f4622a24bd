/* h5table.c — a column table from an HDF5 group (see h5table.h). */
#include "clickseg/h5table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/h5util.h"

typedef struct names {
    int n, cap;
    char (*v)[H5T_NAME_MAX];
    int overlong, nomem;
} names;

static herr_t collect_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    names *nm = data;
    if (strlen(name) >= H5T_NAME_MAX) {
        nm->overlong = 1;
        return 0;
    }
    if (nm->n == nm->cap) {
        int cap = nm->cap ? 2 * nm->cap : 16;
        void *p = realloc(nm->v, (size_t)cap * sizeof *nm->v);
        if (!p) {
            nm->nomem = 1;   /* HDF5 only says the operator failed */
            return -1;
        }
        nm->v = p;
        nm->cap = cap;
    }
    snprintf(nm->v[nm->n++], H5T_NAME_MAX, "%s", name);
    return 0;
}

/* Member names of a group, in creation order when the file indexes it. */
static int list_members(hid_t g, const char *path, names *nm, cs_err *err)
{
    memset(nm, 0, sizeof *nm);
    unsigned flags = 0;
    hid_t gcpl = H5Gget_create_plist(g);
    if (gcpl >= 0) {
        H5Pget_link_creation_order(gcpl, &flags);
        H5Pclose(gcpl);
    }
    H5_index_t idx = (flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    hsize_t pos = 0;
    if (H5Literate(g, idx, H5_ITER_INC, &pos, collect_cb, nm) < 0) {
        free(nm->v);
        nm->v = NULL;
        if (nm->nomem) {
            H5Eclear2(H5E_DEFAULT);
            return cs_err_set(err, CS_ENOMEM, "%s: out of memory listing the group's members",
                              path);
        }
        return h5_fail(err, CS_EINPUT, "%s: cannot list the group's members", path);
    }
    return CS_OK;
}

static int add_skipped(cs_table *t, const char *name, cs_err *err)
{
    void *p = realloc(t->skipped, (size_t)(t->nskipped + 1) * sizeof *t->skipped);
    if (!p)
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory listing the skipped members",
                          t->path);
    t->skipped = p;
    /* A longer name is listed cut to the slot's size (it only names a
     * column that was skipped). */
    if (snprintf(t->skipped[t->nskipped++], H5T_NAME_MAX, "%s", name) >= H5T_NAME_MAX)
        t->skipped[t->nskipped - 1][H5T_NAME_MAX - 1] = '\0';
    return CS_OK;
}

/* What the column readers return when an allocation failed (-1: the
 * read did), so that the table says out of memory, not a broken file. */
#define READ_NOMEM (-2)

/* Enum members read as their names. */
static int read_enum(hid_t d, hid_t ftype, uint64_t n, cs_tcol *c)
{
    hid_t mt = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
    size_t sz = H5Tget_size(mt);
    unsigned char *raw = malloc(n * sz + 1);
    c->width = 64;
    c->s = calloc(n + 1, c->width);
    int rc = !raw || !c->s ? READ_NOMEM
             : H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0 ? 0 : -1;
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        long long v8 = 0;   /* aligned copy of one value */
        memcpy(&v8, raw + i * sz, sz);
        if (H5Tenum_nameof(mt, &v8, c->s + i * c->width, c->width) < 0) {
            H5Eclear2(H5E_DEFAULT);
            snprintf(c->s + i * c->width, c->width, "?");
        }
    }
    free(raw);
    H5Tclose(mt);
    return rc;
}

static int read_string(hid_t d, hid_t ftype, uint64_t n, cs_tcol *c)
{
    int rc = -1;
    if (H5Tis_variable_str(ftype) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ftype));   /* no conversion between character sets */
        char **v = calloc(n + 1, sizeof *v);
        if (!v)
            rc = READ_NOMEM;
        if (v && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
            size_t w = 1;
            for (uint64_t i = 0; i < n; i++)
                if (v[i] && strlen(v[i]) + 1 > w)
                    w = strlen(v[i]) + 1;
            c->width = w;
            c->s = calloc(n + 1, w);
            for (uint64_t i = 0; c->s && i < n; i++)
                if (v[i])
                    memcpy(c->s + i * w, v[i], strlen(v[i]));
            rc = c->s ? 0 : READ_NOMEM;
            hid_t sp = H5Dget_space(d);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
            H5Sclose(sp);
        }
        free(v);
        H5Tclose(mt);
        return rc;
    }
    c->width = H5Tget_size(ftype) + 1;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, c->width);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    H5Tset_cset(mt, H5Tget_cset(ftype));
    c->s = calloc(n + 1, c->width);
    if (!c->s)
        rc = READ_NOMEM;
    else if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->s) >= 0)
        rc = 0;
    H5Tclose(mt);
    return rc;
}

/* Reads one dataset as a column; *is_col = 0 when it is not one. */
static int read_column(hid_t g, const char *gpath, const char *name, cs_tcol *c,
                       uint64_t *nrows, int *is_col, cs_err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    *is_col = 0;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "%s/%s: cannot open", gpath, name);
    hid_t sp = H5Dget_space(d), ft = H5Dget_type(d);
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[1] = {1};
    if (rank == 1)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    H5T_class_t cls = H5Tget_class(ft);
    uint64_t n = dims[0];
    int rc = 0;
    if (rank <= 1 && (cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_STRING ||
                      cls == H5T_ENUM)) {
        *is_col = 1;
        *nrows = n;
        if (cls == H5T_INTEGER && H5Tget_sign(ft) == H5T_SGN_NONE && H5Tget_size(ft) == 8) {
            c->kind = TK_U64;
            c->u = calloc(n + 1, sizeof *c->u);
            rc = !c->u ? READ_NOMEM
                 : H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->u) >= 0 ? 0 : -1;
        } else if (cls == H5T_INTEGER) {
            c->kind = TK_I64;
            c->i = calloc(n + 1, sizeof *c->i);
            rc = !c->i ? READ_NOMEM
                 : H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->i) >= 0 ? 0 : -1;
        } else if (cls == H5T_FLOAT) {
            c->kind = TK_F64;
            c->d = calloc(n + 1, sizeof *c->d);
            rc = !c->d ? READ_NOMEM
                 : H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->d) >= 0 ? 0 : -1;
        } else {
            c->kind = TK_STR;
            rc = cls == H5T_ENUM ? read_enum(d, ft, n, c) : read_string(d, ft, n, c);
        }
    }
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
    if (rc < 0) {   /* not counted in ncols: h5table_free would not see them */
        free(c->i); free(c->u); free(c->d); free(c->s);
        c->i = NULL; c->u = NULL; c->d = NULL; c->s = NULL;
    }
    if (rc == READ_NOMEM) {
        H5Eclear2(H5E_DEFAULT);
        return cs_err_set(err, CS_ENOMEM, "%s/%s: out of memory reading %llu rows", gpath,
                          name, (unsigned long long)n);
    }
    if (rc < 0)
        return h5_fail(err, CS_EINPUT, "%s/%s: cannot read", gpath, name);
    return CS_OK;
}

/* attr_cb's state: HDF5 passes on only that the callback failed. */
typedef struct attr_walk {
    cs_table *t;
    cs_err *err;
    int nomem;
} attr_walk;

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    attr_walk *aw = data;
    cs_table *t = aw->t;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t cls = H5Tget_class(ft);
    cs_tattr at;
    memset(&at, 0, sizeof at);
    snprintf(at.name, sizeof at.name, "%s", name);
    int ok = H5Sget_simple_extent_npoints(sp) == 1 && strlen(name) < H5T_NAME_MAX;
    if (ok && cls == H5T_INTEGER) {
        at.kind = TK_I64;
        ok = H5Aread(a, H5T_NATIVE_INT64, &at.i) >= 0;
        at.d = (double)at.i;
    } else if (ok && cls == H5T_FLOAT) {
        at.kind = TK_F64;
        ok = H5Aread(a, H5T_NATIVE_DOUBLE, &at.d) >= 0;
        at.i = (int64_t)at.d;
    } else if (ok && cls == H5T_STRING) {
        at.kind = TK_STR;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ft));
        if (H5Tis_variable_str(ft) > 0) {
            char *v = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            ok = H5Aread(a, mt, &v) >= 0;
            if (ok && v)
                snprintf(at.s, sizeof at.s, "%s", v);
            if (ok)
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &v);
        } else if (H5Tget_size(ft) < sizeof at.s) {
            H5Tset_size(mt, H5Tget_size(ft) + 1);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            ok = H5Aread(a, mt, at.s) >= 0;
        } else {
            ok = 0;
        }
        H5Tclose(mt);
    } else {
        ok = 0;
    }
    H5Tclose(ft);
    H5Sclose(sp);
    H5Aclose(a);
    char tag[H5T_NAME_MAX + 1];
    snprintf(tag, sizeof tag, "@%s", name);
    if (!ok) {
        H5Eclear2(H5E_DEFAULT);
        aw->nomem = add_skipped(t, tag, aw->err) != CS_OK;
        return aw->nomem ? -1 : 0;
    }
    void *p = realloc(t->attrs, (size_t)(t->nattrs + 1) * sizeof *t->attrs);
    if (!p) {
        aw->nomem = 1;
        cs_err_set(aw->err, CS_ENOMEM, "%s: out of memory reading the attributes", t->path);
        return -1;
    }
    t->attrs = p;
    t->attrs[t->nattrs++] = at;
    return 0;
}

int h5table_read(hid_t file, const char *path, cs_table *t, cs_err *err)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    if (!h5table_is_group(file, path))
        return cs_err_set(err, CS_EINPUT, "%s: no such group", path);
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    if (g < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open group", path);
    names nm;
    int rc = list_members(g, path, &nm, err);
    if (rc == CS_OK && nm.overlong)
        rc = cs_err_set(err, CS_EINPUT, "%s: a member name is longer than %d characters", path,
                        H5T_NAME_MAX - 1);
    if (rc == CS_OK) {
        t->cols = calloc((size_t)nm.n + 1, sizeof *t->cols);
        if (!t->cols)
            rc = cs_err_set(err, CS_ENOMEM, "%s: out of memory", path);
    }
    uint64_t first_n = 0;
    const char *first = NULL;
    for (int i = 0; rc == CS_OK && i < nm.n; i++) {
        hid_t o = H5Oopen(g, nm.v[i], H5P_DEFAULT);
        H5I_type_t ty = o >= 0 ? H5Iget_type(o) : H5I_BADID;
        if (o >= 0)
            H5Oclose(o);
        if (ty != H5I_DATASET) {
            rc = add_skipped(t, nm.v[i], err);
            continue;
        }
        uint64_t n = 0;
        int is_col = 0;
        cs_tcol *c = &t->cols[t->ncols];
        rc = read_column(g, path, nm.v[i], c, &n, &is_col, err);
        if (rc != CS_OK || !is_col) {
            if (rc == CS_OK)
                rc = add_skipped(t, nm.v[i], err);
            continue;
        }
        t->ncols++;
        if (!first) {
            first = c->name;
            first_n = n;
        } else if (n != first_n) {
            rc = cs_err_set(err, CS_EINPUT, "%s: columns differ in length (%s has %llu rows, "
                            "%s has %llu)", path, first, (unsigned long long)first_n, c->name,
                            (unsigned long long)n);
        }
    }
    t->nrows = first_n;
    if (rc == CS_OK) {
        hsize_t pos = 0;
        attr_walk aw = {t, err, 0};
        if (H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &pos, attr_cb, &aw) < 0) {
            if (aw.nomem)
                H5Eclear2(H5E_DEFAULT);
            rc = aw.nomem ? err->code
                          : h5_fail(err, CS_EINPUT, "%s: cannot read the attributes", path);
        }
    }
    free(nm.v);
    H5Gclose(g);
    if (rc != CS_OK)
        h5table_free(t);
    return rc;
}

void h5table_free(cs_table *t)
{
    for (int i = 0; t->cols && i < t->ncols; i++) {
        free(t->cols[i].i);
        free(t->cols[i].u);
        free(t->cols[i].d);
        free(t->cols[i].s);
    }
    free(t->cols);
    free(t->attrs);
    free(t->skipped);
    char path[sizeof t->path];
    memcpy(path, t->path, sizeof path);
    memset(t, 0, sizeof *t);
    memcpy(t->path, path, sizeof path);
}

int h5table_col_index(const cs_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

const cs_tcol *h5table_col(const cs_table *t, const char *name)
{
    int i = h5table_col_index(t, name);
    return i < 0 ? NULL : &t->cols[i];
}

double tcol_num(const cs_tcol *c, uint64_t row)
{
    switch (c->kind) {
    case TK_I64: return (double)c->i[row];
    case TK_U64: return (double)c->u[row];
    case TK_F64: return c->d[row];
    default: return NAN;
    }
}

int64_t tcol_i64(const cs_tcol *c, uint64_t row)
{
    switch (c->kind) {
    case TK_I64: return c->i[row];
    case TK_U64: return (int64_t)c->u[row];
    case TK_F64: return isnan(c->d[row]) ? 0 : (int64_t)c->d[row];
    default: return 0;
    }
}

const char *tcol_str(const cs_tcol *c, uint64_t row)
{
    return c->kind == TK_STR ? c->s + row * c->width : "";
}

static const cs_tattr *find_attr(const cs_table *t, const char *name)
{
    for (int i = 0; i < t->nattrs; i++)
        if (strcmp(t->attrs[i].name, name) == 0)
            return &t->attrs[i];
    return NULL;
}

const char *h5table_attr_str(const cs_table *t, const char *name, const char *dflt)
{
    const cs_tattr *a = find_attr(t, name);
    return a && a->kind == TK_STR ? a->s : dflt;
}

int64_t h5table_attr_i64(const cs_table *t, const char *name, int64_t dflt)
{
    const cs_tattr *a = find_attr(t, name);
    return a && a->kind != TK_STR ? a->i : dflt;
}

double h5table_attr_f64(const cs_table *t, const char *name, double dflt)
{
    const cs_tattr *a = find_attr(t, name);
    return a && a->kind != TK_STR ? a->d : dflt;
}

int h5table_is_group(hid_t file, const char *path)
{
    if (strcmp(path, "/") == 0)
        return 1;
    /* Check each link on the way: H5Lexists fails on a missing parent. */
    char part[512];
    size_t len = strlen(path);
    if (len >= sizeof part)
        return 0;
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        memcpy(part, path, i);
        part[i] = '\0';
        if (H5Lexists(file, part, H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return 0;
        }
    }
    hid_t o = H5Oopen(file, path, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int is = H5Iget_type(o) == H5I_GROUP;
    H5Oclose(o);
    return is;
}

int h5table_subgroups(hid_t file, const char *path, char (**out)[H5T_NAME_MAX], int *n,
                      cs_err *err)
{
    *out = NULL;
    *n = 0;
    if (!h5table_is_group(file, path))
        return cs_err_set(err, CS_EINPUT, "%s: no such group", path);
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    names nm;
    int rc = list_members(g, path, &nm, err);
    int k = 0;
    for (int i = 0; rc == CS_OK && i < nm.n; i++) {
        hid_t o = H5Oopen(g, nm.v[i], H5P_DEFAULT);
        if (o >= 0 && H5Iget_type(o) == H5I_GROUP)
            memmove(nm.v[k++], nm.v[i], H5T_NAME_MAX);
        if (o >= 0)
            H5Oclose(o);
    }
    H5Gclose(g);
    if (rc != CS_OK) {
        free(nm.v);
        return rc;
    }
    *out = nm.v;
    *n = k;
    return CS_OK;
}
