/* test_profiles.c — profiles_load under several ranks (ctest runs it with
 * mpirun at 1, 2 and 3 ranks). Rank 0 writes the tables with the plain
 * HDF5 API; every rank then works out what its users should hold by
 * reading the whole table itself, row by row in order, and checks that
 * against what the ranks' turns and the exchange gave:
 * - 1,100,000 rows (several rounds at every rank count) in which users
 *   come back with other values, ids of users without events among them:
 *   each user has its last row's values, and the conflicts summed over the
 *   ranks equal a sequential count; a second table's rows win over the
 *   first's;
 * - a value of 300 in the last rank's block of the last round, which only
 *   that rank reads: every rank returns CS_EINPUT with that rank's message
 *   naming the row, and a later collective still meets;
 * - a missing file, and a table with another column set than the first:
 *   an error on every rank;
 * - the values checked before the job (profiles_check, each rank a slice):
 *   with bad values in several columns and rows, including a negative id
 *   of a signed user_id column, every rank count names the table's first
 *   bad row (on a tie, the first column), as the load does; a range
 *   check names the first bad row of its range, or none; a range past
 *   the table's end, and a column that is no longer integers, are
 *   refused.
 * Every rank runs every test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <mpi.h>

#include "clickseg/comm.h"
#include "clickseg/event.h"
#include "clickseg/profiles.h"

static cs_comm g_comm;   /* MPI_COMM_WORLD, set once in main */

#define USERS 50000      /* ids 1..USERS; those divisible by 7 have no events */
#define NCOLS 2

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* A file of this rank count's run (ctest runs the three at once). */
static void tmp_path(char *path, size_t size, const char *name)
{
    snprintf(path, size, "np%d_%s", g_comm.size, name);
}

static void write_col(hid_t g, const char *name, hid_t t, const void *v, hsize_t n)
{
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

/* Rank 0 writes /customers with columns `names` (user ids from seed,
 * values 0..9, except value `bad` at row `bad_row` of the last column
 * when bad_row < n); every rank waits for the file. */
static void make_table(const char *path, uint64_t n, uint64_t seed, const char *const *names,
                       int ncols, uint64_t bad_row)
{
    if (g_comm.rank == 0) {
        uint64_t *ids = malloc(n * sizeof *ids);
        int16_t *v = malloc(n * sizeof *v);
        assert_non_null(ids);
        assert_non_null(v);
        uint64_t s = seed;
        for (uint64_t i = 0; i < n; i++)   /* a few ids past USERS: never users */
            ids[i] = 1 + rng_next(&s) % (USERS + USERS / 50);
        hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t g = H5Gcreate2(f, "customers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        write_col(g, "user_id", H5T_NATIVE_UINT64, ids, n);
        for (int k = 0; k < ncols; k++) {
            for (uint64_t i = 0; i < n; i++)
                v[i] = (int16_t)(rng_next(&s) % 10);
            if (k == ncols - 1 && bad_row < n)
                v[bad_row] = 300;
            write_col(g, names[k], H5T_NATIVE_INT16, v, n);
        }
        H5Gclose(g);
        H5Fclose(f);
        free(ids);
        free(v);
    }
    MPI_Barrier(g_comm.comm);
}

/* Removes the test's files once every rank is done with them. */
static void remove_files(const char *a, const char *b)
{
    MPI_Barrier(g_comm.comm);
    if (g_comm.rank == 0) {
        remove(a);
        if (b)
            remove(b);
    }
}

/* This rank's users: ids 1..USERS it owns, but for every seventh. */
static void make_users(cs_users *u)
{
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(users_init(u, USERS, 1, &err), CS_OK);
    for (uint64_t id = 1; id <= USERS; id++)
        if (id % 7 && cs_owner(id, g_comm.size) == g_comm.rank)
            assert_non_null(users_get(u, id, &err));
    assert_int_equal(users_rank_alloc(u, &err), CS_OK);
}

/* The independent computation: the table read whole, row by row, onto
 * want[id * NCOLS + k] (255 = unknown), counting the changes of a known
 * value of users with events on any rank. */
static int64_t sequential(const char *path, const char *const *names, uint8_t *want)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "customers/user_id", H5P_DEFAULT), sp = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    uint64_t *ids = malloc(n * sizeof *ids);
    int16_t *v = malloc(n * NCOLS * sizeof *v);
    assert_non_null(ids);
    assert_non_null(v);
    H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids);
    H5Sclose(sp);
    H5Dclose(d);
    for (int k = 0; k < NCOLS; k++) {
        char name[64];
        snprintf(name, sizeof name, "customers/%s", names[k]);
        d = H5Dopen2(f, name, H5P_DEFAULT);
        H5Dread(d, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, v + (size_t)k * n);
        H5Dclose(d);
    }
    H5Fclose(f);
    int64_t conflicts = 0;
    for (hsize_t i = 0; i < n; i++) {
        if (ids[i] > USERS || ids[i] % 7 == 0)
            continue;
        for (int k = 0; k < NCOLS; k++) {
            uint8_t *w = &want[ids[i] * NCOLS + (uint64_t)k], x = (uint8_t)v[(size_t)k * n + i];
            conflicts += *w != CS_PROFILE_UNKNOWN && *w != x;
            *w = x;
        }
    }
    free(ids);
    free(v);
    return conflicts;
}

