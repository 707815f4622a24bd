/* test_archive_view.c — unit tests for archive_view_range, the zero-copy
 * read of stored chunks (archive.c, chunkread.c), on small HDF5 files
 * written here with the plain HDF5 API: the segments of any row range
 * (whole file, crossing chunks, one row, the partial last chunk, numbered
 * from any window row) hold exactly the rows archive_read_range reads,
 * one segment per chunk, unwanted columns NULL; an event_type enum
 * numbered as v1 is read raw (a non-member byte is rejected later like
 * any bad type); a chunk whose Fletcher32 fails is an error naming file,
 * dataset and rows, and leaves the segment list as it was; a wanted column
 * that is missing, needs a conversion or has other chunks falls back;
 * views released (archive_release_views) can be taken again; chunks that
 * HDF5 placed off their type's alignment (every other Fletcher32 chunk of
 * an 8-byte column: the checksum's 4 bytes follow each chunk) are read in
 * place through the segment's pointers as classify and pack read them
 * (the sanitizer build checks every load); archive_willneed brings the
 * chunks of the rows and columns it names into the page cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clickseg/archive.h"
#include "clickseg/h5util.h"

#include "archive_fixture.h"

#define N 1000   /* rows */
#define R 64     /* rows a chunk: the last one holds 1000 - 15 * 64 = 40 */

/* Value of column c at row i (every column distinct, types' full ranges). */
static uint64_t val(int c, uint64_t i)
{
    switch (c) {
    case COL_TS: return 1700000000000000ULL + i * 1000;
    case COL_USER_ID: return (i * 0x9e3779b97f4a7c15ULL) | 1ULL << 63;
    case COL_EVENT_TYPE: return i % 97 == 5 ? 9 : i % 8;   /* 9: not a member */
    case COL_PRODUCT_ID: return i << 33;
    case COL_CATEGORY_ID: return 4000000000u - (uint32_t)i;
    case COL_BRAND_ID: return (uint32_t)i * 7;
    case COL_PRICE: return (uint64_t)(int64_t)(i % 3 == 0 ? -(int64_t)i : (int64_t)i * 100);
    default: return ~i;
    }
}

static size_t width(int c)
{
    return c == COL_EVENT_TYPE ? 1 : c == COL_CATEGORY_ID || c == COL_BRAND_ID ? 4 : 8;
}

/* Writes /events with n rows, every column chunked r rows, Fletcher32
 * on; the event_type as the v1 enum. `int64_cat`: category_id stored as
 * int64 (a conversion); `skip`: a column left out (-1 none). */
static void make_file_sized(const char *path, uint64_t n, uint64_t r, int int64_cat, int skip)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "events", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {n}, chunk[1] = {r};
    hid_t fs = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    H5Pset_fletcher32(dcpl);
    hid_t et = h5_event_enum_type();
    uint8_t *buf = malloc(n * 8);
    assert_non_null(buf);
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        if (c == skip)
            continue;
        size_t w = c == COL_CATEGORY_ID && int64_cat ? 8 : width(c);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t v = val(c, i);
            memcpy(buf + i * w, &v, w);   /* little-endian: the low bytes */
        }
        hid_t t = c == COL_EVENT_TYPE ? et
                  : c == COL_TS || c == COL_PRICE || (c == COL_CATEGORY_ID && int64_cat)
                      ? H5T_NATIVE_INT64
                  : w == 4 ? H5T_NATIVE_UINT32 : H5T_NATIVE_UINT64;
        hid_t d = H5Dcreate2(g, archive_column_name(c), t, fs, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        assert_true(d >= 0);
        assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        H5Dclose(d);
    }
    free(buf);
    H5Tclose(et);
    H5Pclose(dcpl);
    H5Sclose(fs);
    H5Gclose(g);
    H5Fclose(f);
}

static void make_file(const char *path, int int64_cat, int skip)
{
    make_file_sized(path, N, R, int64_cat, skip);
}

static const unsigned NARROW = 1u << COL_TS | 1u << COL_USER_ID | 1u << COL_EVENT_TYPE |
                               1u << COL_PRICE;
static const unsigned ALL = (1u << COL_NCOLUMNS) - 1;

static const void *colp(const cs_colview *c, int col)
{
    const void *p[COL_NCOLUMNS] = {c->ts, c->user_id, c->event_type, c->product_id,
                                   c->category_id, c->brand_id, c->price, c->session_id};
    return p[col];
}

