/* report_doc.c — report.h5 read back for rendering (see report_doc.h), and
 * the short text / JSON / CSV summaries `clickseg report` prints. */
#include "clickseg/report_doc.h"

#include <ctype.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clickseg/h5util.h"
#include "clickseg/numfmt.h"
#include "clickseg/period.h"
#include "clickseg/report.h"

static const char *const need_totals[] = {"events", "sessions", "users", "purchase_sessions",
    "revenue", "refunds", "bot_sessions", "bot_events", "late_events", "rejected_events",
    "rows_read", NULL};
static const char *const need_segments[] = {"name", "business", "sessions", "share", "users",
    "events", "purchase_sessions", "purchases", "conversion", "revenue", "refunds",
    "cart_sessions", "abandoned_cart_sessions", "cart_abandonment", "mean_duration_s",
    "mean_events", "product_view_sessions", "checkout_sessions", "duration_s_p50",
    "duration_s_p90", "duration_s_p99", "events_p50", "events_p90", "events_p99", NULL};
static const char *const need_periods[] = {"period", "segment", "sessions", "users", "events",
    "purchase_sessions", "revenue", "refunds", NULL};
static const char *const need_run[] = {"phase", "seconds", NULL};

static int need_cols(const cs_report_doc *d, const cs_table *t, const char *const *cols,
                     cs_err *err)
{
    for (int i = 0; cols[i]; i++)
        if (!h5table_col(t, cols[i]))
            return cs_err_set(err, CS_EINPUT, "%s: %s lacks column '%s' (written by an older "
                              "clickseg? rerun `clickseg run`)", d->path, t->path, cols[i]);
    return CS_OK;
}

/* Every period row block must list the segments in /segments' order. */
static int check_periods(cs_report_doc *d, cs_err *err)
{
    uint64_t rows = d->periods.nrows;
    if (d->nseg == 0 || rows % (uint64_t)d->nseg != 0)
        return cs_err_set(err, CS_EINPUT, "%s: /periods has %llu rows, not a multiple of the "
                          "%d segments", d->path, (unsigned long long)rows, d->nseg);
    d->nperiods = rows / (uint64_t)d->nseg;
    const cs_tcol *seg = doc_period_col(d, "segment");
    for (uint64_t r = 0; r < rows; r++)
        if (strcmp(tcol_str(seg, r), doc_seg_name(d, (int)(r % (uint64_t)d->nseg))) != 0)
            return cs_err_set(err, CS_EINPUT, "%s: /periods row %llu is segment '%s', expected "
                              "'%s'", d->path, (unsigned long long)r, tcol_str(seg, r),
                              doc_seg_name(d, (int)(r % (uint64_t)d->nseg)));
    return CS_OK;
}

static int read_optional(hid_t f, const char *path, cs_table *t, cs_err *err)
{
    if (!h5table_is_group(f, path)) {
        memset(t, 0, sizeof *t);
        snprintf(t->path, sizeof t->path, "%s", path);
        return CS_OK;
    }
    return h5table_read(f, path, t, err);
}

/* Tables under /profiles: a group of columns is a table; a group of groups
 * (/profiles/gender/<table>) is looked into, one level. */
static int read_profiles(hid_t f, cs_report_doc *d, cs_err *err)
{
    if (!h5table_is_group(f, "/profiles"))
        return CS_OK;
    char (*sub)[H5T_NAME_MAX] = NULL;
    int n = 0, rc = h5table_subgroups(f, "/profiles", &sub, &n, err);
    for (int i = 0; rc == CS_OK && i < n; i++) {
        char p[256];
        snprintf(p, sizeof p, "/profiles/%s", sub[i]);
        char (*inner)[H5T_NAME_MAX] = NULL;
        int m = 0;
        rc = h5table_subgroups(f, p, &inner, &m, err);
        for (int j = -1; rc == CS_OK && j < m; j++) {
            char q[256 + H5T_NAME_MAX];
            snprintf(q, sizeof q, j < 0 ? "%s" : "%s/%s", p, j < 0 ? "" : inner[j]);
            cs_table t;
            rc = h5table_read(f, q, &t, err);
            if (rc != CS_OK || t.ncols == 0) {
                h5table_free(&t);
                continue;
            }
            cs_table *grown = realloc(d->profiles, (size_t)(d->nprofiles + 1) * sizeof *grown);
            if (!grown) {
                h5table_free(&t);
                rc = cs_err_set(err, CS_ENOMEM, "out of memory reading %s", q);
                break;
            }
            d->profiles = grown;
            d->profiles[d->nprofiles++] = t;
        }
        free(inner);
    }
    free(sub);
    return rc;
}

