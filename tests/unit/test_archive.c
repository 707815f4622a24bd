/* test_archive.c — unit tests for archive.c and archive_stats.c on small
 * HDF5 files written here with the plain HDF5 API (archive_fixture.h): a
 * valid file in the native types (scan fields, exact range reads),
 * accepted conversions (int32 ids, int64 categories and event types,
 * uint64 times, enums with other codes mapped by name), missing optional
 * columns read as 0, values that do not fit (an error naming file and
 * dataset), out-of-range event types (rejected rows, read as 255), and
 * archive_file_stats on a file with unordered rows, bad types and a
 * negative time. What archive_scan refuses: test_archive_scan.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "archive_fixture.h"

/* ---- a valid file in the native types ---- */

#define NV 6
static const int64_t v_ts[NV] = {1000, 2000, 2000, 3500, 4000, 9000};
static const uint64_t v_uid[NV] = {1, 2, (1ULL << 63) + 5, 4, 5, 6};
static const uint8_t v_type[NV] = {0, 1, 2, 6, 7, 3};
static const uint64_t v_prod[NV] = {0, 11, 12, 1ULL << 40, 14, 15};
static const uint32_t v_cat[NV] = {0, 100, 200, 4000000000u, 5, 6};
static const uint32_t v_brand[NV] = {7, 8, 9, 10, 11, 12};
static const int64_t v_price[NV] = {-5, 0, 1999, INT64_MAX, 1, 2};
static const uint64_t v_sess[NV] = {1, 1, 2, 2, 3, UINT64_MAX};

static void make_valid(const char *name)
{
    hid_t f = new_file(name);
    hid_t g = new_group(f, "events");
    put(g, "ts", H5T_STD_I64LE, H5T_NATIVE_INT64, NV, v_ts, 4);
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, NV, v_uid, 0);
    put(g, "event_type", H5T_STD_U8LE, H5T_NATIVE_UINT8, NV, v_type, 0);
    put(g, "product_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, NV, v_prod, 0);
    put(g, "category_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, NV, v_cat, 0);
    put(g, "brand_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, NV, v_brand, 0);
    put(g, "price", H5T_STD_I64LE, H5T_NATIVE_INT64, NV, v_price, 0);
    put(g, "session_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, NV, v_sess, 0);
    H5Gclose(g);
    H5Fclose(f);
}

static void test_valid_scan(void **state)
{
    (void)state;
    make_valid("valid.h5");
    cs_file_info info;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_scan(tpath("valid.h5"), &info, &err), CS_OK);
    assert_string_equal(info.path, tpath("valid.h5"));
    assert_int_equal(info.has_events, 1);
    assert_int_equal(info.has_customers, 0);
    assert_int_equal(info.rows, NV);
    assert_int_equal(info.customer_rows, 0);
    const char *desc[COL_NCOLUMNS] = {"int64", "uint64", "uint8", "uint64",
                                      "uint32", "uint32", "int64", "uint64"};
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        assert_int_equal(info.present[c], 1);
        assert_string_equal(info.type_desc[c], desc[c]);
        assert_int_equal(info.chunk_rows[c], c == COL_TS ? 4 : 0);
        if (c != COL_TS)
            assert_string_equal(info.filters[c], "");
    }
    assert_string_equal(info.filters[COL_TS],
                        H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0 ? "deflate" : "");
    assert_int_equal(info.ts_first, 1000);
    assert_int_equal(info.ts_last, 9000);
    struct stat st;
    assert_int_equal(stat(tpath("valid.h5"), &st), 0);
    assert_int_equal(info.file_bytes, (int64_t)st.st_size);

    assert_string_equal(archive_column_name(COL_TS), "ts");
    assert_string_equal(archive_column_name(COL_SESSION_ID), "session_id");
    assert_null(archive_column_name(-1));
    assert_null(archive_column_name(COL_NCOLUMNS));
}

static void test_valid_read_range(void **state)
{
    (void)state;
    make_valid("valid.h5");
    cs_archive_reader *r = NULL;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_reader_open(tpath("valid.h5"), &r, &err), CS_OK);
    assert_non_null(r);
    int64_t ts[NV], price[NV];
    uint64_t uid[NV], prod[NV], sess[NV];
    uint8_t type[NV];
    uint32_t cat[NV], brand[NV];
    memset(ts, 0x5a, sizeof ts);
    memset(uid, 0x5a, sizeof uid);
    cs_columns c = {ts, uid, type, prod, cat, brand, price, sess};
    /* rows 2..4 */
    assert_int_equal(archive_read_range(r, 2, 3, &c, &err), CS_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ts[i], v_ts[2 + i]);
        assert_int_equal(uid[i], v_uid[2 + i]);
        assert_int_equal(type[i], v_type[2 + i]);
        assert_int_equal(prod[i], v_prod[2 + i]);
        assert_int_equal(cat[i], v_cat[2 + i]);
        assert_int_equal(brand[i], v_brand[2 + i]);
        assert_int_equal(price[i], v_price[2 + i]);
        assert_int_equal(sess[i], v_sess[2 + i]);
    }
    /* nothing written past count */
    assert_int_equal(ts[3], (int64_t)0x5a5a5a5a5a5a5a5aLL);
    /* the last row, only two columns wanted */
    cs_columns few = {.ts = ts, .user_id = uid};
    assert_int_equal(archive_read_range(r, NV - 1, 1, &few, &err), CS_OK);
    assert_int_equal(ts[0], 9000);
    assert_int_equal(uid[0], 6);
    /* count 0 is a no-op */
    assert_int_equal(archive_read_range(r, 0, 0, &c, &err), CS_OK);
    /* everything */
    assert_int_equal(archive_read_range(r, 0, NV, &c, &err), CS_OK);
    assert_memory_equal(ts, v_ts, sizeof ts);
    assert_memory_equal(uid, v_uid, sizeof uid);
    assert_memory_equal(type, v_type, sizeof type);
    assert_memory_equal(prod, v_prod, sizeof prod);
    assert_memory_equal(cat, v_cat, sizeof cat);
    assert_memory_equal(brand, v_brand, sizeof brand);
    assert_memory_equal(price, v_price, sizeof price);
    assert_memory_equal(sess, v_sess, sizeof sess);
    archive_reader_close(r);
    archive_reader_close(NULL);
}