static void test_order_and_conflicts(void **state)
{
    (void)state;
    static const char *const names[NCOLS] = {"age_band", "region"};
    char a[64], b[64];
    tmp_path(a, sizeof a, "prof_a.h5");
    tmp_path(b, sizeof b, "prof_b.h5");
    make_table(a, 1100000, 3, names, NCOLS, UINT64_MAX);
    make_table(b, 300000, 4, names, NCOLS, UINT64_MAX);
    cs_users u;
    make_users(&u);
    cs_ranking *r = calloc(1, sizeof *r);
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(profiles_load(&g_comm, a, &u, r, &err), CS_OK);
    assert_int_equal(profiles_load(&g_comm, b, &u, r, &err), CS_OK);
    assert_int_equal(r->nprofile_cols, NCOLS);
    int64_t conflicts = r->profile_conflicts;
    assert_int_equal(comm_sum_i64(&g_comm, &conflicts, 1, 1, &err), CS_OK);

    uint8_t *want = malloc((USERS + 1) * NCOLS);
    assert_non_null(want);
    memset(want, CS_PROFILE_UNKNOWN, (USERS + 1) * NCOLS);
    int64_t expect = sequential(a, names, want);
    expect += sequential(b, names, want);
    assert_true(expect > 100000);
    assert_int_equal(conflicts, expect);
    uint64_t mine = 0;
    for (uint64_t id = 1; id <= USERS; id++) {
        cs_user *x = users_find(&u, id);
        if (id % 7 == 0 || cs_owner(id, g_comm.size) != g_comm.rank) {
            assert_null(x);
            continue;
        }
        assert_non_null(x);
        mine++;
        assert_memory_equal(u.rank[x - u.slot].profile, &want[id * NCOLS], NCOLS);
    }
    assert_true(mine > 0);
    remove_files(a, b);
    free(want);
    free(r);
    users_free(&u);
}

static void test_bad_value_agreed(void **state)
{
    (void)state;
    static const char *const names[NCOLS] = {"age_band", "region"};
    /* 262,144 rows a block: the last round's last block is the last
     * rank's; its first row holds the bad value. */
    uint64_t B = 262144, per_round = B * (uint64_t)g_comm.size;
    uint64_t bad = per_round + (uint64_t)(g_comm.size - 1) * B, n = bad + 1000;
    char path[64];
    tmp_path(path, sizeof path, "prof_bad.h5");
    make_table(path, n, 5, names, NCOLS, bad);
    cs_users u;
    make_users(&u);
    cs_ranking *r = calloc(1, sizeof *r);
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(profiles_load(&g_comm, path, &u, r, &err), CS_EINPUT);
    char want[160];
    snprintf(want, sizeof want, "%s: /customers/region row %llu: value 300 outside 0..254", path,
             (unsigned long long)bad);
    assert_non_null(strstr(err.msg, want));
    if (g_comm.size > 1) {
        snprintf(want, sizeof want, "rank %d: ", g_comm.size - 1);
        assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
    }
    cs_err_clear(&err);
    assert_int_equal(comm_agree(&g_comm, &err), CS_OK);   /* nobody left behind */
    remove_files(path, NULL);
    free(r);
    users_free(&u);
}

static void test_unusable_tables(void **state)
{
    (void)state;
    static const char *const names[NCOLS] = {"age_band", "region"};
    static const char *const other[1] = {"gender"};
    char c[64], o[64];
    tmp_path(c, sizeof c, "prof_c.h5");
    tmp_path(o, sizeof o, "prof_other.h5");
    make_table(c, 1000, 6, names, NCOLS, UINT64_MAX);
    make_table(o, 1000, 7, other, 1, UINT64_MAX);
    cs_users u;
    make_users(&u);
    cs_ranking *r = calloc(1, sizeof *r);
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(profiles_load(&g_comm, "no_such_profiles.h5", &u, r, &err), CS_EINPUT);
    assert_non_null(strstr(err.msg, "no_such_profiles.h5: cannot open /customers"));
    cs_err_clear(&err);
    memset(r, 0, sizeof *r);
    assert_int_equal(profiles_load(&g_comm, c, &u, r, &err), CS_OK);
    assert_int_equal(profiles_load(&g_comm, o, &u, r, &err), CS_EINPUT);
    assert_non_null(strstr(err.msg, "profile tables must share their columns"));
    cs_err_clear(&err);
    assert_int_equal(comm_agree(&g_comm, &err), CS_OK);
    remove_files(c, o);
    free(r);
    users_free(&u);
}

/* Rank 0 writes a table of n rows with a signed user_id and the columns
 * age_band and region, and sets the bad cells listed in main's test. */
