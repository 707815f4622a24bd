/* test_archive_scan.c — every rejection of archive_scan on small HDF5
 * files written here (archive_fixture.h): not an archive, a missing
 * required column, wrong shapes and types; and a profile-only file and an
 * empty one accepted as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "archive_fixture.h"

/* ---- rejections of archive_scan ---- */

static void test_reject_not_archive(void **state)
{
    (void)state;
    expect_scan_error("no-such-file.h5", "cannot open");
    FILE *t = fopen(tpath("text.h5"), "w");
    assert_non_null(t);
    fputs("ts,user_id,event_type\n1,2,3\n", t);
    fclose(t);
    expect_scan_error("text.h5", "not an HDF5 file");
    hid_t f = new_file("nogroup.h5");
    H5Gclose(new_group(f, "other"));
    H5Fclose(f);
    expect_scan_error("nogroup.h5", "no /events group");
}

static void test_reject_missing_required(void **state)
{
    (void)state;
    const char *file[3] = {"no_ts.h5", "no_user.h5", "no_type.h5"};
    const char *msg[3] = {"required dataset /events/ts is missing",
                          "required dataset /events/user_id is missing",
                          "required dataset /events/event_type is missing"};
    for (int col = 0; col < 3; col++) {
        hid_t f = new_file(file[col]);
        hid_t g = new_group(f, "events");
        put_required(g, 4, col);
        H5Gclose(g);
        H5Fclose(f);
        expect_scan_error(file[col], msg[col]);
        /* the reader refuses it too */
        cs_archive_reader *r = NULL;
        cs_err err;
        cs_err_clear(&err);
        assert_int_equal(archive_reader_open(tpath(file[col]), &r, &err), CS_EINPUT);
        assert_has(err.msg, msg[col]);
        assert_null(r);
    }
}

static void test_reject_shapes_and_types(void **state)
{
    (void)state;
    /* unequal lengths: user_id 5 rows, ts 6 */
    hid_t f = new_file("unequal.h5");
    hid_t g = new_group(f, "events");
    put_required(g, 6, COL_USER_ID);
    const uint64_t uid[5] = {1, 2, 3, 4, 5};
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, 5, uid, 0);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("unequal.h5", "/events/user_id has 5 rows but /events/ts has 6");

    /* an optional column of another length */
    f = new_file("unequal_opt.h5");
    g = new_group(f, "events");
    put_required(g, 6, -1);
    const int64_t price[7] = {0};
    put(g, "price", H5T_STD_I64LE, H5T_NATIVE_INT64, 7, price, 0);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("unequal_opt.h5", "/events/price has 7 rows but /events/ts has 6");

    /* a 2-D column */
    f = new_file("twod.h5");
    g = new_group(f, "events");
    put_required(g, 6, -1);
    hsize_t dims[2] = {6, 2};
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(g, "price", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(s);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("twod.h5", "/events/price has 2 dimensions");

    /* a float column */
    f = new_file("float.h5");
    g = new_group(f, "events");
    put_required(g, 6, -1);
    const double br[6] = {1, 2, 3, 4, 5, 6};
    put(g, "brand_id", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 6, br, 0);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("float.h5", "/events/brand_id has type float64; format v1 needs an integer");

    /* an enum is only accepted for event_type */
    f = new_file("enum_uid.h5");
    g = new_group(f, "events");
    put_required(g, 2, COL_USER_ID);
    hid_t et = H5Tenum_create(H5T_STD_U8LE);
    uint8_t one = 1, two = 2;
    H5Tenum_insert(et, "a", &one);
    H5Tenum_insert(et, "b", &two);
    const uint8_t ev[2] = {1, 2};
    put(g, "user_id", et, et, 2, ev, 0);
    H5Tclose(et);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("enum_uid.h5", "/events/user_id has type uint8 enum; format v1 needs an integer");

    /* an enum event_type with a name that is not v1's */
    f = new_file("badenum.h5");
    g = new_group(f, "events");
    put_required(g, 2, COL_EVENT_TYPE);
    et = H5Tenum_create(H5T_STD_U8LE);
    uint8_t zero = 0;
    H5Tenum_insert(et, "page_view", &zero);
    H5Tenum_insert(et, "click", &one);
    const uint8_t tv[2] = {0, 1};
    put(g, "event_type", et, et, 2, tv, 0);
    H5Tclose(et);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("badenum.h5", "enum member 'click' is not an event type of format v1");

    /* /customers without user_id */
    f = new_file("cust_nouid.h5");
    g = new_group(f, "customers");
    const uint8_t gender[3] = {0, 1, 2};
    put(g, "gender", H5T_STD_U8LE, H5T_NATIVE_UINT8, 3, gender, 0);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("cust_nouid.h5", "/customers has no user_id dataset");
}

