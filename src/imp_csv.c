/* imp_csv.c — any delimited text file, described by the import.csv keys:
 * which column holds the time (and in what format), the user, the event
 * name (mapped to the eight types by import.csv.events), and optionally the
 * product, category, brand, price (in major, minor or micro units) and the
 * source's session id. Columns are named by header or by 1-based number. */
#include <string.h>

#include "clickseg/importer.h"

enum { C_TIME, C_USER, C_EVENT, C_PRODUCT, C_CATEGORY, C_BRAND, C_PRICE, C_SESSION, C_N };

/* The config key naming column c, and its value. */
static const char *col_key(int c)
{
    static const char *const keys[C_N] = { "time", "user", "event", "product", "category",
                                           "brand", "price", "session" };
    return keys[c];
}

static const char *col_value(const cs_config *cfg, int c)
{
    const char *v[C_N] = { cfg->import_csv_time, cfg->import_csv_user, cfg->import_csv_event,
                           cfg->import_csv_product, cfg->import_csv_category,
                           cfg->import_csv_brand, cfg->import_csv_price,
                           cfg->import_csv_session };
    return v[c];
}

static int csv_sniff(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err)
{
    const cs_config *cfg = p->cfg;
    int hdr = cfg->import_csv_header;
    if (hdr && imp_split(p, line, len, p->delim, 0) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: line 1 is not a header: %s", f->path, p->detail);
    if (!cfg->import_csv_event[0] && p->evmap.wildcard < 0)
        return cs_err_set(err, CS_ECONFIG, "import.csv.event is \"\" (no event column), so "
                          "import.csv.events must map \"*\" to a type, e.g. \"*=page_view\"");
    int need = 0;
    for (int c = 0; c < C_N; c++) {
        const char *name = col_value(cfg, c);
        f->col[c] = -1;
        if (!name[0])
            continue;
        f->col[c] = imp_find_column(hdr ? &p->f : NULL, name);
        if (f->col[c] < 0 || (hdr && f->col[c] >= p->f.n))
            return cs_err_set(err, CS_EINPUT, "%s: import.csv.%s = \"%s\" names no column %s "
                              "(line 1: '%.*s')", f->path, col_key(c), name,
                              hdr ? "of the header" : "(without a header, give a 1-based "
                              "number)", (int)(len > 200 ? 200 : len), line);
        if (f->col[c] + 1 > need)
            need = f->col[c] + 1;
    }
    f->has_header = hdr;
    f->ncols = hdr ? p->f.n : 0;
    /* Without a header, line 1 (a row) gives the count every row must
     * have: a row with more or fewer fields is cut or merged, not data. */
    if (!hdr && imp_split(p, line, len, p->delim, 0) == 0)
        f->ncols = p->f.n;
    f->variant = need;   /* and rows need at least this many fields */
    return CS_OK;
}

#define HAS(c) (f->col[c] >= 0)
#define FLD(c) p->f.p[f->col[c]], p->f.len[f->col[c]]
#define SHOW(c) (int)p->f.len[f->col[c]], p->f.p[f->col[c]]

/* Price text in the configured unit -> minor units. */
static int price_of(const imp_parser *p, const char *s, size_t n, int64_t *v)
{
    switch (p->cfg->import_csv_price_unit) {
    case PRICE_MINOR: return tp_i64(s, n, v);
    case PRICE_MICROS: {
        int64_t m;
        if (tp_i64(s, n, &m) != 0)
            return -1;
        /* micros -> cents, half away from zero */
        *v = m >= 0 ? (m + 5000) / 10000 : -((-m + 5000) / 10000);
        return 0;
    }
    default: return tp_decimal(s, n, 2, v);
    }
}

static int csv_parse(imp_parser *p, const imp_file *f, const char *line, size_t len)
{
    int rc = imp_split(p, line, len, p->delim, f->ncols);
    if (rc)
        return rc;
    if (p->f.n < f->variant)
        return imp_reject(p, R_FIELD_COUNT, "%d fields, the configured columns need %d",
                          p->f.n, f->variant);
    imp_event e = { 0 };
    if (tp_time(&p->time_spec, FLD(C_TIME), &p->tz, &e.ts) != 0)
        return imp_reject(p, R_BAD_TIME, "time '%.*s' does not match import.csv.time_format "
                          "\"%s\"", SHOW(C_TIME), p->cfg->import_csv_time_format);
    int t = HAS(C_EVENT) ? tp_evmap_lookup(&p->evmap, FLD(C_EVENT))
                         : tp_evmap_lookup(&p->evmap, "*", 1);
    if (t < 0)
        return imp_reject(p, R_UNKNOWN_EVENT, "event '%.*s' is not in import.csv.events",
                          SHOW(C_EVENT));
    e.type = (uint8_t)t;
    if (p->f.len[f->col[C_USER]] == 0)
        return imp_reject(p, R_BAD_USER, "the user column is empty");
    if ((rc = imp_id(p, DICT_USER, FLD(C_USER), NULL, 0, &e.user_id)) != 0)
        return rc == R_BAD_ID ? R_BAD_USER : rc;
    if (HAS(C_PRODUCT) && (rc = imp_id(p, DICT_PRODUCT, FLD(C_PRODUCT), NULL, 0, &e.product_id)))
        return rc == R_BAD_ID ? R_BAD_PRODUCT : rc;
    if ((HAS(C_CATEGORY) && (rc = imp_id(p, DICT_CATEGORY, FLD(C_CATEGORY), NULL, 0, &e.category))) ||
        (HAS(C_BRAND) && (rc = imp_id(p, DICT_BRAND, FLD(C_BRAND), NULL, 0, &e.brand))) ||
        (HAS(C_SESSION) && (rc = imp_id(p, DICT_SESSION, FLD(C_SESSION), NULL, 0, &e.session_id))))
        return rc;
    if (HAS(C_PRICE) && p->f.len[f->col[C_PRICE]] && price_of(p, FLD(C_PRICE), &e.price) != 0)
        return imp_reject(p, R_BAD_PRICE, "price '%.*s' is not a number in import.csv.price_unit",
                          SHOW(C_PRICE));
    return imp_emit(p, &e);
}

const cs_importer imp_csv = {
    .name = "csv",
    .summary = "any delimited file: columns, time format and event names from import.csv.*",
    .currency = "unknown",
    .sniff = csv_sniff,
    .parse = csv_parse,
};