static void make_signed_table(const char *path, uint64_t n)
{
    if (g_comm.rank == 0) {
        int64_t *ids = malloc(n * sizeof *ids);
        int16_t *age = malloc(n * sizeof *age), *region = malloc(n * sizeof *region);
        assert_non_null(ids);
        assert_non_null(age);
        assert_non_null(region);
        for (uint64_t i = 0; i < n; i++) {
            ids[i] = (int64_t)(1 + i % USERS);
            age[i] = (int16_t)(i % 9);
            region[i] = (int16_t)(254 - i % 5);   /* 254 is a value, 255 is not */
        }
        region[600000] = 400;
        age[600000] = 255;     /* the same row: the first column is named */
        age[650000] = -1;
        ids[820000] = -5;
        hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t g = H5Gcreate2(f, "customers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        write_col(g, "user_id", H5T_NATIVE_INT64, ids, n);
        write_col(g, "age_band", H5T_NATIVE_INT16, age, n);
        write_col(g, "region", H5T_NATIVE_INT16, region, n);
        H5Gclose(g);
        H5Fclose(f);
        free(ids);
        free(age);
        free(region);
    }
    MPI_Barrier(g_comm.comm);
}

/* err's message, less the agreement's "rank N: " prefix. */
static const char *msg_of(const cs_err *err)
{
    const char *p = err->msg;
    if (strncmp(p, "rank ", 5) == 0 && strstr(p, ": "))
        p = strstr(p, ": ") + 2;
    return p;
}

static void test_check_names_first_bad_row(void **state)
{
    (void)state;
    const uint64_t n = 900000;
    char path[64], want[200];
    tmp_path(path, sizeof path, "prof_check.h5");
    make_signed_table(path, n);
    cs_err err;
    cs_err_clear(&err);
    uint64_t rows = 0;
    assert_int_equal(profiles_scan(path, &rows, &err), CS_OK);
    assert_int_equal(rows, n);

    snprintf(want, sizeof want, "%s: /customers/age_band row 600000: value 255 outside 0..254 "
             "(profile columns are small category codes)", path);
    assert_int_equal(profiles_check(&g_comm, path, n, &err), CS_EINPUT);
    assert_string_equal(msg_of(&err), want);
    cs_err_clear(&err);
    assert_int_equal(comm_agree(&g_comm, &err), CS_OK);   /* nobody left behind */

    cs_users u;
    make_users(&u);
    cs_ranking *r = calloc(1, sizeof *r);
    assert_int_equal(profiles_load(&g_comm, path, &u, r, &err), CS_EINPUT);
    assert_string_equal(msg_of(&err), want);
    cs_err_clear(&err);

    /* Ranges, on each rank alone. */
    assert_int_equal(profiles_check_rows(path, 0, 600000, &err), CS_OK);
    assert_int_equal(profiles_check_rows(path, 600001, n, &err), CS_EINPUT);
    snprintf(want, sizeof want, "%s: /customers/age_band row 650000: value -1 outside 0..254 "
             "(profile columns are small category codes)", path);
    assert_string_equal(err.msg, want);
    cs_err_clear(&err);
    assert_int_equal(profiles_check_rows(path, 650001, n, &err), CS_EINPUT);
    snprintf(want, sizeof want, "%s: /customers/user_id row 820000: value -5 is not a user id "
             "(negative)", path);
    assert_string_equal(err.msg, want);
    cs_err_clear(&err);
    assert_int_equal(profiles_check_rows(path, 820001, n, &err), CS_OK);
    assert_int_equal(profiles_check_rows(path, 0, n + 1, &err), CS_EINPUT);
    assert_non_null(strstr(err.msg, "/customers has 900000 rows, fewer than when the archive "
                           "was scanned (900001)"));
    cs_err_clear(&err);
    assert_int_equal(comm_agree(&g_comm, &err), CS_OK);

    /* A column that is no longer integers (the table replaced after the
     * scan): refused, not read through a conversion. */
    char fpath[64];
    tmp_path(fpath, sizeof fpath, "prof_float.h5");
    if (g_comm.rank == 0) {
        uint64_t ids[10];
        float score[10];
        for (int i = 0; i < 10; i++) {
            ids[i] = (uint64_t)i + 1;
            score[i] = 1.5f;
        }
        hid_t f = H5Fcreate(fpath, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t g = H5Gcreate2(f, "customers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        write_col(g, "user_id", H5T_NATIVE_UINT64, ids, 10);
        write_col(g, "score", H5T_NATIVE_FLOAT, score, 10);
        H5Gclose(g);
        H5Fclose(f);
    }
    MPI_Barrier(g_comm.comm);
    assert_int_equal(profiles_check_rows(fpath, 0, 10, &err), CS_EINPUT);
    assert_non_null(strstr(err.msg, "/customers/score has type"));
    cs_err_clear(&err);
    remove_files(path, fpath);
    free(r);
    users_free(&u);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    comm_world(&g_comm);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* the missing file is expected */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_conflicts),
        cmocka_unit_test(test_bad_value_agreed),
        cmocka_unit_test(test_unusable_tables),
        cmocka_unit_test(test_check_names_first_bad_row),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return failed;
}
