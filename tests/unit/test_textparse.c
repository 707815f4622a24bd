/* test_textparse.c — the text layer of `clickseg import`: CSV fields with
 * quotes, strict numbers, money rounding, times (ISO with zones, epochs,
 * patterns, local times across daylight-saving changes), event maps; the
 * byte-range plan and reader (every line read exactly once for any cut,
 * CRLF, BOM, gzip, truncated gzip); dictionaries (stable hashes, labels
 * independent of order, collisions resolved). Known answers computed by
 * hand or with `date -u`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "clickseg/dict.h"
#include "clickseg/textin.h"
#include "clickseg/textparse.h"

static int split(const char *s, char d, tp_fields *f, char *scratch)
{
    return tp_split(s, strlen(s), d, f, scratch);
}

static void assert_field(const tp_fields *f, int i, const char *want)
{
    assert_true(i < f->n);
    assert_int_equal(f->len[i], strlen(want));
    assert_memory_equal(f->p[i], want, f->len[i]);
}

static void test_split(void **state)
{
    (void)state;
    tp_fields f;
    char scratch[256];
    assert_int_equal(split("a,b,,d", ',', &f, scratch), 0);
    assert_int_equal(f.n, 4);
    assert_field(&f, 2, "");
    assert_field(&f, 3, "d");
    assert_int_equal(split("x,", ',', &f, scratch), 0);
    assert_int_equal(f.n, 2);
    assert_field(&f, 1, "");
    assert_int_equal(split("", ',', &f, scratch), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(split("1,\"Google 10,400mAh \"\"Charger\"\"\",x", ',', &f, scratch), 0);
    assert_int_equal(f.n, 3);
    assert_field(&f, 1, "Google 10,400mAh \"Charger\"");
    assert_field(&f, 2, "x");
    assert_int_equal(split("a\tb", '\t', &f, scratch), 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(split("a,\"open", ',', &f, scratch), -1);
    assert_int_equal(split("a,\"closed\"x,b", ',', &f, scratch), -1);
    assert_int_equal(split("ab\"c,d", ',', &f, scratch), 0);   /* a quote inside is text */
    assert_field(&f, 0, "ab\"c");
}

