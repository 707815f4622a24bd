/* imp_rees46.c — REES46 / Open CDP "eCommerce behavior data from multi
 * category store" (Kaggle mkechinov): one CSV file per month with
 *   event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session
 * Mapping (docs/import.md): view -> product_view, cart -> add_to_cart,
 * remove_from_cart -> remove_from_cart, purchase -> purchase; times are UTC
 * ("2019-10-01 00:00:00 UTC"); prices are decimal currency units -> cents;
 * category ids (64-bit numbers) are hashed to 32-bit ids with their
 * category_code as the label; brands are hashed to 32-bit ids; the
 * user_session UUID is hashed to the session id. */
#include <string.h>

#include "clickseg/features.h"
#include "clickseg/importer.h"

enum { C_TIME, C_TYPE, C_PRODUCT, C_CATEGORY, C_CODE, C_BRAND, C_PRICE, C_USER, C_SESSION, C_N };
static const char *const names[C_N] = { "event_time", "event_type", "product_id", "category_id",
                                        "category_code", "brand", "price", "user_id",
                                        "user_session" };

static int rees46_sniff(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err)
{
    if (imp_split(p, line, len, ',', 0) != 0)
        p->f.n = 0;   /* not even CSV: every column is missing below */
    for (int c = 0; c < C_N; c++) {
        f->col[c] = imp_find_column(&p->f, names[c]);
        if (f->col[c] < 0 || f->col[c] >= p->f.n || !tp_eq(p->f.p[f->col[c]],
                                                           p->f.len[f->col[c]], names[c]))
            return cs_err_set(err, CS_EINPUT, "%s: line 1 is not a rees46 header: no column '%s' "
                              "(expected %s,%s,%s,%s,%s,%s,%s,%s,%s; got '%.*s')", f->path,
                              names[c], names[0], names[1], names[2], names[3], names[4],
                              names[5], names[6], names[7], names[8], (int)(len > 200 ? 200 : len),
                              line);
    }
    f->has_header = 1;
    f->ncols = p->f.n;
    return CS_OK;
}

#define FLD(c) p->f.p[f->col[c]], p->f.len[f->col[c]]

static int rees46_parse(imp_parser *p, const imp_file *f, const char *line, size_t len)
{
    int rc = imp_split(p, line, len, ',', f->ncols);
    if (rc)
        return rc;
    imp_event e = { 0 };
    if (tp_time(&(tp_time_spec){ TP_TIME_ISO, "" }, FLD(C_TIME), &p->tz, &e.ts) != 0)
        return imp_reject(p, R_BAD_TIME, "event_time '%.*s' is not a time", (int)p->f.len[f->col[C_TIME]],
                          p->f.p[f->col[C_TIME]]);
    const char *t = p->f.p[f->col[C_TYPE]];
    size_t tn = p->f.len[f->col[C_TYPE]];
    if (tp_eq(t, tn, "view"))
        e.type = EV_PRODUCT_VIEW;
    else if (tp_eq(t, tn, "cart"))
        e.type = EV_ADD_TO_CART;
    else if (tp_eq(t, tn, "remove_from_cart"))
        e.type = EV_REMOVE_FROM_CART;
    else if (tp_eq(t, tn, "purchase"))
        e.type = EV_PURCHASE;
    else
        return imp_reject(p, R_UNKNOWN_EVENT, "event_type '%.*s' (rees46 has view, cart, "
                          "remove_from_cart, purchase)", (int)tn, t);
    if (p->f.len[f->col[C_PRODUCT]] && tp_u64(FLD(C_PRODUCT), &e.product_id) != 0)
        return imp_reject(p, R_BAD_PRODUCT, "product_id '%.*s' is not a number",
                          (int)p->f.len[f->col[C_PRODUCT]], p->f.p[f->col[C_PRODUCT]]);
    if (p->f.len[f->col[C_PRICE]] && tp_decimal(FLD(C_PRICE), 2, &e.price) != 0)
        return imp_reject(p, R_BAD_PRICE, "price '%.*s' is not a decimal number",
                          (int)p->f.len[f->col[C_PRICE]], p->f.p[f->col[C_PRICE]]);
    if (p->f.len[f->col[C_USER]] == 0)
        return imp_reject(p, R_BAD_USER, "user_id is empty");
    if ((rc = imp_id(p, DICT_USER, FLD(C_USER), NULL, 0, &e.user_id)) != 0)
        return rc == R_BAD_ID ? R_BAD_USER : rc;
    /* A category without an id but with a code is keyed by its code. */
    int cat = p->f.len[f->col[C_CATEGORY]] ? C_CATEGORY : C_CODE;
    if ((rc = imp_id_hashed(p, DICT_CATEGORY, FLD(cat), FLD(C_CODE), &e.category)) != 0 ||
        (rc = imp_id_hashed(p, DICT_BRAND, FLD(C_BRAND), NULL, 0, &e.brand)) != 0 ||
        (rc = imp_id_hashed(p, DICT_SESSION, FLD(C_SESSION), NULL, 0, &e.session_id)) != 0)
        return rc;
    return imp_emit(p, &e);
}

const cs_importer imp_rees46 = {
    .name = "rees46",
    .summary = "REES46 / Open CDP e-commerce events (event_time,event_type,product_id,...)",
    .currency = "unknown",
    .sniff = rees46_sniff,
    .parse = rees46_parse,
};