/* ---- conversions ---- */

static void test_conversions(void **state)
{
    (void)state;
    hid_t f = new_file("conv.h5");
    hid_t g = new_group(f, "events");
    const uint64_t ts[4] = {10, 20, 1ULL << 62, 40};
    const int32_t uid[4] = {1, INT32_MAX, 3, 0};
    const int64_t type[4] = {0, 7, 300, -1};
    const int64_t cat[4] = {0, UINT32_MAX, 5, 6};
    const int16_t prod[4] = {1, 2, 3, INT16_MAX};
    put(g, "ts", H5T_STD_U64LE, H5T_NATIVE_UINT64, 4, ts, 0);
    put(g, "user_id", H5T_STD_I32LE, H5T_NATIVE_INT32, 4, uid, 0);
    put(g, "event_type", H5T_STD_I64BE, H5T_NATIVE_INT64, 4, type, 0);
    put(g, "category_id", H5T_STD_I64LE, H5T_NATIVE_INT64, 4, cat, 0);
    put(g, "product_id", H5T_STD_I16LE, H5T_NATIVE_INT16, 4, prod, 0);
    H5Gclose(g);
    H5Fclose(f);

    cs_file_info info;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_scan(tpath("conv.h5"), &info, &err), CS_OK);
    assert_int_equal(info.rows, 4);
    assert_string_equal(info.type_desc[COL_TS], "uint64");
    assert_string_equal(info.type_desc[COL_USER_ID], "int32");
    assert_string_equal(info.type_desc[COL_EVENT_TYPE], "int64");
    assert_string_equal(info.type_desc[COL_CATEGORY_ID], "int64");
    assert_string_equal(info.type_desc[COL_PRODUCT_ID], "int16");
    assert_int_equal(info.present[COL_BRAND_ID], 0);
    assert_int_equal(info.present[COL_PRICE], 0);
    assert_int_equal(info.present[COL_SESSION_ID], 0);
    assert_int_equal(info.ts_first, 10);
    assert_int_equal(info.ts_last, 40);

    cs_archive_reader *r = NULL;
    assert_int_equal(archive_reader_open(tpath("conv.h5"), &r, &err), CS_OK);
    int64_t rts[4], rprice[4];
    uint64_t ruid[4], rprod[4], rsess[4];
    uint8_t rtype[4];
    uint32_t rcat[4], rbrand[4];
    memset(rprice, 0xab, sizeof rprice);
    memset(rsess, 0xab, sizeof rsess);
    memset(rbrand, 0xab, sizeof rbrand);
    cs_columns c = {rts, ruid, rtype, rprod, rcat, rbrand, rprice, rsess};
    assert_int_equal(archive_read_range(r, 0, 4, &c, &err), CS_OK);
    const int64_t want_ts[4] = {10, 20, INT64_C(1) << 62, 40};
    const uint64_t want_uid[4] = {1, 2147483647, 3, 0};
    const uint8_t want_type[4] = {0, 7, 255, 255};   /* 300 and -1: rejected rows */
    const uint32_t want_cat[4] = {0, 4294967295u, 5, 6};
    const uint64_t want_prod[4] = {1, 2, 3, 32767};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rts[i], want_ts[i]);
        assert_int_equal(ruid[i], want_uid[i]);
        assert_int_equal(rtype[i], want_type[i]);
        assert_int_equal(rcat[i], want_cat[i]);
        assert_int_equal(rprod[i], want_prod[i]);
        /* missing optional columns read as 0 */
        assert_int_equal(rprice[i], 0);
        assert_int_equal(rsess[i], 0);
        assert_int_equal(rbrand[i], 0);
    }
    archive_reader_close(r);
}

