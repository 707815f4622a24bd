/* fuzz_import.c — libFuzzer target for the importers' text path: the line
 * reader (textin: plain byte ranges and gzip), each format's sniff and
 * parse (imp_*.c, importer.c, textparse.c), as `clickseg import` uses them.
 *
 * Input: byte 0 picks the format (bits 0-2, of the seven), gzip (bit 3: the
 * rest is gzip-compressed before reading), the rank count for the byte
 * ranges (bits 4-5: 1-4) and, for csv, one of four import.csv settings
 * (bits 6-7); the rest is the file. The file goes to a memfd that the real
 * reader opens by path. Checked besides crashes, leaks, UB and hangs:
 *   - the lines read by 1-4 ranks over their byte ranges (textin_plan) are
 *     exactly the lines read whole, in order: no line lost, doubled or cut;
 *   - the reader's errors (corrupt gzip) are CS_EINPUT or CS_EIO naming the file;
 *   - sniff accepts line 1, or fails with CS_EINPUT/CS_ECONFIG naming the file;
 *   - every row is accepted, giving events with a time in 1970..9999, a
 *     known type and their line and index set (csv: exactly one), or is
 *     rejected with a known reason (not `duplicate`) and a detail; a fatal
 *     return carries a message; parsing it again gives the same answer.
 * Built only with clang (tests/fuzz/CMakeLists.txt); run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "clickseg/config.h"
#include "clickseg/importer.h"
#include "clickseg/textin.h"

#define TS_MAX 253402300799999999LL
#define MAX_LINES 4096

static const char *const formats[8] = { "rees46", "retailrocket", "yoochoose", "otto",
                                        "diginetica", "ga", "csv", "csv" };

static void finding(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_import: %s: %s\n", what, detail);
    abort();
}

/* import.csv settings: the defaults, a header-less unix_ms file with
 * numbered columns, a ';' file with a time pattern in a zone, a tab file
 * with micros and a wildcard map. */
static void csv_settings(cs_config *c, int v)
{
#define SET(field, val) snprintf(c->field, sizeof c->field, "%s", val)
    SET(import_csv_product, "product_id");
    SET(import_csv_price, "price");
    switch (v) {
    case 1:
        c->import_csv_header = 0;
        SET(import_csv_time, "1"); SET(import_csv_user, "2"); SET(import_csv_event, "3");
        SET(import_csv_product, "4"); SET(import_csv_price, "5"); SET(import_csv_session, "6");
        SET(import_csv_time_format, "unix_ms");
        SET(import_csv_events, "view=product_view, cart=add_to_cart, buy=purchase");
        c->import_csv_price_unit = PRICE_MINOR;
        break;
    case 2:
        SET(import_csv_delimiter, ";");
        SET(import_csv_time, "when"); SET(import_csv_user, "who"); SET(import_csv_event, "what");
        SET(import_csv_time_format, "%d.%m.%Y %H:%M:%S");
        SET(import_timezone, "Europe/Berlin");
        SET(import_csv_brand, "brand"); SET(import_csv_category, "cat");
        SET(import_csv_events, "pv=page_view, look=product_view, basket=add_to_cart, buy=purchase");
        break;
    case 3:
        SET(import_csv_delimiter, "tab");
        SET(import_csv_event, "");
        SET(import_csv_events, "*=page_view");
        SET(import_csv_session, "session");
        c->import_csv_price_unit = PRICE_MICROS;
        break;
    default:
        break;
    }
#undef SET
}

