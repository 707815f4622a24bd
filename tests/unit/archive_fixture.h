/* archive_fixture.h — what test_archive.c, test_archive_scan.c and
 * test_archive_view.c share: a scratch directory for the group, and small
 * HDF5 files written with the plain HDF5 API (default sec2 driver, no
 * MPI). Test code only (static inline: each test program uses what it
 * needs). */
#ifndef CLICKSEG_TEST_ARCHIVE_FIXTURE_H
#define CLICKSEG_TEST_ARCHIVE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickseg/archive.h"
#include "clickseg/event.h"
#include "clickseg/features.h"
#include "clickseg/h5util.h"

static char g_dir[64];

static inline int group_setup(void **state)
{
    (void)state;
    h5_silence();
    snprintf(g_dir, sizeof g_dir, "/tmp/cs_test_archive_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static inline int group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    return rmdir(g_dir);
}

/* Path of a file in the test directory (one static buffer per slot). */
static inline const char *tpath(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

static inline hid_t new_file(const char *name)
{
    hid_t f = H5Fcreate(tpath(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}

static inline hid_t new_group(hid_t f, const char *name)
{
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(g >= 0);
    return g;
}

/* A 1-D dataset of n values stored as ftype, written from memory type mtype;
 * chunked (with deflate when available) when chunk > 0. */
static inline void put(hid_t g, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                const void *data, hsize_t chunk)
{
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk) {
        assert_true(H5Pset_chunk(p, 1, &chunk) >= 0);
        if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0)
            assert_true(H5Pset_deflate(p, 4) >= 0);
    }
    hid_t d = H5Dcreate2(g, name, ftype, s, H5P_DEFAULT, p, H5P_DEFAULT);
    assert_true(d >= 0);
    if (n)
        assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Pclose(p);
    H5Sclose(s);
}

/* Minimal valid /events (ts int64, user_id uint64, event_type uint8) of n
 * rows; the caller adds columns or leaves one out. */
static inline void put_required(hid_t g, hsize_t n, int skip_col)
{
    int64_t ts[16];
    uint64_t uid[16];
    uint8_t type[16];
    assert_true(n <= 16);
    for (hsize_t i = 0; i < n; i++) {
        ts[i] = 1000 * (int64_t)i;
        uid[i] = i + 1;
        type[i] = (uint8_t)(i % 8);
    }
    if (skip_col != COL_TS)
        put(g, "ts", H5T_STD_I64LE, H5T_NATIVE_INT64, n, ts, 0);
    if (skip_col != COL_USER_ID)
        put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, n, uid, 0);
    if (skip_col != COL_EVENT_TYPE)
        put(g, "event_type", H5T_STD_U8LE, H5T_NATIVE_UINT8, n, type, 0);
}

static inline void assert_has(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("message \"%s\" lacks \"%s\"", msg, part);
}

/* archive_scan must fail with CS_EINPUT and a message naming the file and
 * containing `part`. */
static inline void expect_scan_error(const char *name, const char *part)
{
    cs_file_info info;
    cs_err err;
    cs_err_clear(&err);
    const char *p = tpath(name);
    int rc = archive_scan(p, &info, &err);
    if (rc != CS_EINPUT)
        fail_msg("%s: archive_scan returned %d, want CS_EINPUT (msg \"%s\")", name, rc, err.msg);
    assert_int_equal(err.code, CS_EINPUT);
    assert_has(err.msg, p);
    assert_has(err.msg, part);
}

/* A profile-only file: /customers with 50 users and a gender column. */
static inline void make_profiles(const char *name)
{
    hid_t f = new_file(name);
    hid_t g = new_group(f, "customers");
    uint64_t uid[50];
    uint8_t gender[50];
    for (int i = 0; i < 50; i++) {
        uid[i] = 1000 + (uint64_t)i;
        gender[i] = (uint8_t)(i % 4);
    }
    put(g, "user_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, 50, uid, 0);
    put(g, "gender", H5T_STD_U8LE, H5T_NATIVE_UINT8, 50, gender, 0);
    H5Gclose(g);
    H5Fclose(f);
}

#endif