/* An enum event_type with v1 names but other codes, inserted in another
 * order: values map by name. A value without a member is a rejected row. */
static void test_enum_by_name(void **state)
{
    (void)state;
    static const char *const order[8] = {"search", "refund", "page_view", "checkout",
                                         "product_view", "purchase", "add_to_cart",
                                         "remove_from_cart"};
    /* file code of v1 type t is 7 - t */
    static const int v1_of[8] = {2, 7, 0, 5, 1, 6, 3, 4};
    hid_t et = H5Tenum_create(H5T_STD_U8LE);
    for (int i = 0; i < 8; i++) {
        uint8_t code = (uint8_t)(7 - v1_of[i]);
        assert_true(H5Tenum_insert(et, order[i], &code) >= 0);
    }
    const uint8_t data[9] = {7, 6, 5, 4, 3, 2, 1, 0, 42};
    hid_t f = new_file("enum.h5");
    hid_t g = new_group(f, "events");
    int64_t ts[9];
    uint64_t uid[9];
    for (int i = 0; i < 9; i++) {
        ts[i] = i;
        uid[i] = 100 + (uint64_t)i;
    }
    put(g, "ts", H5T_STD_I64LE, H5T_NATIVE_INT64, 9, ts, 0);
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, 9, uid, 0);
    put(g, "event_type", et, et, 9, data, 0);
    H5Gclose(g);
    H5Fclose(f);
    H5Tclose(et);

    /* a second file: an int16 enum with two members at odd codes */
    hid_t e16 = H5Tenum_create(H5T_STD_I16LE);
    int16_t pv = 100, pu = -3;
    assert_true(H5Tenum_insert(e16, "purchase", &pu) >= 0);
    assert_true(H5Tenum_insert(e16, "page_view", &pv) >= 0);
    const int16_t d16[3] = {100, -3, 100};
    f = new_file("enum16.h5");
    g = new_group(f, "events");
    put(g, "ts", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, ts, 0);
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, 3, uid, 0);
    put(g, "event_type", e16, e16, 3, d16, 0);
    H5Gclose(g);
    H5Fclose(f);
    H5Tclose(e16);

    cs_file_info info;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_scan(tpath("enum.h5"), &info, &err), CS_OK);
    assert_string_equal(info.type_desc[COL_EVENT_TYPE], "uint8 enum");
    cs_archive_reader *r = NULL;
    assert_int_equal(archive_reader_open(tpath("enum.h5"), &r, &err), CS_OK);
    uint8_t type[9];
    cs_columns c = {.event_type = type};
    assert_int_equal(archive_read_range(r, 0, 9, &c, &err), CS_OK);
    for (int i = 0; i < 8; i++)
        if (type[i] != i)
            fail_msg("row %d: file code %u read as %u, want v1 code %d", i, data[i], type[i], i);
    assert_int_equal(type[8], 255);
    /* a sub-range starting mid-file */
    assert_int_equal(archive_read_range(r, 5, 2, &c, &err), CS_OK);
    assert_int_equal(type[0], 5);
    assert_int_equal(type[1], 6);
    archive_reader_close(r);

    assert_int_equal(archive_scan(tpath("enum16.h5"), &info, &err), CS_OK);
    assert_string_equal(info.type_desc[COL_EVENT_TYPE], "int16 enum");
    assert_int_equal(archive_reader_open(tpath("enum16.h5"), &r, &err), CS_OK);
    assert_int_equal(archive_read_range(r, 0, 3, &c, &err), CS_OK);
    assert_int_equal(type[0], EV_PAGE_VIEW);
    assert_int_equal(type[1], EV_PURCHASE);
    assert_int_equal(type[2], EV_PAGE_VIEW);
    archive_reader_close(r);
}

