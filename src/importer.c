/* importer.c — the format registry and the helpers every format uses:
 * splitting, emitting, rejecting, ids and dictionaries (see importer.h). */
#include "clickseg/importer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/event.h"

extern const cs_importer imp_rees46, imp_retailrocket, imp_yoochoose, imp_otto,
    imp_diginetica, imp_ga, imp_csv;

static const cs_importer *const registry[] = {
    &imp_rees46, &imp_retailrocket, &imp_yoochoose, &imp_otto, &imp_diginetica, &imp_ga,
    &imp_csv,
};
#define NFORMATS (sizeof registry / sizeof registry[0])

const cs_importer *importer_find(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

void importer_names(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NFORMATS && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", registry[i]->name);
}

void importer_help(FILE *out)
{
    for (size_t i = 0; i < NFORMATS; i++)
        fprintf(out, "  %-13s %s\n", registry[i]->name, registry[i]->summary);
}

const char *imp_reason_name(int reason)
{
    static const char *const names[IMP_NREASONS] = {
        "accepted", "field_count", "bad_quotes", "bad_time", "bad_user", "unknown_event",
        "bad_product", "bad_price", "bad_id", "bad_json", "bad_value", "bad_encoding", "duplicate",
    };
    return reason >= 0 && reason < IMP_NREASONS ? names[reason] : NULL;
}

const char *imp_dict_name(int d)
{
    static const char *const names[DICT_N] = { "user", "session", "product", "category", "brand" };
    return d >= 0 && d < DICT_N ? names[d] : NULL;
}

int imp_dict_is32(int d)
{
    return d == DICT_CATEGORY || d == DICT_BRAND;
}

int imp_parser_init(imp_parser *p, const cs_config *cfg, cs_err *err)
{
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    for (int d = 0; d < DICT_N; d++)
        dict_init(&p->dict[d]);
    int rc = tz_open(&p->tz, cfg->import_timezone, err);
    if (rc == CS_OK)
        rc = tp_time_spec_parse(cfg->import_csv_time_format, &p->time_spec, err);
    if (rc == CS_OK)
        rc = tp_evmap_parse(cfg->import_csv_events, &p->evmap, err);
    p->delim = strcmp(cfg->import_csv_delimiter, "tab") == 0 ? '\t' : cfg->import_csv_delimiter[0];
    return rc;
}

void imp_parser_free(imp_parser *p)
{
    tz_close(&p->tz);
    free(p->ev);
    free(p->scratch);
    for (int d = 0; d < DICT_N; d++)
        dict_free(&p->dict[d]);
    p->ev = NULL;
    p->scratch = NULL;
}

int imp_reject(imp_parser *p, int reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof p->detail, fmt, ap);
    va_end(ap);
    return reason;
}

int imp_split(imp_parser *p, const char *line, size_t len, char delim, int ncols)
{
    if (len + 1 > p->scratch_cap) {
        size_t cap = p->scratch_cap ? p->scratch_cap : 4096;
        while (cap < len + 1)
            cap *= 2;
        char *s = cs_realloc(p->scratch, cap, &p->err, "line scratch");
        if (!s)
            return IMP_FATAL;
        p->scratch = s;
        p->scratch_cap = cap;
    }
    int rc = tp_split(line, len, delim, &p->f, p->scratch);
    if (rc == -1)
        return imp_reject(p, R_BAD_QUOTES, "an unterminated quote, or text after a closing quote");
    if (rc == -2)
        return imp_reject(p, R_FIELD_COUNT, "more than %d fields", TP_MAX_FIELDS);
    if (ncols > 0 && p->f.n != ncols)
        return imp_reject(p, R_FIELD_COUNT, "%d fields, expected %d", p->f.n, ncols);
    return 0;
}

#define TS_MAX 253402300799999999LL   /* 9999-12-31 23:59:59.999999 */

