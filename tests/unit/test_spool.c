/* test_spool.c — the sessions spool: sessions appended over several blocks
 * read back the same from any offset (before and after a flush), the file
 * is gone from the directory from the start, a directory that cannot take
 * it is named in the error, and reading past the end is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <unistd.h>

#include "clickseg/spool.h"

static cs_session make(uint64_t i)
{
    cs_session s;
    memset(&s, 0, sizeof s);
    s.user_id = i * 2654435761u + 1;
    s.start_ts = (int64_t)i * 1000;
    s.end_ts = s.start_ts + (int64_t)(i % 97);
    s.segment = (int)(i % 5);
    for (int k = 0; k < F_NFEATURES; k++)
        s.f.v[k] = (int64_t)(i * 31 + (uint64_t)k);
    return s;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void test_spool_roundtrip(void **state)
{
    (void)state;
    char dir[] = "/tmp/clickseg-spool-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cs_spool sp;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(spool_open(&sp, dir, 3, &err), CS_OK);
    assert_int_equal(entries(dir), 0);   /* unlinked at once */
    const uint64_t n = 3 * CS_SPOOL_BLOCK + 123;
    cs_session *got = malloc(n * sizeof *got);
    for (uint64_t i = 0; i < n; i++) {
        cs_session s = make(i);
        assert_int_equal(spool_add(&sp, &s, &err), CS_OK);
        if (i == 10) {   /* a read while the first block is still buffered */
            assert_int_equal(spool_read(&sp, 5, 6, got, &err), CS_OK);
            for (uint64_t j = 0; j < 6; j++) {
                cs_session w = make(5 + j);
                assert_memory_equal(&got[j], &w, sizeof w);
            }
        }
    }
    assert_int_equal(sp.n, n);
    uint64_t at[] = {0, 1, CS_SPOOL_BLOCK - 1, 2 * CS_SPOOL_BLOCK, n - 1};
    for (size_t t = 0; t < sizeof at / sizeof *at; t++) {
        uint64_t m = n - at[t];
        assert_int_equal(spool_read(&sp, at[t], m, got, &err), CS_OK);
        for (uint64_t j = 0; j < m; j++) {
            cs_session w = make(at[t] + j);
            assert_memory_equal(&got[j], &w, sizeof w);
        }
    }
    assert_int_equal(spool_read(&sp, n - 1, 2, got, &err), CS_EINTERNAL);
    spool_close(&sp);
    spool_close(&sp);   /* twice is harmless */
    free(got);
    assert_int_equal(rmdir(dir), 0);
}

static void test_spool_bad_dir(void **state)
{
    (void)state;
    cs_spool sp;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(spool_open(&sp, "/nonexistent/clickseg-out", 0, &err), CS_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/clickseg-out"));
    assert_int_equal(sp.fd, -1);
    spool_close(&sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spool_roundtrip),
        cmocka_unit_test(test_spool_bad_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