static int load_tables(hid_t f, cs_report_doc *d, cs_err *err)
{
    int rc = h5table_read(f, "/", &d->root, err);
    if (rc != CS_OK)
        return rc;
    if (strcmp(h5table_attr_str(&d->root, "format", ""), "clickseg-report") != 0)
        return cs_err_set(err, CS_EINPUT, "%s: not a clickseg report (no format attribute "
                          "\"clickseg-report\")", d->path);
    int64_t v = h5table_attr_i64(&d->root, "version", 1);
    if (v < CS_REPORT_MIN_VERSION)
        return cs_err_set(err, CS_EINPUT, "%s: report format version %lld, written by an "
                          "older clickseg; it lacks what the page shows (rerun `clickseg run`)",
                          d->path, (long long)v);
    d->currency = h5table_attr_str(&d->root, "currency", "");
    d->period = h5table_attr_str(&d->root, "period", "day");
    d->timezone = h5table_attr_str(&d->root, "timezone", "UTC");
    static const char *const req[] = {"/totals", "/segments", "/periods", "/config", "/run"};
    cs_table *dst[] = {&d->totals, &d->segments, &d->periods, &d->config, &d->run};
    for (int i = 0; rc == CS_OK && i < 5; i++) {
        rc = h5table_read(f, req[i], dst[i], err);
        if (rc != CS_OK)
            cs_err_wrap(err, "%s", d->path);
    }
    if (rc == CS_OK) rc = need_cols(d, &d->totals, need_totals, err);
    if (rc == CS_OK) rc = need_cols(d, &d->segments, need_segments, err);
    if (rc == CS_OK) rc = need_cols(d, &d->periods, need_periods, err);
    if (rc == CS_OK) rc = need_cols(d, &d->run, need_run, err);
    d->nseg = (int)d->segments.nrows;
    if (rc == CS_OK) rc = check_periods(d, err);
    if (rc == CS_OK) rc = read_optional(f, "/tiers", &d->tiers, err);
    if (rc == CS_OK) rc = read_optional(f, "/rfm_segments", &d->rfm, err);
    if (rc == CS_OK) rc = read_optional(f, "/targets", &d->targets, err);
    if (rc == CS_OK) rc = read_optional(f, "/prospects", &d->prospects, err);
    if (rc == CS_OK) rc = read_profiles(f, d, err);
    return rc;
}

