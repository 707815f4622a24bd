/* test_chunkread.c — unit tests for chunkread.c on small HDF5 files written
 * here with the plain HDF5 API: cs_fletcher32 against the checksum HDF5
 * itself stored with each chunk (8-byte and odd-sized 1-byte chunks, all
 * 0xff bytes, random bytes) and against a word-by-word transcription of
 * HDF5's algorithm for every length up to 2000 bytes; row ranges read chunk
 * by chunk equal H5Dread's (whole chunks, parts, the partial last chunk,
 * one row, a range ending 1..3 bytes into a chunk); a chunk written with a
 * wrong checksum is an error naming file, dataset and rows; datasets it
 * cannot handle (deflate, a type that needs conversion, contiguous) are
 * left to H5Dread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/chunkread.h"
#include "clickseg/h5util.h"

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* HDF5 1.10's H5_checksum_fletcher32, transcribed word by word. */
static uint32_t reference_fletcher32(const uint8_t *data, size_t nbytes)
{
    size_t len = nbytes / 2;
    uint32_t sum1 = 0, sum2 = 0;
    while (len) {
        size_t tlen = len > 360 ? 360 : len;
        len -= tlen;
        do {
            sum1 += (uint32_t)(((uint16_t)data[0]) << 8) | ((uint16_t)data[1]);
            data += 2;
            sum2 += sum1;
        } while (--tlen);
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if (nbytes % 2) {
        sum1 += (uint32_t)(((uint16_t)*data) << 8);
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    return (sum2 << 16) | sum1;
}

static void test_fletcher_reference(void **state)
{
    (void)state;
    uint8_t buf[2048], ff[2048];
    uint64_t s = 7;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rng_next(&s);
    memset(ff, 0xff, sizeof ff);
    for (size_t n = 0; n <= 2000; n++) {
        assert_int_equal(cs_fletcher32(buf, n), reference_fletcher32(buf, n));
        assert_int_equal(cs_fletcher32(ff, n), reference_fletcher32(ff, n));
        assert_int_equal(cs_fletcher32(buf + 1, n), reference_fletcher32(buf + 1, n));
        assert_int_equal(cs_fletcher32_sse2(buf, n), reference_fletcher32(buf, n));
        assert_int_equal(cs_fletcher32_sse2(ff, n), reference_fletcher32(ff, n));
        assert_int_equal(cs_fletcher32_sse2(buf + 1, n), reference_fletcher32(buf + 1, n));
    }
}

/* Whole chunks: 2 MiB of random bytes, of 0xff bytes (s2 wraps past 2^32
 * in HDF5's blocks) and of runs of each, through both paths. */
static void test_fletcher_chunks(void **state)
{
    (void)state;
    size_t n = (size_t)2 << 20;
    uint8_t *b = malloc(n + 1);
    assert_non_null(b);
    uint64_t s = 11;
    for (int kind = 0; kind < 3; kind++) {
        for (size_t i = 0; i < n + 1; i++)
            b[i] = kind == 0 ? (uint8_t)rng_next(&s)
                 : kind == 1 ? 0xff
                             : (uint8_t)(i / 4099 % 2 ? 0xff : rng_next(&s));
        for (size_t len = n - 3; len <= n + 1; len++) {
            uint32_t want = reference_fletcher32(b, len);
            assert_int_equal(cs_fletcher32(b, len), want);
            assert_int_equal(cs_fletcher32_sse2(b, len), want);
        }
    }
    print_message("Fletcher32: AVX2 path %s\n",
                  cs_fletcher32_avx2_available() ? "used and checked" : "not on this CPU");
    free(b);
}

static char g_path[64];

/* A 1-D dataset `name` of n values of type t (chunk rows `chunk`, 0 =
 * contiguous; filter: 0 none, 1 Fletcher32, 2 deflate). */
static void make_dataset(hid_t f, const char *name, hid_t t, const void *v, hsize_t n,
                         hsize_t chunk, int filter)
{
    hsize_t dim[1] = {n};
    hid_t sp = H5Screate_simple(1, dim, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk) {
        hsize_t c[1] = {chunk};
        H5Pset_chunk(dcpl, 1, c);
    }
    if (filter == 1)
        H5Pset_fletcher32(dcpl);
    if (filter == 2)
        H5Pset_deflate(dcpl, 1);
    hid_t d = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

#define N64 3500   /* 1000-row chunks: three whole, one of 500 */
#define N8 2500    /* 999-row (odd-sized) chunks */

static int group_setup(void **state)
{
    (void)state;
    h5_silence();
    snprintf(g_path, sizeof g_path, "/tmp/cs_test_chunkread_%d.h5", (int)getpid());
    hid_t f = H5Fcreate(g_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return -1;
    static uint64_t v64[N64];
    static uint8_t v8[N8], ones[N8];
    static int32_t v32[N64];
    uint64_t s = 11;
    for (int i = 0; i < N64; i++) {
        v64[i] = rng_next(&s);
        v32[i] = (int32_t)i - 7;
    }
    for (int i = 0; i < N8; i++)
        v8[i] = (uint8_t)rng_next(&s);
    memset(ones, 0xff, sizeof ones);
    make_dataset(f, "u64", H5T_STD_U64LE, v64, N64, 1000, 1);
    make_dataset(f, "u8", H5T_STD_U8LE, v8, N8, 999, 1);
    make_dataset(f, "ff", H5T_STD_U8LE, ones, N8, 999, 1);
    make_dataset(f, "plain", H5T_STD_U64LE, v64, N64, 1000, 0);
    make_dataset(f, "deflate", H5T_STD_U64LE, v64, N64, 1000, 2);
    make_dataset(f, "i32", H5T_STD_I32LE, v32, N64, 1000, 1);
    make_dataset(f, "contig", H5T_STD_U64LE, v64, N64, 0, 0);
    make_dataset(f, "bad", H5T_STD_U64LE, v64, N64, 1000, 1);
    /* chunk 1 of "bad" rewritten raw with a checksum off by one */
    hid_t d = H5Dopen2(f, "bad", H5P_DEFAULT);
    uint8_t raw[1000 * 8 + 4];
    hsize_t off[1] = {1000};
    uint32_t mask = 0;
    H5Dread_chunk(d, H5P_DEFAULT, off, &mask, raw);
    raw[1000 * 8] ^= 1;
    H5Dwrite_chunk(d, H5P_DEFAULT, 0, off, sizeof raw, raw);
    H5Dclose(d);
    H5Fclose(f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(g_path);
    return 0;
}

/* The checksum HDF5 stored with each chunk equals ours. */
static void check_stored_sums(hid_t f, const char *name, size_t esize, hsize_t rows,
                              hsize_t chunk)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    uint8_t *raw = malloc(chunk * esize + 4);
    assert_non_null(raw);
    for (hsize_t k = 0; k * chunk < rows; k++) {
        hsize_t off[1] = {k * chunk};
        uint32_t mask = 0;
        assert_true(H5Dread_chunk(d, H5P_DEFAULT, off, &mask, raw) >= 0);
        const uint8_t *c = raw + chunk * esize;
        uint32_t stored = c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
        assert_int_equal(cs_fletcher32(raw, chunk * esize), stored);
    }
    free(raw);
    H5Dclose(d);
}

static void test_fletcher_matches_hdf5(void **state)
{
    (void)state;
    hid_t f = H5Fopen(g_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    check_stored_sums(f, "u64", 8, N64, 1000);
    check_stored_sums(f, "u8", 1, N8, 999);   /* 999 bytes: an odd length */
    check_stored_sums(f, "ff", 1, N8, 999);
    H5Fclose(f);
}

/* Rows [start, start + n) of d through H5Dread: the reference. */
static herr_t hdf5_read(hid_t d, hid_t mt, uint64_t start, uint64_t n, void *buf)
{
    hid_t fs = H5Dget_space(d);
    hsize_t st[1] = {start}, cnt[1] = {n};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    hid_t ms = H5Screate_simple(1, cnt, NULL);
    herr_t rc = H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

/* Reads [start, start + n) both ways and compares. */
static void check_range(hid_t d, cs_chunk_reader *cr, hid_t mt, size_t es, uint64_t start,
                        uint64_t n)
{
    uint8_t *got = malloc(n * es + 1), *want = malloc(n * es + 1);
    assert_non_null(got);
    assert_non_null(want);
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(chunkread_rows(cr, d, start, n, got, g_path, "/x", &err), CS_OK);
    assert_true(hdf5_read(d, mt, start, n, want) >= 0);
    assert_memory_equal(got, want, n * es);
    free(got);
    free(want);
}

static void test_ranges(void **state)
{
    (void)state;
    hid_t f = H5Fopen(g_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    const char *names[] = {"u64", "plain", "u8"};
    hid_t types[] = {H5T_NATIVE_UINT64, H5T_NATIVE_UINT64, H5T_NATIVE_UINT8};
    for (int k = 0; k < 3; k++) {
        hid_t d = H5Dopen2(f, names[k], H5P_DEFAULT);
        cs_chunk_reader cr;
        chunkread_open(&cr, d, types[k]);
        assert_int_equal(cr.usable, 1);
        assert_int_equal(cr.checksum, k != 1);
        size_t es = k == 2 ? 1 : 8;
        uint64_t rows = k == 2 ? N8 : N64, R = cr.chunk_rows;
        check_range(d, &cr, types[k], es, 0, rows);           /* everything */
        check_range(d, &cr, types[k], es, 0, R);              /* one whole chunk */
        check_range(d, &cr, types[k], es, R - 3, R + 10);     /* parts of two */
        check_range(d, &cr, types[k], es, R + 10, 20);        /* from the buffered chunk */
        check_range(d, &cr, types[k], es, rows - 1, 1);       /* the last row */
        check_range(d, &cr, types[k], es, rows - 7, 7);       /* the partial last chunk */
        for (uint64_t tail = 1; tail <= 4; tail++)            /* ends 1..4 rows into a chunk */
            check_range(d, &cr, types[k], es, 0, R + tail);
        chunkread_close(&cr);
        H5Dclose(d);
    }
    H5Fclose(f);
}

static void test_bad_checksum(void **state)
{
    (void)state;
    hid_t f = H5Fopen(g_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "bad", H5P_DEFAULT);
    cs_chunk_reader cr;
    chunkread_open(&cr, d, H5T_NATIVE_UINT64);
    uint64_t *buf = malloc(N64 * 8);
    assert_non_null(buf);
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(chunkread_rows(&cr, d, 0, 1000, buf, g_path, "/events/x", &err), CS_OK);
    assert_int_equal(chunkread_rows(&cr, d, 500, 2000, buf, g_path, "/events/x", &err),
                     CS_EINPUT);
    assert_non_null(strstr(err.msg, g_path));
    assert_non_null(strstr(err.msg, "cannot read dataset /events/x rows 1000..1999: data error "
                                    "detected by Fletcher32 checksum"));
    /* HDF5 agrees the chunk is bad */
    assert_true(hdf5_read(d, H5T_NATIVE_UINT64, 1500, 1, buf) < 0);
    free(buf);
    chunkread_close(&cr);
    H5Dclose(d);
    H5Fclose(f);
}

static void test_left_to_hdf5(void **state)
{
    (void)state;
    hid_t f = H5Fopen(g_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    const char *names[] = {"deflate", "i32", "contig"};
    for (int k = 0; k < 3; k++) {
        hid_t d = H5Dopen2(f, names[k], H5P_DEFAULT);
        cs_chunk_reader cr;
        chunkread_open(&cr, d, k == 1 ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64);
        assert_int_equal(cr.usable, 0);
        uint64_t v[4];
        cs_err err;
        cs_err_clear(&err);
        assert_int_equal(chunkread_rows(&cr, d, 0, 4, v, g_path, "/x", &err),
                         CHUNKREAD_FALLBACK);
        chunkread_close(&cr);
        H5Dclose(d);
    }
    H5Fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fletcher_reference),
        cmocka_unit_test(test_fletcher_chunks),
        cmocka_unit_test(test_fletcher_matches_hdf5),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_left_to_hdf5),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