/* Views rows [start, start + n) numbered from row0 and checks them against
 * the generating values: segments cover the rows in order, one chunk at
 * most each, and hold exactly the wanted columns. */
static void check_view(cs_archive_reader *r, uint64_t start, uint64_t n, unsigned want,
                       uint64_t row0)
{
    cs_colsegs segs = {0};
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_view_range(r, start, n, want, row0, &segs, &err), CS_OK);
    uint64_t at = row0;
    for (uint64_t g = 0; g < segs.n; g++) {
        const cs_colseg *s = &segs.v[g];
        assert_int_equal(s->row0, at);
        assert_true(s->n >= 1 && s->n <= R);
        uint64_t first = start + (s->row0 - row0);
        assert_int_equal(first / R, (first + s->n - 1) / R);   /* within one chunk */
        for (int c = 0; c < COL_NCOLUMNS; c++) {
            const uint8_t *p = colp(&s->c, c);
            if (!(want >> c & 1)) {
                assert_null(p);
                continue;
            }
            assert_non_null(p);
            for (uint64_t i = 0; i < s->n; i++) {
                uint64_t v = 0, want_v = val(c, first + i);
                memcpy(&v, p + i * width(c), width(c));
                if (width(c) < 8)
                    want_v &= (1ULL << (8 * width(c))) - 1;
                if (v != want_v)
                    fail_msg("column %s row %llu: %llu, want %llu", archive_column_name(c),
                             (unsigned long long)(first + i), (unsigned long long)v,
                             (unsigned long long)want_v);
            }
        }
        at += s->n;
    }
    assert_int_equal(at - row0, n);
    free(segs.v);
}

static void test_view_ranges(void **state)
{
    (void)state;
    const char *p = tpath("view.h5");
    make_file(p, 0, -1);
    cs_archive_reader *r = NULL;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_reader_open(p, &r, &err), CS_OK);
    for (int k = 0; k < 2; k++) {
        unsigned want = k ? ALL : NARROW;
        check_view(r, 0, N, want, 0);            /* everything */
        check_view(r, 0, R, want, 5);            /* one chunk, numbered from 5 */
        check_view(r, R - 3, R + 10, want, 0);   /* parts of three */
        check_view(r, 130, 1, want, 77);         /* one row */
        check_view(r, N - 40, 40, want, 0);      /* the partial last chunk */
        check_view(r, N - 1, 1, want, 0);        /* the last row */
        check_view(r, 0, 0, want, 0);            /* nothing */
    }
    /* The same bytes archive_read_range gives, the non-member event type
     * read raw (9, rejected later as any type past 7). */
    uint8_t type[N];
    cs_columns c = {.event_type = type};
    assert_int_equal(archive_read_range(r, 0, N, &c, &err), CS_OK);
    for (uint64_t i = 0; i < N; i++)
        assert_int_equal(type[i], val(COL_EVENT_TYPE, i));
    /* Released views can be taken again. */
    archive_release_views(r);
    check_view(r, 100, 300, ALL, 0);
    archive_reader_close(r);
}

static void test_view_fallback(void **state)
{
    (void)state;
    const char *p = tpath("conv.h5"), *q = tpath("nobrand.h5");
    make_file(p, 1, -1);
    make_file(q, 0, COL_BRAND_ID);
    cs_archive_reader *r = NULL, *s = NULL;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_reader_open(p, &r, &err), CS_OK);
    assert_int_equal(archive_reader_open(q, &s, &err), CS_OK);
    cs_colsegs segs = {0};
    assert_int_equal(archive_view_range(r, 0, 10, NARROW, 0, &segs, &err), CS_OK);
    uint64_t had = segs.n;
    assert_int_equal(archive_view_range(r, 0, 10, ALL, 10, &segs, &err), ARCHIVE_VIEW_FALLBACK);
    assert_int_equal(archive_view_range(s, 0, 10, ALL, 10, &segs, &err), ARCHIVE_VIEW_FALLBACK);
    assert_int_equal(segs.n, had);
    check_view(s, 0, N, NARROW, 0);   /* the absent column is not wanted */
    /* past the end of the file's rows: read (and refused) the usual way */
    assert_int_equal(archive_view_range(s, N - 5, 10, NARROW, 0, &segs, &err),
                     ARCHIVE_VIEW_FALLBACK);
    free(segs.v);
    archive_reader_close(r);
    archive_reader_close(s);
}