int report_doc_load(const char *path, cs_report_doc *d, cs_err *err)
{
    memset(d, 0, sizeof *d);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(d->dir, sizeof d->dir, "%s", path);
        snprintf(d->path, sizeof d->path, "%s/report.h5", path);
    } else {
        snprintf(d->path, sizeof d->path, "%s", path);
        const char *slash = strrchr(path, '/');
        snprintf(d->dir, sizeof d->dir, "%.*s", slash ? (int)(slash - path) : 1,
                 slash ? path : ".");
        if (slash == path)
            snprintf(d->dir, sizeof d->dir, "/");
    }
    if (stat(d->path, &st) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: no such file (clickseg report reads the "
                          "report.h5 that `clickseg run` writes)", d->path);
    if (H5Fis_hdf5(d->path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return cs_err_set(err, CS_EINPUT, "%s: not an HDF5 file", d->path);
    }
    hid_t f = H5Fopen(d->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open (damaged?)", d->path);   /* the file, not the disk */
    int rc = load_tables(f, d, err);
    H5Fclose(f);
    if (rc != CS_OK)
        report_doc_free(d);
    return rc;
}

void report_doc_free(cs_report_doc *d)
{
    cs_table *all[] = {&d->root, &d->totals, &d->segments, &d->periods, &d->config, &d->run,
                       &d->tiers, &d->rfm, &d->targets, &d->prospects};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        h5table_free(all[i]);
    for (int i = 0; i < d->nprofiles; i++)
        h5table_free(&d->profiles[i]);
    free(d->profiles);
    d->profiles = NULL;
    d->nprofiles = 0;
}

int64_t doc_total(const cs_report_doc *d, const char *name)
{
    const cs_tcol *c = h5table_col(&d->totals, name);
    return c && d->totals.nrows ? tcol_i64(c, 0) : 0;
}

const cs_tcol *doc_seg_col(const cs_report_doc *d, const char *name)
{
    return h5table_col(&d->segments, name);
}

const cs_tcol *doc_period_col(const cs_report_doc *d, const char *name)
{
    return h5table_col(&d->periods, name);
}

const char *doc_seg_name(const cs_report_doc *d, int s)
{
    return tcol_str(doc_seg_col(d, "name"), (uint64_t)s);
}

int doc_seg_business(const cs_report_doc *d, int s)
{
    return tcol_i64(doc_seg_col(d, "business"), (uint64_t)s) != 0;
}

const char *doc_period_label(const cs_report_doc *d, uint64_t p)
{
    return tcol_str(doc_period_col(d, "period"), p * (uint64_t)d->nseg);
}

#define AXIS_LABEL 16   /* "-292277-W52" and the like fit */

/* Calendar numbers of the first and last period; 0 when the periods do not
 * number (no key column, an unknown period, keys out of order). */
static int axis_span(const cs_report_doc *d, int period, int64_t *first, int64_t *last)
{
    const cs_tcol *key = doc_period_col(d, "key");
    if (!key || period < 0 || d->nperiods == 0)
        return 0;
    int64_t prev = INT64_MIN;
    for (uint64_t p = 0; p < d->nperiods; p++) {
        int64_t k = tcol_i64(key, p * (uint64_t)d->nseg);
        /* a key of the period's own (a Monday for weeks, the 1st for
         * months) in years a calendar number holds: else no axis */
        if (k < 10000101 || k > 99991231)
            return 0;
        int64_t i = period_index(period, k);
        if (i == INT64_MIN || i <= prev || period_key_at(period, i) != k)
            return 0;
        prev = i;
    }
    *first = period_index(period, tcol_i64(key, 0));
    *last = prev;
    return (uint64_t)(*last - *first) < DOC_AXIS_MAX;
}

int doc_period_axis(const cs_report_doc *d, doc_axis *a, cs_err *err)
{
    memset(a, 0, sizeof *a);
    int period = period_from_name(d->period);
    int64_t first = 0, last = 0;
    a->filled = axis_span(d, period, &first, &last);
    a->n = a->filled ? (uint64_t)(last - first) + 1 : d->nperiods;
    if (a->n == 0)
        return CS_OK;
    a->row = malloc(a->n * sizeof *a->row);
    a->labels = malloc(a->n * sizeof *a->labels);
    a->text = a->filled ? malloc(a->n * AXIS_LABEL) : NULL;
    if (!a->row || !a->labels || (a->filled && !a->text)) {
        doc_axis_free(a);
        return cs_err_set(err, CS_ENOMEM, "out of memory for a chart axis of %llu points",
                          (unsigned long long)a->n);
    }
    const cs_tcol *key = doc_period_col(d, "key");
    uint64_t p = 0;
    for (uint64_t i = 0; i < a->n; i++) {
        if (!a->filled) {
            a->row[i] = (int64_t)i;
            a->labels[i] = doc_period_label(d, i);
            continue;
        }
        int64_t k = period_key_at(period, first + (int64_t)i);
        int has = p < d->nperiods && tcol_i64(key, p * (uint64_t)d->nseg) == k;
        a->row[i] = has ? (int64_t)p++ : -1;
        char *t = a->text + i * AXIS_LABEL;
        if (has)
            snprintf(t, AXIS_LABEL, "%s", doc_period_label(d, (uint64_t)a->row[i]));
        else
            period_label(period, k, t, AXIS_LABEL);
        a->labels[i] = t;
    }
    return CS_OK;
}

void doc_axis_free(doc_axis *a)
{
    free(a->row);
    free(a->labels);
    free(a->text);
    memset(a, 0, sizeof *a);
}

void doc_pretty_name(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s", name);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
    if (buf[0])
        buf[0] = (char)toupper((unsigned char)buf[0]);
}

int doc_format_from_name(const char *name)
{
    return strcmp(name, "text") == 0 ? DOC_TEXT : strcmp(name, "json") == 0 ? DOC_JSON
         : strcmp(name, "csv") == 0  ? DOC_CSV  : -1;
}

/* ---- summaries ---- */

static const char *const total_keys[] = {"events", "sessions", "users", "purchase_sessions",
    "revenue", "refunds", "bot_sessions", "late_events", "rejected_events", NULL};

/* s padded to |width| characters, not bytes (a dash for "no value" and a
 * currency sign are several bytes of UTF-8): right-aligned when width > 0,
 * left-aligned when < 0. */
static void put_aligned(FILE *out, const char *s, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        chars += (*p & 0xC0) != 0x80;
    int pad = (width < 0 ? -width : width) - chars;
    if (width > 0)
        fprintf(out, "%*s", pad > 0 ? pad : 0, "");
    fputs(s, out);
    if (width < 0)
        fprintf(out, "%*s", pad > 0 ? pad : 0, "");
}

static void print_text(const cs_report_doc *d, FILE *out)
{
    char a[NUMFMT_MAX], b[NUMFMT_MAX], c[NUMFMT_MAX], e[NUMFMT_MAX], m1[NUMFMT_MAX], m2[NUMFMT_MAX];
    fprintf(out, "clickseg report: %s\n", d->path);
    if (d->nperiods)
        fprintf(out, "  %s %s periods, %s .. %s (%s); ", fmt_uint(a, sizeof a, d->nperiods),
                d->period, doc_period_label(d, 0), doc_period_label(d, d->nperiods - 1),
                d->timezone);
    int64_t ranks = h5table_attr_i64(&d->run, "ranks", 0);
    fprintf(out, "finished %s on %lld rank%s in %s\n",
            h5table_attr_str(&d->run, "finished_utc", "?"), (long long)ranks,
            ranks == 1 ? "" : "s",
            fmt_duration(b, sizeof b, h5table_attr_f64(&d->run, "wall_s", NAN)));
    fprintf(out, "  events %s, sessions %s (%s bot), users %s, revenue %s, refunds %s\n",
            fmt_int(a, sizeof a, doc_total(d, "events")), fmt_int(b, sizeof b, doc_total(d, "sessions")),
            fmt_int(c, sizeof c, doc_total(d, "bot_sessions")), fmt_int(e, sizeof e, doc_total(d, "users")),
            fmt_money(m1, sizeof m1, doc_total(d, "revenue"), d->currency),
            fmt_money(m2, sizeof m2, doc_total(d, "refunds"), d->currency));
    fprintf(out, "  %-24s %14s %8s %11s %18s\n", "segment", "sessions", "share", "conversion",
            "revenue");
    for (int s = 0; s < d->nseg; s++) {
        char name[80];
        doc_pretty_name(doc_seg_name(d, s), name, sizeof name);
        fprintf(out, "  ");
        put_aligned(out, name, -24);
        fputc(' ', out);
        put_aligned(out, fmt_int(a, sizeof a, tcol_i64(doc_seg_col(d, "sessions"), (uint64_t)s)), 14);
        fputc(' ', out);
        put_aligned(out, fmt_pct(b, sizeof b, tcol_num(doc_seg_col(d, "share"), (uint64_t)s), 1), 8);
        fputc(' ', out);
        put_aligned(out, fmt_pct(c, sizeof c, tcol_num(doc_seg_col(d, "conversion"), (uint64_t)s), 1),
                    11);
        fputc(' ', out);
        put_aligned(out, fmt_money(e, sizeof e, tcol_i64(doc_seg_col(d, "revenue"), (uint64_t)s),
                                   d->currency), 18);
        fprintf(out, "%s\n", doc_seg_business(d, s) ? "" : "  (share of all sessions)");
    }
}

static void print_json(const cs_report_doc *d, FILE *out)
{
    fprintf(out, "{\"report\": ");
    report_json_str(out, d->path);
    fprintf(out, ", \"currency\": ");
    report_json_str(out, d->currency);
    fprintf(out, ", \"period\": ");
    report_json_str(out, d->period);
    fprintf(out, ", \"periods\": %llu, \"first_period\": ", (unsigned long long)d->nperiods);
    report_json_str(out, d->nperiods ? doc_period_label(d, 0) : "");
    fprintf(out, ", \"last_period\": ");
    report_json_str(out, d->nperiods ? doc_period_label(d, d->nperiods - 1) : "");
    fprintf(out, ", \"totals\": {");
    for (int i = 0; total_keys[i]; i++)
        fprintf(out, "%s\"%s\": %lld", i ? ", " : "", total_keys[i],
                (long long)doc_total(d, total_keys[i]));
    fprintf(out, "}, \"segments\": [");
    for (int s = 0; s < d->nseg; s++) {
        fprintf(out, "%s{\"name\": ", s ? ", " : "");
        report_json_str(out, doc_seg_name(d, s));
        fprintf(out, ", \"business\": %s, \"sessions\": %lld, \"share\": ",
                doc_seg_business(d, s) ? "true" : "false",
                (long long)tcol_i64(doc_seg_col(d, "sessions"), (uint64_t)s));
        report_json_ratio(out, tcol_num(doc_seg_col(d, "share"), (uint64_t)s));
        fprintf(out, ", \"users\": %lld, \"conversion\": ",
                (long long)tcol_i64(doc_seg_col(d, "users"), (uint64_t)s));
        report_json_ratio(out, tcol_num(doc_seg_col(d, "conversion"), (uint64_t)s));
        fprintf(out, ", \"revenue\": %lld}", (long long)tcol_i64(doc_seg_col(d, "revenue"), (uint64_t)s));
    }
    fprintf(out, "]}\n");
}

static void print_csv(const cs_report_doc *d, FILE *out)
{
    fprintf(out, "segment,business,sessions,share,users,conversion,revenue,refunds\n");
    for (int s = 0; s < d->nseg; s++) {
        fprintf(out, "%s,%d,%lld,", doc_seg_name(d, s), doc_seg_business(d, s),
                (long long)tcol_i64(doc_seg_col(d, "sessions"), (uint64_t)s));
        report_csv_ratio(out, tcol_num(doc_seg_col(d, "share"), (uint64_t)s));
        fprintf(out, ",%lld,", (long long)tcol_i64(doc_seg_col(d, "users"), (uint64_t)s));
        report_csv_ratio(out, tcol_num(doc_seg_col(d, "conversion"), (uint64_t)s));
        fprintf(out, ",%lld,%lld\n", (long long)tcol_i64(doc_seg_col(d, "revenue"), (uint64_t)s),
                (long long)tcol_i64(doc_seg_col(d, "refunds"), (uint64_t)s));
    }
}

int report_doc_print(const cs_report_doc *d, int format, FILE *out, cs_err *err)
{
    if (format == DOC_JSON)
        print_json(d, out);
    else if (format == DOC_CSV)
        print_csv(d, out);
    else
        print_text(d, out);
    if (fflush(out) != 0 || ferror(out))
        return cs_err_set(err, CS_EIO, "writing the summary failed");
    return CS_OK;
}