static void test_numbers(void **state)
{
    (void)state;
    uint64_t u;
    int64_t i;
    assert_int_equal(tp_u64("18446744073709551615", 20, &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(tp_u64("18446744073709551616", 20, &u), -1);
    assert_int_equal(tp_u64(" 42 ", 4, &u), 0);
    assert_int_equal(u, 42);
    assert_int_equal(tp_u64("4 2", 3, &u), -1);
    assert_int_equal(tp_u64("-1", 2, &u), -1);
    assert_int_equal(tp_u64("", 0, &u), -1);
    assert_int_equal(tp_i64("-9223372036854775808", 20, &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(tp_i64("9223372036854775808", 19, &i), -1);
    assert_int_equal(tp_i64("-", 1, &i), -1);
    const struct { const char *s; int scale; int64_t v; } ok[] = {
        { "35.79", 2, 3579 }, { "35.7", 2, 3570 }, { "35", 2, 3500 }, { "35.795", 2, 3580 },
        { "35.7949", 2, 3579 }, { "-35.795", 2, -3580 }, { "0.005", 2, 1 }, { ".5", 2, 50 },
        { "5.", 2, 500 }, { "1396860669.277", 6, 1396860669277000 }, { "7", 0, 7 },
        { "1.5", 0, 2 }, { "+2", 2, 200 },
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        int64_t v = -1;
        assert_int_equal(tp_decimal(ok[k].s, strlen(ok[k].s), ok[k].scale, &v), 0);
        assert_true(v == ok[k].v);
    }
    const char *bad[] = { "", ".", "1e5", "1,5", "12.3x", "--1", "99999999999999999999" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_int_equal(tp_decimal(bad[k], strlen(bad[k]), 2, &i), -1);
}

static int64_t parse_time(const char *fmt, const char *s, const char *zone)
{
    tp_time_spec spec;
    cs_err err;
    cs_tz tz;
    assert_int_equal(tp_time_spec_parse(fmt, &spec, &err), CS_OK);
    assert_int_equal(tz_open(&tz, zone, &err), CS_OK);
    int64_t us = INT64_MIN;
    if (tp_time(&spec, s, strlen(s), &tz, &us) != 0)
        us = INT64_MIN;
    tz_close(&tz);
    return us;
}

static void test_times(void **state)
{
    (void)state;
    const int64_t S = 1000000;
    /* date -u -d '2019-10-01 00:00:00' +%s = 1569888000 */
    assert_true(parse_time("iso8601", "2019-10-01 00:00:00 UTC", "UTC") == 1569888000 * S);
    assert_true(parse_time("iso8601", "2019-10-01 00:00:00 UTC", "Europe/Berlin") == 1569888000 * S);
    assert_true(parse_time("iso8601", "2019-10-01T02:00:00+02:00", "UTC") == 1569888000 * S);
    assert_true(parse_time("iso8601", "2019-10-01 02:00:00", "Europe/Berlin") == 1569888000 * S);
    /* YOOCHOOSE: 2014-04-07T10:51:09.277Z; date -u -d ... +%s = 1396867869 */
    assert_true(parse_time("iso8601", "2014-04-07T10:51:09.277Z", "UTC") == 1396867869 * S + 277000);
    assert_true(parse_time("iso8601", "2016-05-09", "UTC") == 1462752000 * S);
    assert_true(parse_time("iso8601", "2016-05-09 10:00", "+05:30") == (1462752000 + 10 * 3600 - 19800) * S);
    assert_true(parse_time("iso8601", "2019-02-29 00:00:00", "UTC") == INT64_MIN);
    assert_true(parse_time("iso8601", "2019-10-01 24:00:00", "UTC") == INT64_MIN);
    assert_true(parse_time("iso8601", "2019-10-01 00:00:00 CEST", "UTC") == INT64_MIN);
    assert_true(parse_time("unix_ms", "1659304800025", "UTC") == 1659304800025000LL);
    assert_true(parse_time("unix_s", "1396860669.277", "UTC") == 1396860669277000LL);
    assert_true(parse_time("%d/%m/%Y %H:%M:%S", "01/10/2019 00:00:00", "UTC") == 1569888000 * S);
    assert_true(parse_time("%d %b %Y %T", "1 Oct 2019 00:00:00", "UTC") == 1569888000 * S);
    assert_true(parse_time("%F %T%z", "2019-10-01 02:00:00+0200", "UTC") == 1569888000 * S);
    assert_true(parse_time("%Y%m%d", "20161", "UTC") == INT64_MIN);
    /* Berlin, 2019-03-31: 02:30 does not exist (read with the offset before,
     * +1, = 01:30 UTC); 2019-10-27: 02:30 happens twice (the first, +2). */
    assert_true(parse_time("iso8601", "2019-03-31 02:30:00", "Europe/Berlin") ==
                parse_time("iso8601", "2019-03-31 01:30:00 UTC", "UTC"));
    assert_true(parse_time("iso8601", "2019-10-27 02:30:00", "Europe/Berlin") ==
                parse_time("iso8601", "2019-10-27 00:30:00 UTC", "UTC"));
    tp_time_spec spec;
    cs_err err;
    assert_int_equal(tp_time_spec_parse("unix_minutes", &spec, &err), CS_ECONFIG);
    assert_int_equal(tp_time_spec_parse("%Y-%q", &spec, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "%q"));
}

static void test_evmap(void **state)
{
    (void)state;
    tp_evmap m;
    cs_err err;
    assert_int_equal(tp_evmap_parse(" view = product_view ,buy=purchase", &m, &err), CS_OK);
    assert_int_equal(tp_evmap_lookup(&m, "view", 4), 1);
    assert_int_equal(tp_evmap_lookup(&m, "buy", 3), 6);
    assert_int_equal(tp_evmap_lookup(&m, "refund", 6), 7);   /* v1 names always map */
    assert_int_equal(tp_evmap_lookup(&m, "3", 1), 3);
    assert_int_equal(tp_evmap_lookup(&m, "click", 5), -1);
    assert_int_equal(tp_evmap_parse("view=product_view,*=page_view", &m, &err), CS_OK);
    assert_int_equal(tp_evmap_lookup(&m, "click", 5), 0);
    assert_int_equal(tp_evmap_parse("", &m, &err), CS_OK);
    assert_int_equal(tp_evmap_parse("view=looking", &m, &err), CS_ECONFIG);
    assert_int_equal(tp_evmap_parse("view", &m, &err), CS_ECONFIG);
    assert_int_equal(tp_evmap_parse("a=purchase,a=refund", &m, &err), CS_ECONFIG);
}

/* ---- textin ---- */

static void write_file(const char *path, const char *text, int gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        gzwrite(g, text, (unsigned)strlen(text));
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        fputs(text, f);
        fclose(f);
    }
}

/* Reads the whole file as nranks ranges; returns the lines joined by '|'. */
static void read_all(const char *path, int gz, int nranks, char *out, size_t n)
{
    int64_t bytes;
    cs_err err;
    int isgz = textin_probe(path, &bytes, &err);
    assert_int_equal(isgz, gz);
    out[0] = '\0';
    for (int r = 0; r < nranks; r++) {
        textin_seg seg[1];
        int ns = textin_plan(&bytes, &gz, 1, r, nranks, seg);
        for (int s = 0; s < ns; s++) {
            cs_textin *t;
            assert_int_equal(textin_open(path, gz, seg[s].start, seg[s].end, &t, &err), CS_OK);
            const char *line;
            size_t len;
            while (textin_next(t, &line, &len, &err) == 1)
                snprintf(out + strlen(out), n - strlen(out), "%.*s|", (int)len, line);
            textin_close(t);
        }
    }
}

static void test_textin_ranges(void **state)
{
    (void)state;
    char path[] = "/tmp/test_textin_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    const char *text = "\xef\xbb\xbfhead\r\nalpha\nb\n\nlonger line here\r\nx\nlast-no-newline";
    const char *want = "head|alpha|b||longer line here|x|last-no-newline|";
    char got[512];
    write_file(path, text, 0);
    for (int nranks = 1; nranks <= 40; nranks++) {   /* cuts at every byte */
        read_all(path, 0, nranks, got, sizeof got);
        assert_string_equal(got, want);
    }
    write_file(path, text, 1);
    for (int nranks = 1; nranks <= 3; nranks++) {
        read_all(path, 1, nranks, got, sizeof got);
        assert_string_equal(got, want);
    }
    /* a truncated gzip file is an error, not a short read */
    char big[200000];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = i % 61 == 60 ? '\n' : (char)('a' + (i * 7919) % 26);
    big[sizeof big - 1] = '\0';
    write_file(path, big, 1);
    FILE *f = fopen(path, "rb");
    char buf[300000];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(path, "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    cs_textin *t;
    cs_err err;
    assert_int_equal(textin_open(path, 1, 0, 0, &t, &err), CS_OK);
    const char *line;
    size_t len;
    int rc;
    while ((rc = textin_next(t, &line, &len, &err)) == 1)
        ;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, "corrupt or truncated"));
    textin_close(t);
    unlink(path);
}

static void test_textin_plan(void **state)
{
    (void)state;
    int64_t bytes[3] = { 1000, 4000, 10 };
    int gz[3] = { 0, 1, 0 };
    textin_seg seg[3];
    int64_t covered[3] = { 0, 0, 0 };
    for (int r = 0; r < 4; r++) {
        int n = textin_plan(bytes, gz, 3, r, 4, seg);
        for (int s = 0; s < n; s++)
            covered[seg[s].file] += seg[s].end - seg[s].start;
    }
    assert_int_equal(covered[0], 1000);
    assert_int_equal(covered[1], 4000);   /* gzip: whole, on one rank */
    assert_int_equal(covered[2], 10);
}

/* ---- dictionaries ---- */

static int pick_half(uint64_t h, void *arg)
{
    (void)arg;
    return (int)((h >> 20) & 1);
}

/* tp_utf8_bad against Unicode's table of well-formed byte sequences. */
static void test_utf8(void **state)
{
    (void)state;
    static const struct { const char *s; size_t n, bad; } cases[] = {
        { "plain", 5, 5 },                 { "M\xc3\xbcller", 7, 7 },
        { "\xf0\x9f\x98\x80", 4, 4 },      { "\xef\xbb\xbf", 3, 3 },
        { "\xf4\x8f\xbf\xbf", 4, 4 },      /* U+10FFFF, the last */
        { "M\xfcller", 7, 1 },             /* Latin-1 */
        { "ab\x00" "c", 4, 2 },           /* NUL */
        { "\xc0\xaf", 2, 0 },              /* overlong '/' */
        { "\xe0\x80\xaf", 3, 0 },          /* overlong, 3 bytes */
        { "\xed\xa0\x80", 3, 0 },          /* a surrogate */
        { "\xf4\x90\x80\x80", 4, 0 },      /* past U+10FFFF */
        { "x\xe2\x82", 3, 1 },             /* cut at the end */
        { "\x80", 1, 0 },                  /* a lone continuation */
        { "a\xe2\x28\xa1", 4, 1 },          /* a bad continuation */
        { "\xf5\x80\x80\x80", 4, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(tp_utf8_bad(cases[i].s, cases[i].n), cases[i].bad);
}

static void test_dict(void **state)
{
    (void)state;
    cs_err err;
    /* the hash is fixed: FNV-1a 64 then splitmix64's finaliser, top bit set */
    assert_true(dict_hash("", 0) >> 63);
    assert_true(dict_hash("bosch", 5) == dict_hash("bosch", 5));
    assert_true(dict_hash("bosch", 5) != dict_hash("Bosch", 5));
    assert_true(dict_fold32(dict_hash("x", 1), 0) >= 0x80000000u);
    cs_dict a, b;
    dict_init(&a);
    dict_init(&b);
    uint64_t h = dict_hash("cat", 3);
    assert_int_equal(dict_put(&a, h, "cat", 3, "", 0, &err), CS_OK);
    assert_int_equal(dict_put(&a, h, "cat", 3, "zoo", 3, &err), CS_OK);
    assert_int_equal(dict_put(&a, h, "cat", 3, "animal", 6, &err), CS_OK);
    assert_int_equal(dict_put(&b, h, "cat", 3, "animal", 6, &err), CS_OK);
    assert_int_equal(dict_put(&b, h, "cat", 3, "zoo", 3, &err), CS_OK);
    assert_int_equal(a.n, 1);
    assert_memory_equal(dict_label(&a, 0), "animal", 6);   /* order does not matter */
    assert_memory_equal(dict_label(&b, 0), "animal", 6);
    assert_int_equal(dict_put(&a, h, "dog", 3, "", 0, &err), CS_EINPUT);   /* same hash */
    for (int i = 0; i < 5000; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(dict_put(&a, dict_hash(k, (size_t)n), k, (size_t)n, "", 0, &err), CS_OK);
    }
    assert_int_equal(a.n, 5001);
    assert_true(dict_find(&a, dict_hash("k4999", 5)) >= 0);
    /* packed for two destinations and unpacked: the same entries */
    char *buf;
    uint64_t counts[2];
    assert_int_equal(dict_pack(&a, 2, pick_half, NULL, &buf, counts, &err), CS_OK);
    cs_dict c0, c1;
    dict_init(&c0);
    dict_init(&c1);
    assert_int_equal(dict_unpack(&c0, buf, counts[0], &err), CS_OK);
    assert_int_equal(dict_unpack(&c1, buf + counts[0], counts[1], &err), CS_OK);
    assert_int_equal(c0.n + c1.n, a.n);
    assert_true(c0.n > 2000 && c1.n > 2000);
    int64_t at = dict_find(&c0, h) >= 0 ? dict_find(&c0, h) : -1;
    const cs_dict *has = at >= 0 ? &c0 : &c1;
    at = dict_find(has, h);
    assert_memory_equal(dict_key(has, (uint64_t)at), "cat", 3);
    assert_memory_equal(dict_label(has, (uint64_t)at), "animal", 6);
    free(buf);
    dict_free(&c0);
    dict_free(&c1);
    dict_sort(&a);
    for (uint64_t i = 1; i < a.n; i++)
        assert_true(a.e[i - 1].hash < a.e[i].hash);
    assert_true(dict_find(&a, h) >= 0);
    dict_free(&a);
    dict_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),       cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_times),       cmocka_unit_test(test_evmap),
        cmocka_unit_test(test_textin_ranges), cmocka_unit_test(test_textin_plan),
        cmocka_unit_test(test_dict),        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