/* Flips one byte of chunk k of dataset name, in place in the file. */
static void flip(const char *path, const char *name, uint64_t k)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hsize_t off[1] = {k * R}, size = 0;
    haddr_t addr = 0;
    unsigned mask = 0;
    assert_true(H5Dget_chunk_info_by_coord(d, off, &mask, &addr, &size) >= 0);
    H5Dclose(d);
    H5Fclose(f);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b = 0;
    assert_int_equal(pread(fd, &b, 1, (off_t)addr + 9), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)addr + 9), 1);
    close(fd);
}

static void test_view_bad_checksum(void **state)
{
    (void)state;
    const char *p = tpath("bad.h5");
    make_file(p, 0, -1);
    flip(p, "/events/user_id", 2);
    cs_archive_reader *r = NULL;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_reader_open(p, &r, &err), CS_OK);
    cs_colsegs segs = {0};
    assert_int_equal(archive_view_range(r, 0, 2 * R, NARROW, 0, &segs, &err), CS_OK);
    assert_int_equal(segs.n, 2);
    assert_int_equal(archive_view_range(r, R, 3 * R, NARROW, 2 * R, &segs, &err), CS_EINPUT);
    assert_int_equal(segs.n, 2);
    assert_non_null(strstr(err.msg, p));
    assert_non_null(strstr(err.msg, "cannot read dataset /events/user_id rows 128..191: data "
                                    "error detected by Fletcher32 checksum"));
    /* the last chunk, stored whole, names only the rows it holds */
    flip(p, "/events/ts", (N - 1) / R);
    archive_reader_close(r);
    assert_int_equal(archive_reader_open(p, &r, &err), CS_OK);
    assert_int_equal(archive_view_range(r, N - 50, 50, 1u << COL_TS, 0, &segs, &err), CS_EINPUT);
    assert_non_null(strstr(err.msg, "cannot read dataset /events/ts rows 960..999: data error"));
    /* a column not wanted is not checked */
    cs_err_clear(&err);
    assert_int_equal(archive_view_range(r, R, 3 * R, 1u << COL_TS, 0, &segs, &err), CS_OK);
    free(segs.v);
    archive_reader_close(r);
}

/* Rows of chunks HDF5 stored off their type's alignment, read through the
 * segment's own pointers, as classify and pack read them: element types of
 * alignment 1, so those loads are defined (UBSan checks each in the
 * sanitizer build) and no compiler may assume an aligned address. */
static void test_view_misaligned(void **state)
{
    (void)state;
    assert_int_equal(_Alignof(cs_i64u), 1);
    assert_int_equal(_Alignof(cs_u64u), 1);
    assert_int_equal(_Alignof(cs_u32u), 1);
    const char *p = tpath("misaligned.h5");
    make_file(p, 0, -1);
    cs_archive_reader *r = NULL;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_reader_open(p, &r, &err), CS_OK);
    cs_colsegs segs = {0};
    assert_int_equal(archive_view_range(r, 0, N, ALL, 0, &segs, &err), CS_OK);
    unsigned off8 = 0;
    for (uint64_t g = 0; g < segs.n; g++) {
        const cs_colview *c = &segs.v[g].c;
        off8 += ((uintptr_t)c->ts | (uintptr_t)c->user_id | (uintptr_t)c->price) % 8 != 0;
        for (uint64_t i = 0; i < segs.v[g].n; i++) {
            uint64_t row = g * R + i;
            assert_true(c->ts[i] == (int64_t)val(COL_TS, row));
            assert_true(c->user_id[i] == val(COL_USER_ID, row));
            assert_true(c->product_id[i] == val(COL_PRODUCT_ID, row));
            assert_true(c->category_id[i] == (uint32_t)val(COL_CATEGORY_ID, row));
            assert_true(c->brand_id[i] == (uint32_t)val(COL_BRAND_ID, row));
            assert_true(c->price[i] == (int64_t)val(COL_PRICE, row));
            assert_true(c->session_id[i] == val(COL_SESSION_ID, row));
        }
    }
    /* 64 rows and 4 checksum bytes a chunk: the test proves something only
     * when some chunk sits off an 8-byte boundary. */
    assert_true(off8 > 0);
    free(segs.v);
    archive_reader_close(r);
}