static void test_profile_only_and_empty(void **state)
{
    (void)state;
    make_profiles("profiles.h5");
    const uint64_t uid[7] = {1, 2, 3, 4, 5, 6, 7};
    cs_file_info info;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_scan(tpath("profiles.h5"), &info, &err), CS_OK);
    assert_int_equal(info.has_events, 0);
    assert_int_equal(info.has_customers, 1);
    assert_int_equal(info.customer_rows, 50);
    assert_int_equal(info.rows, 0);
    assert_int_equal(info.present[COL_TS], 0);

    /* events of zero rows and a profile table in one file */
    hid_t f = new_file("empty.h5");
    hid_t g = new_group(f, "events");
    put_required(g, 0, -1);
    H5Gclose(g);
    g = new_group(f, "customers");
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, 7, uid, 0);
    H5Gclose(g);
    H5Fclose(f);
    assert_int_equal(archive_scan(tpath("empty.h5"), &info, &err), CS_OK);
    assert_int_equal(info.has_events, 1);
    assert_int_equal(info.has_customers, 1);
    assert_int_equal(info.rows, 0);
    assert_int_equal(info.customer_rows, 7);
    assert_int_equal(info.present[COL_TS], 1);
    assert_int_equal(info.ts_first, 0);
    assert_int_equal(info.ts_last, 0);
}

/* An events file of 4 rows with the given string attributes (NULL value:
 * not written) and, when version >= 0, an int64 `version`. */
static void attrs_file(const char *name, const char *format, const char *ts_unit,
                       const char *currency, int64_t version)
{
    hid_t f = new_file(name);
    hid_t g = new_group(f, "events");
    put_required(g, 4, -1);
    if (format)
        h5_attr_string(g, "format", format, NULL);
    if (ts_unit)
        h5_attr_string(g, "ts_unit", ts_unit, NULL);
    if (currency)
        h5_attr_string(g, "currency", currency, NULL);
    if (version >= 0)
        h5_attr_int64(g, "version", version, NULL);
    H5Gclose(g);
    H5Fclose(f);
}

/* The currency a file scans with; fails the test when it is refused. */
static const char *scan_currency(const char *name, cs_file_info *info)
{
    cs_err err;
    cs_err_clear(&err);
    if (archive_scan(tpath(name), info, &err) != CS_OK)
        fail_msg("%s: %s", name, err.msg);
    return info->currency;
}

/* Attributes that would change what v1's values mean are refused; their
 * harmless spellings and a foreign writer's own attributes are not. */
static void test_attrs(void **state)
{
    (void)state;
    cs_file_info info;
    attrs_file("ms.h5", "clickseg-archive", "milliseconds since 1970-01-01T00:00:00Z", "EUR", 1);
    expect_scan_error("ms.h5", "attribute /events/ts_unit is \"milliseconds since "
                      "1970-01-01T00:00:00Z\", but format v1 stores ts in microseconds");
    attrs_file("ns.h5", NULL, "ns", NULL, -1);
    expect_scan_error("ns.h5", "ts_unit is \"ns\"");
    attrs_file("v2.h5", "clickseg-archive", NULL, NULL, 2);
    expect_scan_error("v2.h5", "/events says archive format version 2; this clickseg reads "
                      "version 1");
    /* an unsigned version past INT64_MAX is quoted as the file says it */
    hid_t f = new_file("vmax.h5");
    hid_t g = new_group(f, "events");
    put_required(g, 4, -1);
    h5_attr_string(g, "format", "clickseg-archive", NULL);
    unsigned long long vmax = UINT64_MAX;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, "version", H5T_STD_U64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_ULLONG, &vmax);
    H5Aclose(a);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
    expect_scan_error("vmax.h5", "/events says archive format version 18446744073709551615; "
                      "this clickseg reads version 1");
    attrs_file("euro.h5", NULL, NULL, "euro", -1);
    expect_scan_error("euro.h5", "attribute /events/currency is \"euro\"; expected an ISO "
                      "4217 code");
    attrs_file("eur.h5", NULL, NULL, "eur", -1);
    expect_scan_error("eur.h5", "currency is \"eur\"");

    /* accepted */
    attrs_file("us.h5", "clickseg-archive", "us", "USD", 1);
    assert_string_equal(scan_currency("us.h5", &info), "USD");
    attrs_file("usec.h5", NULL, "Microseconds since epoch", "unknown", -1);
    assert_string_equal(scan_currency("usec.h5", &info), "");
    attrs_file("epoch.h5", NULL, "microseconds since 2000-01-01", NULL, -1);
    expect_scan_error("epoch.h5", "ts_unit is \"microseconds since 2000-01-01\"");
    attrs_file("mu.h5", NULL, " \xce\xbcs ", NULL, -1);   /* Greek mu, spaces around */
    assert_string_equal(scan_currency("mu.h5", &info), "");
    attrs_file("foreign.h5", "my-logger", NULL, NULL, 7);   /* its own version */
    assert_string_equal(scan_currency("foreign.h5", &info), "");
    attrs_file("noformat.h5", NULL, NULL, "JPY", 9);
    assert_string_equal(scan_currency("noformat.h5", &info), "JPY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_not_archive),
        cmocka_unit_test(test_reject_missing_required),
        cmocka_unit_test(test_reject_shapes_and_types),
        cmocka_unit_test(test_profile_only_and_empty),
        cmocka_unit_test(test_attrs),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