/* gzip-compresses in[0..n) into a malloc'd buffer. */
static unsigned char *gzip_of(const uint8_t *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&z, n) + 64;
    unsigned char *out = malloc(cap);
    if (!out)
        abort();
    z.next_in = (unsigned char *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* A line as read: a hash and a length are enough to compare the readings. */
typedef struct line_id {
    uint64_t hash;
    size_t len;
} line_id;

/* Reads [start, end) of the file; appends the lines to ids (their text to
 * keep[] when keep is set). Returns the count, or -1 on a reader error
 * (checked here). */
static int read_range(const char *path, int gz, int64_t start, int64_t end, line_id *ids,
                      int at, char **keep)
{
    cs_textin *t;
    cs_err err;
    cs_err_clear(&err);
    if (textin_open(path, gz, start, end, &t, &err) != CS_OK)
        finding("textin_open failed on a memfd", err.msg);
    const char *line;
    size_t len;
    int got;
    while ((got = textin_next(t, &line, &len, &err)) == 1) {
        if (memchr(line, '\n', len))
            finding("a line holds a line end", path);
        if (at >= MAX_LINES)
            continue;
        ids[at].hash = dict_hash(line, len);
        ids[at].len = len;
        if (keep) {
            keep[at] = malloc(len + 1);
            if (!keep[at])
                abort();
            memcpy(keep[at], line, len);
            keep[at][len] = '\0';
        }
        at++;
    }
    textin_close(t);
    if (got < 0) {
        if ((err.code != CS_EINPUT && err.code != CS_EIO) || !strstr(err.msg, path))
            finding("a reader error is not CS_EINPUT/CS_EIO naming the file", err.msg);
        return -1;
    }
    return at;
}

/* Parses one row and checks what comes back; returns the result. */
static int parse_row(imp_parser *p, const cs_importer *imp, const imp_file *f, const char *line,
                     size_t len, uint64_t lineno, imp_event *first, uint64_t *nev)
{
    uint64_t mark = p->nev;
    p->cur_file = 0;
    p->cur_line = lineno;
    p->sub = 0;
    p->detail[0] = '\0';
    int r = imp->parse(p, f, line, len);
    if (r == IMP_FATAL) {
        if (!p->err.msg[0])
            finding("a fatal parse result without a message", line);
        return r;
    }
    if (r < 0 || r >= IMP_NREASONS || r == R_DUPLICATE)
        finding("parse returned an unknown reason", line);
    if (r != IMP_ACCEPT) {
        if (!p->detail[0])
            finding("a reject without a detail", imp_reason_name(r));
        p->nev = mark;
        *nev = 0;
        return r;
    }
    *nev = p->nev - mark;
    if (strcmp(imp->name, "csv") == 0 && *nev != 1)
        finding("an accepted csv row gave other than one event", line);
    for (uint64_t i = mark; i < p->nev; i++) {
        const imp_event *e = &p->ev[i];
        if (e->ts < 0 || e->ts > TS_MAX || e->type >= 8 || e->line != lineno ||
            e->sub != i - mark || e->file != 0)
            finding("an event out of range", line);
    }
    if (*nev)
        *first = p->ev[mark];
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    uint8_t mode = data[0];
    const char *fmt = formats[mode & 7];
    int want_gz = (mode >> 3) & 1, nranks = ((mode >> 4) & 3) + 1;
    data++;
    size--;

    static cs_config cfg;
    config_defaults(&cfg);
    if (strcmp(fmt, "csv") == 0)
        csv_settings(&cfg, mode >> 6);
    const cs_importer *imp = importer_find(fmt);
    static imp_parser p;
    cs_err err;
    cs_err_clear(&err);
    if (!imp || imp_parser_init(&p, &cfg, &err) != CS_OK)
        finding("cannot set up the parser", err.msg);

    int fd = memfd_create("fuzz_import", 0);
    if (fd < 0)
        abort();
    size_t n = size;
    unsigned char *gzbuf = want_gz ? gzip_of(data, size, &n) : NULL;
    if (n && write(fd, gzbuf ? gzbuf : data, n) != (ssize_t)n)
        abort();
    free(gzbuf);
    static imp_file f;
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "/proc/self/fd/%d", fd);
    int gz = textin_probe(f.path, &f.bytes, &err);
    if (gz < 0 || f.bytes != (int64_t)n)
        finding("textin_probe failed on a memfd", err.msg);
    f.gzip = gz;

    static line_id whole[MAX_LINES], ranged[MAX_LINES];
    static char *text[MAX_LINES];
    int nl = read_range(f.path, gz, 0, INT64_MAX, whole, 0, text);

    /* The same lines over 1-4 ranks' byte ranges. */
    textin_seg seg[2];
    int64_t bytes = f.bytes;
    int at = 0, broken = nl < 0;
    for (int r = 0; r < nranks && !broken; r++) {
        int ns = textin_plan(&bytes, &gz, 1, r, nranks, seg);
        if (ns > 1)
            finding("more than one range of one file for a rank", f.path);
        for (int s = 0; s < ns && !broken; s++) {
            int got = read_range(f.path, gz, seg[s].start, seg[s].end, ranged, at, NULL);
            if (got < 0)
                finding("a range fails where the whole file reads", f.path);
            at = got;
        }
    }
    if (!broken && (at != nl || memcmp(whole, ranged, (size_t)nl * sizeof *whole) != 0)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%d lines whole, %d over %d ranks (gzip %d)", nl, at, nranks, gz);
        finding("byte ranges read other lines than the whole file", msg);
    }

    if (nl > 0) {
        int rc = imp->sniff(&p, &f, text[0], whole[0].len, &err);
        if (rc != CS_OK) {
            /* A config error (csv without an event column or "*") need not name the file. */
            if ((rc != CS_EINPUT && rc != CS_ECONFIG) || err.code != rc ||
                (rc == CS_EINPUT && !strstr(err.msg, f.path)))
                finding("a sniff error is not CS_EINPUT/CS_ECONFIG naming the file", err.msg);
        } else {
            for (int i = f.has_header ? 1 : 0; i < nl; i++) {
                imp_event e1, e2;
                uint64_t n1, n2;
                int r1 = parse_row(&p, imp, &f, text[i], whole[i].len, (uint64_t)i + 1, &e1, &n1);
                if (r1 == IMP_FATAL)
                    break;
                int r2 = parse_row(&p, imp, &f, text[i], whole[i].len, (uint64_t)i + 1, &e2, &n2);
                if (r1 != r2 || n1 != n2 || (n1 && memcmp(&e1, &e2, sizeof e1) != 0))
                    finding("parsing a row twice gave two answers", text[i]);
            }
        }
    }
    for (int i = 0; i < nl; i++)
        free(text[i]);
    imp_parser_free(&p);
    close(fd);
    return 0;
}