int imp_emit(imp_parser *p, const imp_event *e)
{
    if (e->ts < 0 || e->ts > TS_MAX)
        return imp_reject(p, R_BAD_TIME, "time %lld µs is before 1970 or after 9999",
                          (long long)e->ts);
    /* Amounts are positive: a refund is its own event type with the
     * amount refunded, and a negative purchase would lower revenue while
     * raising nothing a refund raises (docs/ranking.md). */
    if (e->price < 0)
        return imp_reject(p, R_BAD_PRICE, "price %lld (minor units) is negative: amounts are "
                          "positive, a refund is the refund event with the amount refunded",
                          (long long)e->price);
    if (e->price > CS_PRICE_MAX)
        return imp_reject(p, R_BAD_PRICE, "price %lld (minor units) is above %lld, the "
                          "largest clickseg sums without overflow (an id or a quantity read "
                          "as a price?)", (long long)e->price, (long long)CS_PRICE_MAX);
    if (p->nev == p->cap) {
        uint64_t cap = p->cap ? p->cap + p->cap / 2 : 1 << 16;
        imp_event *ne = cs_realloc(p->ev, cap * sizeof *ne, &p->err, "imported events");
        if (!ne)
            return IMP_FATAL;
        p->ev = ne;
        p->cap = cap;
    }
    imp_event *o = &p->ev[p->nev++];
    *o = *e;
    o->file = p->cur_file;
    o->line = p->cur_line;
    o->sub = p->sub++;
    o->pad = 0;
    return 0;
}

/* Shared by imp_id and imp_id_hashed. */
static int id_of(imp_parser *p, int d, const char *s, size_t n, const char *label, size_t ln,
                 int numeric_ok, uint64_t *id)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    /* Blank: no id (0), but every event has a user, and 0 would merge all
     * such events into one made-up user. */
    if (n == 0 && d == DICT_USER)
        return imp_reject(p, R_BAD_USER, "user id is blank");
    if (n == 0) {
        *id = 0;
        return 0;
    }
    if (n > DICT_KEY_MAX)
        return imp_reject(p, R_BAD_ID, "%s id of %zu characters (at most %d)", imp_dict_name(d),
                          n, DICT_KEY_MAX);
    uint64_t v;
    uint64_t bound = imp_dict_is32(d) ? 1ULL << 31 : 1ULL << 63;
    if (numeric_ok && (n == 1 || s[0] != '0') && tp_u64(s, n, &v) == 0 && v < bound) {
        *id = v;
        return 0;
    }
    /* The text goes to dictionaries.h5 as a string that h5py decodes as
     * UTF-8, and a NUL would cut it there: such text is not an id. */
    size_t bad = tp_utf8_bad(s, n);
    if (bad < n)
        return imp_reject(p, R_BAD_ENCODING, "%s id: byte %zu (0x%02x) is %s", imp_dict_name(d),
                          bad + 1, (unsigned char)s[bad], s[bad] ? "not UTF-8" : "a NUL");
    if (label && (bad = tp_utf8_bad(label, ln)) < ln)
        return imp_reject(p, R_BAD_ENCODING, "%s label: byte %zu (0x%02x) is %s",
                          imp_dict_name(d), bad + 1, (unsigned char)label[bad],
                          label[bad] ? "not UTF-8" : "a NUL");
    uint64_t h = dict_hash(s, n);
    int rc = dict_put(&p->dict[d], h, s, n, label ? label : "", label ? ln : 0, &p->err);
    if (rc != CS_OK) {
        cs_err_wrap(&p->err, "dictionary '%s'", imp_dict_name(d));
        return IMP_FATAL;
    }
    *id = h;
    return 0;
}

int imp_id(imp_parser *p, int d, const char *s, size_t n, const char *label, size_t ln,
           uint64_t *id)
{
    return id_of(p, d, s, n, label, ln, 1, id);
}

int imp_id_hashed(imp_parser *p, int d, const char *s, size_t n, const char *label,
                  size_t ln, uint64_t *id)
{
    return id_of(p, d, s, n, label, ln, 0, id);
}

int imp_find_column(const tp_fields *hdr, const char *name)
{
    for (int i = 0; hdr && i < hdr->n; i++)
        if (tp_eq(hdr->p[i], hdr->len[i], name))
            return i;
    uint64_t v;
    if (tp_u64(name, strlen(name), &v) == 0 && v >= 1 && v <= TP_MAX_FIELDS)
        return (int)v - 1;
    return -1;
}
