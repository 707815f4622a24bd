/* test_h5table.c — unit tests for h5table.c on a file written here with
 * the plain HDF5 API: every column kind (int, uint64 beyond int64, float,
 * fixed and variable-length strings, enum names), attributes, members that
 * are not columns (listed as skipped), creation order, sub-groups, and the
 * errors for unequal lengths and a missing group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/h5table.h"
#include "clickseg/h5util.h"

static char path[64];

static void put(hid_t g, const char *name, hid_t ft, hid_t mt, hsize_t n, const void *buf)
{
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

static void make_file(void)
{
    snprintf(path, sizeof path, "/tmp/test_h5table_%d.h5", (int)getpid());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t g = H5Gcreate2(f, "t", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    /* created in an order that is not alphabetical */
    int64_t iv[3] = {-5, 0, 1234567};
    put(g, "zeta", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, iv);
    uint64_t uv[3] = {1, UINT64_MAX, 42};
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, 3, uv);
    double dv[3] = {0.5, NAN, -2.25};
    put(g, "score", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dv);
    hid_t fs = H5Tcopy(H5T_C_S1);
    H5Tset_size(fs, 6);
    H5Tset_strpad(fs, H5T_STR_NULLPAD);
    char fixed[3][6] = {"high", "low", "risky!"};
    put(g, "tier", fs, fs, 3, fixed);
    hid_t vs = H5Tcopy(H5T_C_S1);
    H5Tset_size(vs, H5T_VARIABLE);
    const char *vv[3] = {"a", "longer string", ""};
    put(g, "note", vs, vs, 3, vv);
    /* UTF-8 strings, as h5py writes them: HDF5 converts no character set */
    hid_t u8 = H5Tcopy(vs);
    H5Tset_cset(u8, H5T_CSET_UTF8);
    const char *u8v[3] = {"gr\xc3\xbc\xc3\x9f", "b", "c"};
    put(g, "label", u8, u8, 3, u8v);
    hid_t et = H5Tenum_create(H5T_NATIVE_UINT8);
    uint8_t e0 = 0, e1 = 1;
    H5Tenum_insert(et, "female", &e0);
    H5Tenum_insert(et, "male", &e1);
    uint8_t ev[3] = {1, 0, 1};
    put(g, "gender", et, et, 3, ev);
    int16_t small[3] = {-1, 2, 3};
    put(g, "small", H5T_STD_I16LE, H5T_NATIVE_INT16, 3, small);
    hsize_t d2[2] = {3, 2};
    hid_t sp2 = H5Screate_simple(2, d2, NULL);
    hid_t m = H5Dcreate2(g, "matrix", H5T_STD_I64LE, sp2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(m);
    H5Sclose(sp2);
    H5Gclose(H5Gcreate2(g, "sub", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    h5_attr_string(g, "currency", "EUR", NULL);
    h5_attr_int64(g, "version", 2, NULL);
    hid_t asp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, "wall_s", H5T_IEEE_F64LE, asp, H5P_DEFAULT, H5P_DEFAULT);
    double w = 1.5;
    H5Awrite(a, H5T_NATIVE_DOUBLE, &w);
    H5Aclose(a);
    a = H5Acreate2(g, "utf8", u8, asp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, u8, &u8v[0]);
    H5Aclose(a);
    a = H5Acreate2(g, "inputs", vs, asp, H5P_DEFAULT, H5P_DEFAULT);
    const char *in = "arch/a.h5,arch/b.h5";
    H5Awrite(a, vs, &in);
    H5Aclose(a);
    H5Sclose(asp);
    /* unequal lengths */
    hid_t b = H5Gcreate2(f, "bad", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    put(b, "a", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, iv);
    put(b, "b", H5T_STD_I64LE, H5T_NATIVE_INT64, 2, iv);
    H5Gclose(b);
    H5Tclose(fs);
    H5Tclose(vs);
    H5Tclose(u8);
    H5Tclose(et);
    H5Gclose(g);
    H5Fclose(f);
}

static void test_read(void **state)
{
    (void)state;
    make_file();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cs_table t;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(h5table_read(f, "/t", &t, &err), CS_OK);
    assert_int_equal(t.nrows, 3);
    assert_int_equal(t.ncols, 8);
    /* creation order kept */
    assert_string_equal(t.cols[0].name, "zeta");
    assert_string_equal(t.cols[1].name, "user_id");
    const cs_tcol *c = h5table_col(&t, "zeta");
    assert_int_equal(c->kind, TK_I64);
    assert_int_equal(tcol_i64(c, 2), 1234567);
    c = h5table_col(&t, "user_id");
    assert_int_equal(c->kind, TK_U64);
    assert_true(c->u[1] == UINT64_MAX);
    c = h5table_col(&t, "score");
    assert_true(c->kind == TK_F64 && c->d[0] == 0.5 && isnan(c->d[1]));
    assert_string_equal(tcol_str(h5table_col(&t, "tier"), 2), "risky!");
    assert_string_equal(tcol_str(h5table_col(&t, "tier"), 0), "high");
    assert_string_equal(tcol_str(h5table_col(&t, "note"), 1), "longer string");
    assert_string_equal(tcol_str(h5table_col(&t, "label"), 0), "gr\xc3\xbc\xc3\x9f");
    assert_string_equal(h5table_attr_str(&t, "utf8", "?"), "gr\xc3\xbc\xc3\x9f");
    assert_string_equal(tcol_str(h5table_col(&t, "gender"), 0), "male");
    assert_string_equal(tcol_str(h5table_col(&t, "gender"), 1), "female");
    assert_int_equal(tcol_i64(h5table_col(&t, "small"), 0), -1);
    assert_null(h5table_col(&t, "matrix"));
    assert_int_equal(t.nskipped, 2);   /* matrix, sub */
    assert_string_equal(h5table_attr_str(&t, "currency", "?"), "EUR");
    assert_string_equal(h5table_attr_str(&t, "inputs", "?"), "arch/a.h5,arch/b.h5");
    assert_int_equal(h5table_attr_i64(&t, "version", 0), 2);
    assert_true(h5table_attr_f64(&t, "wall_s", 0) == 1.5);
    assert_string_equal(h5table_attr_str(&t, "missing", "dflt"), "dflt");
    h5table_free(&t);

    char (*subs)[H5T_NAME_MAX];
    int n;
    assert_int_equal(h5table_subgroups(f, "/t", &subs, &n, &err), CS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(subs[0], "sub");
    free(subs);

    assert_int_equal(h5table_read(f, "/bad", &t, &err), CS_EINPUT);
    assert_non_null(strstr(err.msg, "/bad: columns differ in length"));
    assert_int_equal(h5table_read(f, "/nothing/here", &t, &err), CS_EINPUT);
    assert_non_null(strstr(err.msg, "no such group"));
    assert_false(h5table_is_group(f, "/t/zeta"));
    assert_true(h5table_is_group(f, "/t/sub"));
    H5Fclose(f);
    unlink(path);
}

int main(void)
{
    h5_silence();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_read)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
