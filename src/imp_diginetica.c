/* imp_diginetica.c — DIGINETICA (CIKM Cup 2016, track 2), train-item-views:
 *   session_id;user_id;item_id;timeframe;eventdate
 * Mapping (docs/import.md): every row is a product_view at eventdate
 * (midnight in import.timezone) plus timeframe milliseconds (the time
 * since the session began). user_id "NA" is an anonymous visitor: the
 * session stands for the user, as the text "session:<id>" (hashed, in the
 * user dictionary), so anonymous sessions never merge into one user. */
#include <stdio.h>

#include "clickseg/features.h"
#include "clickseg/importer.h"

enum { C_SESSION, C_USER, C_ITEM, C_FRAME, C_DATE, C_N };
static const char *const names[C_N] = { "session_id", "user_id", "item_id", "timeframe",
                                        "eventdate" };

static int dg_sniff(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err)
{
    if (imp_split(p, line, len, ';', 0) != 0)
        p->f.n = 0;   /* not even CSV: every column is missing below */
    for (int c = 0; c < C_N; c++)
        if ((f->col[c] = imp_find_column(&p->f, names[c])) < 0 || f->col[c] >= p->f.n ||
            !tp_eq(p->f.p[f->col[c]], p->f.len[f->col[c]], names[c]))
            return cs_err_set(err, CS_EINPUT, "%s: line 1 is not a diginetica header: no column "
                              "'%s' (expected session_id;user_id;item_id;timeframe;eventdate; "
                              "got '%.*s')", f->path, names[c], (int)(len > 200 ? 200 : len), line);
    f->has_header = 1;
    f->ncols = p->f.n;
    return CS_OK;
}

#define FLD(c) p->f.p[f->col[c]], p->f.len[f->col[c]]
#define SHOW(c) (int)p->f.len[f->col[c]], p->f.p[f->col[c]]

static int dg_parse(imp_parser *p, const imp_file *f, const char *line, size_t len)
{
    int rc = imp_split(p, line, len, ';', f->ncols);
    if (rc)
        return rc;
    imp_event e = { 0 };
    tp_time_spec iso = { TP_TIME_ISO, "" };
    int64_t day, frame;
    if (tp_time(&iso, FLD(C_DATE), &p->tz, &day) != 0)
        return imp_reject(p, R_BAD_TIME, "eventdate '%.*s' is not a date", SHOW(C_DATE));
    if (tp_i64(FLD(C_FRAME), &frame) != 0 || frame < 0)
        return imp_reject(p, R_BAD_TIME, "timeframe '%.*s' is not milliseconds", SHOW(C_FRAME));
    if (__builtin_mul_overflow(frame, 1000, &frame) || __builtin_add_overflow(day, frame, &e.ts))
        return imp_reject(p, R_BAD_TIME, "eventdate '%.*s' + timeframe '%.*s' ms is after 9999",
                          SHOW(C_DATE), SHOW(C_FRAME));
    if (tp_u64(FLD(C_SESSION), &e.session_id) != 0)
        return imp_reject(p, R_BAD_ID, "session_id '%.*s' is not a number", SHOW(C_SESSION));
    if (tp_eq(FLD(C_USER), "NA") || p->f.len[f->col[C_USER]] == 0) {
        char key[40];
        int n = snprintf(key, sizeof key, "session:%llu", (unsigned long long)e.session_id);
        rc = imp_id_hashed(p, DICT_USER, key, (size_t)n, "anonymous", 9, &e.user_id);
    } else {
        rc = imp_id(p, DICT_USER, FLD(C_USER), NULL, 0, &e.user_id);
    }
    if (rc)
        return rc == R_BAD_ID ? R_BAD_USER : rc;
    if (tp_u64(FLD(C_ITEM), &e.product_id) != 0)
        return imp_reject(p, R_BAD_PRODUCT, "item_id '%.*s' is not a number", SHOW(C_ITEM));
    e.type = EV_PRODUCT_VIEW;
    return imp_emit(p, &e);
}

const cs_importer imp_diginetica = {
    .name = "diginetica",
    .summary = "DIGINETICA CIKM Cup 2016 item views (session_id;user_id;item_id;timeframe;eventdate)",
    .currency = "unknown",
    .sniff = dg_sniff,
    .parse = dg_parse,
};