/* Pages of the file at map wholly inside [addr, addr + size) that are in
 * the page cache (mincore), and how many there are. */
static void resident(const uint8_t *map, uint64_t addr, uint64_t size, int *in, int *all)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint64_t a = (addr + (uint64_t)pg - 1) / (uint64_t)pg, b = (addr + size) / (uint64_t)pg;
    *in = *all = 0;
    for (uint64_t k = a; k < b; k++) {
        unsigned char v = 0;
        assert_int_equal(mincore((void *)(uintptr_t)(map + k * (uint64_t)pg), (size_t)pg, &v), 0);
        *in += v & 1;
        ++*all;
    }
}

/* The file address and stored size of chunk k of /events/<col>, from
 * HDF5 directly (not through the code under test). */
static void chunk_at(const char *path, int col, uint64_t k, uint64_t rows, uint64_t *addr,
                     uint64_t *size)
{
    char name[64];
    snprintf(name, sizeof name, "/events/%s", archive_column_name(col));
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hsize_t off[1] = {k * rows}, sz = 0;
    haddr_t a = HADDR_UNDEF;
    unsigned mask = 0;
    assert_true(H5Dget_chunk_info_by_coord(d, off, &mask, &a, &sz) >= 0);
    *addr = a;
    *size = sz;
    H5Dclose(d);
    H5Fclose(f);
}

/* archive_willneed starts reading the chunks of the rows and columns it is
 * given into the page cache: after the file is dropped from the cache,
 * chunks 5 and 6 of the four narrow columns (8 to 64 KiB each, far from
 * the metadata an open reads) are not resident; shortly after the
 * call every page of them is. Skipped where the file cannot be dropped
 * from the cache (tmpfs keeps every page). */
static void test_willneed(void **state)
{
    (void)state;
    enum { WN = 65536, WR = 8192 };   /* 8 chunks of 8192 rows */
    const char *p = tpath("willneed.h5");
    make_file_sized(p, WN, WR, 0, -1);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(fsync(fd), 0);
    assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    const uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(map != MAP_FAILED);
    uint64_t addr[COL_NCOLUMNS][2], size[COL_NCOLUMNS][2];
    int in = 0, all = 0, before = 0;
    for (int c = 0; c < COL_NCOLUMNS; c++)
        for (int k = 0; k < 2; k++)
            chunk_at(p, c, 5 + (uint64_t)k, WR, &addr[c][k], &size[c][k]);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);   /* chunk_at read metadata only */
    for (int c = 0; c < COL_NCOLUMNS; c++)
        for (int k = 0; k < 2; k++) {
            resident(map, addr[c][k], size[c][k], &in, &all);
            /* 8 to 64 KiB (+ 4 checksum bytes): whole pages in every one */
            assert_true(all >= 1 && (uint64_t)all + 1 >= size[c][k] / 4096);
            before += in;
        }
    if (before > 0) {
        munmap((void *)(uintptr_t)map, (size_t)st.st_size);
        close(fd);
        skip();   /* this file system keeps the pages: nothing to prove here */
    }
    cs_archive_reader *r = NULL;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(archive_reader_open(p, &r, &err), CS_OK);
    for (int c = 0; c < COL_NCOLUMNS; c++)
        for (int k = 0; k < 2; k++) {
            resident(map, addr[c][k], size[c][k], &in, &all);
            assert_int_equal(in, 0);   /* the open read no rows */
        }
    int missing = 1;
    for (int tries = 0; missing && tries < 500; tries++) {
        /* Again each time: pages the kernel reclaimed in between (memory
         * pressure) would otherwise never come back. */
        archive_willneed(r, 5 * WR + 100, WR, NARROW);   /* rows in chunks 5 and 6 */
        missing = 0;
        for (int c = 0; c < COL_NCOLUMNS; c++)
            for (int k = 0; k < 2; k++)
                if (NARROW >> c & 1) {
                    resident(map, addr[c][k], size[c][k], &in, &all);
                    missing += all - in;
                }
        if (missing)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    assert_int_equal(missing, 0);
    archive_reader_close(r);
    munmap((void *)(uintptr_t)map, (size_t)st.st_size);
    close(fd);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_ranges),
        cmocka_unit_test(test_view_fallback),
        cmocka_unit_test(test_view_bad_checksum),
        cmocka_unit_test(test_view_misaligned),
        cmocka_unit_test(test_willneed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
