/* imp_retailrocket.c — Retailrocket recommender dataset, events.csv:
 *   timestamp,visitorid,event,itemid,transactionid
 * Mapping (docs/import.md): timestamp is Unix milliseconds; view ->
 * product_view, addtocart -> add_to_cart, transaction -> purchase; the
 * visitor is the user; no session ids and no prices (0). */
#include "clickseg/features.h"
#include "clickseg/importer.h"

enum { C_TS, C_VISITOR, C_EVENT, C_ITEM, C_TX, C_N };
static const char *const names[C_N] = { "timestamp", "visitorid", "event", "itemid",
                                        "transactionid" };

static int rr_sniff(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err)
{
    if (imp_split(p, line, len, ',', 0) != 0)
        p->f.n = 0;   /* not even CSV: every column is missing below */
    for (int c = 0; c < C_N; c++)
        if ((f->col[c] = imp_find_column(&p->f, names[c])) < 0 || f->col[c] >= p->f.n ||
            !tp_eq(p->f.p[f->col[c]], p->f.len[f->col[c]], names[c]))
            return cs_err_set(err, CS_EINPUT, "%s: line 1 is not a retailrocket events.csv "
                              "header: no column '%s' (expected timestamp,visitorid,event,"
                              "itemid,transactionid; got '%.*s')", f->path, names[c],
                              (int)(len > 200 ? 200 : len), line);
    f->has_header = 1;
    f->ncols = p->f.n;
    return CS_OK;
}

#define FLD(c) p->f.p[f->col[c]], p->f.len[f->col[c]]
#define SHOW(c) (int)p->f.len[f->col[c]], p->f.p[f->col[c]]

static int rr_parse(imp_parser *p, const imp_file *f, const char *line, size_t len)
{
    int rc = imp_split(p, line, len, ',', f->ncols);
    if (rc)
        return rc;
    imp_event e = { 0 };
    tp_time_spec ms = { TP_TIME_UNIX_MS, "" };
    if (tp_time(&ms, FLD(C_TS), &p->tz, &e.ts) != 0)
        return imp_reject(p, R_BAD_TIME, "timestamp '%.*s' is not Unix milliseconds", SHOW(C_TS));
    if (p->f.len[f->col[C_VISITOR]] == 0 ||
        (rc = imp_id(p, DICT_USER, FLD(C_VISITOR), NULL, 0, &e.user_id)) != 0)
        return rc < 0 ? rc : imp_reject(p, R_BAD_USER, "visitorid '%.*s'", SHOW(C_VISITOR));
    if (tp_eq(FLD(C_EVENT), "view"))
        e.type = EV_PRODUCT_VIEW;
    else if (tp_eq(FLD(C_EVENT), "addtocart"))
        e.type = EV_ADD_TO_CART;
    else if (tp_eq(FLD(C_EVENT), "transaction"))
        e.type = EV_PURCHASE;
    else
        return imp_reject(p, R_UNKNOWN_EVENT, "event '%.*s' (retailrocket has view, addtocart, "
                          "transaction)", SHOW(C_EVENT));
    if (p->f.len[f->col[C_ITEM]] && tp_u64(FLD(C_ITEM), &e.product_id) != 0)
        return imp_reject(p, R_BAD_PRODUCT, "itemid '%.*s' is not a number", SHOW(C_ITEM));
    return imp_emit(p, &e);
}

const cs_importer imp_retailrocket = {
    .name = "retailrocket",
    .summary = "Retailrocket events.csv (timestamp,visitorid,event,itemid,transactionid)",
    .currency = "unknown",
    .sniff = rr_sniff,
    .parse = rr_parse,
};