/* ---- values that do not fit ---- */

static void make_misfit(const char *name, int col)
{
    hid_t f = new_file(name);
    hid_t g = new_group(f, "events");
    put_required(g, 3, col);
    if (col == COL_TS) {
        const uint64_t ts[3] = {1, (1ULL << 63) + 5, 3};
        put(g, "ts", H5T_STD_U64LE, H5T_NATIVE_UINT64, 3, ts, 0);
    } else if (col == COL_USER_ID) {
        const int64_t uid[3] = {1, -1, 3};
        put(g, "user_id", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, uid, 0);
    } else {
        const int64_t cat[3] = {5, INT64_C(1) << 40, 6};
        put(g, "category_id", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, cat, 0);
    }
    H5Gclose(g);
    H5Fclose(f);
}

static void test_does_not_fit(void **state)
{
    (void)state;
    const struct { const char *file; int col; const char *dset; } cases[] = {
        {"big_cat.h5", COL_CATEGORY_ID, "/events/category_id"},
        {"big_ts.h5", COL_TS, "/events/ts"},
        {"neg_user.h5", COL_USER_ID, "/events/user_id"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        make_misfit(cases[k].file, cases[k].col);
        const char *p = tpath(cases[k].file);
        cs_file_info info;
        cs_err err;
        cs_err_clear(&err);
        /* the schema is fine: only the values are wrong */
        assert_int_equal(archive_scan(p, &info, &err), CS_OK);
        cs_archive_reader *r = NULL;
        assert_int_equal(archive_reader_open(p, &r, &err), CS_OK);
        int64_t ts[3];
        uint64_t uid[3];
        uint8_t type[3];
        uint32_t cat[3];
        cs_columns c = {.ts = ts, .user_id = uid, .event_type = type, .category_id = cat};
        /* rows without the bad value read fine */
        assert_int_equal(archive_read_range(r, 0, 1, &c, &err), CS_OK);
        assert_int_equal(ts[0], cases[k].col == COL_TS ? 1 : 0);
        assert_int_equal(uid[0], 1);
        assert_int_equal(archive_read_range(r, 2, 1, &c, &err), CS_OK);
        assert_int_equal(uid[0], 3);
        cs_err_clear(&err);
        int rc = archive_read_range(r, 0, 3, &c, &err);
        if (rc != CS_EINPUT)
            fail_msg("%s: read returned %d, want CS_EINPUT", cases[k].file, rc);
        assert_has(err.msg, p);
        assert_has(err.msg, cases[k].dset);
        assert_has(err.msg, "does not fit");
        assert_has(err.msg, "rows 0..2");
        archive_reader_close(r);
        /* inspect's full pass reports it too */
        cs_file_stats st;
        cs_err_clear(&err);
        assert_int_equal(archive_file_stats(p, 3600000000, INT64_MIN, &st, &err), CS_EINPUT);
        assert_has(err.msg, cases[k].dset);
        assert_has(err.msg, "does not fit");
    }
}

/* ---- archive_file_stats ---- */

#define NS 12000
static void test_file_stats(void **state)
{
    (void)state;
    int64_t *ts = malloc(NS * sizeof *ts);
    uint64_t *uid = malloc(NS * sizeof *uid);
    uint8_t *type = malloc(NS);
    assert_non_null(ts);
    assert_non_null(uid);
    assert_non_null(type);
    for (int i = 0; i < NS; i++) {
        ts[i] = 1000 * (int64_t)i;
        uid[i] = (uint64_t)(i % 10000) * 7919 + 13;   /* 10000 distinct users */
        type[i] = (uint8_t)(i % 8);
    }
    ts[100] = 500;       /* 98.5 ms before row 99: behind, and late at 50 ms */
    ts[200] = -7;        /* negative: rejected, so neither behind nor the newest */
    ts[300] = 299000;    /* equal to row 299: in order */
    ts[400] = 398999;    /* 1 µs before row 399: behind, not late */
    ts[500] = CS_TS_MAX + 1;   /* after 9999-12-31: far future, rejected (501 in order) */
    ts[600] = CS_TS_MAX;       /* the last valid µs: every row after it is behind and late */
    type[7] = 9;         /* two bad types, both in place of a 7 */
    type[15] = 200;
    hid_t f = new_file("stats.h5");
    hid_t g = new_group(f, "events");
    put(g, "ts", H5T_STD_I64LE, H5T_NATIVE_INT64, NS, ts, 1000);
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, NS, uid, 0);
    put(g, "event_type", H5T_STD_U8LE, H5T_NATIVE_UINT8, NS, type, 0);
    H5Gclose(g);
    H5Fclose(f);
    free(type);
    free(uid);
    free(ts);

    cs_file_stats st;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_file_stats(tpath("stats.h5"), 50000, INT64_MIN, &st, &err), CS_OK);
    assert_int_equal(st.ts_min, -7);
    assert_int_equal(st.ts_max, CS_TS_MAX + 1);
    /* behind the newest used row before them, as run measures lateness:
     * rows 100 and 400, and 601..NS-1 behind row 600's CS_TS_MAX */
    assert_int_equal(st.out_of_order, 2 + (NS - 601));
    assert_int_equal(st.late, 1 + (NS - 601));
    assert_int_equal(st.negative_ts, 1);
    assert_int_equal(st.far_future_ts, 1);
    assert_int_equal(st.bad_types, 2);
    for (int t = 0; t < 7; t++)
        assert_int_equal(st.type_counts[t], NS / 8);
    assert_int_equal(st.type_counts[7], NS / 8 - 2);
    if (st.distinct_users_est < 9500 || st.distinct_users_est > 10500)
        fail_msg("distinct users estimated %llu, want 10000 +- 5%%",
                 (unsigned long long)st.distinct_users_est);
    assert_int_equal(st.used_ts_min, 0);            /* row 200's -7 is rejected */
    assert_int_equal(st.used_ts_max, CS_TS_MAX);    /* row 500's CS_TS_MAX + 1 too */

    /* after rows whose newest used ts is 5 s (another file before it in
     * the archive): rows 0..599 but the four rejected ones (200 and 500
     * for their times, 7 and 15 for their types) are behind it, all by
     * more than 50 ms; row 600 is the newest again */
    assert_int_equal(archive_file_stats(tpath("stats.h5"), 50000, 5000000, &st, &err), CS_OK);
    assert_int_equal(st.out_of_order, 596 + (NS - 601));
    assert_int_equal(st.late, 596 + (NS - 601));
    assert_int_equal(st.used_ts_min, 0);

    /* a profile-only file has no event statistics, and no error */
    make_profiles("stats_profiles.h5");
    assert_int_equal(archive_file_stats(tpath("stats_profiles.h5"), 50000, INT64_MIN, &st, &err), CS_OK);
    assert_int_equal(st.out_of_order, 0);
    assert_int_equal(st.distinct_users_est, 0);
    /* a file that does not scan fails the same way */
    f = new_file("stats_no_ts.h5");
    g = new_group(f, "events");
    put_required(g, 3, COL_TS);
    H5Gclose(g);
    H5Fclose(f);
    assert_int_equal(archive_file_stats(tpath("stats_no_ts.h5"), 50000, INT64_MIN, &st, &err), CS_EINPUT);
    assert_has(err.msg, "required dataset /events/ts is missing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_scan),
        cmocka_unit_test(test_valid_read_range),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_enum_by_name),
        cmocka_unit_test(test_does_not_fit),
        cmocka_unit_test(test_file_stats),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
