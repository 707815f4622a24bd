/* imp_ga.c — Google Analytics hit exports (the BigQuery sample of the
 * Google Merchandise Store flattened to CSV, e.g. all_sessions.csv): one
 * row per hit and product, with a header naming at least fullVisitorId,
 * visitId, time and eCommerceAction_type.
 * Mapping (docs/import.md): the hit's time is the visit start (visitStartTime
 * when the file has it, else visitId, which GA sets to the start in
 * seconds) plus `time` milliseconds; the user is fullVisitorId, the session
 * the visit "fullVisitorId-visitId"; eCommerceAction_type 0 and 1 are
 * page_view (a search when searchKeyword is set), 2 product_view,
 * 3 add_to_cart, 4 remove_from_cart, 5 and 8 checkout, 6 purchase,
 * 7 refund; the product is productSKU (named by v2ProductName), the
 * category v2ProductCategory; money is in millionths of the currency
 * (USD in the sample): a purchase or refund costs productRevenue, or
 * productPrice x productQuantity, other hits carry productPrice. */
#include <stdio.h>
#include <string.h>

#include "clickseg/features.h"
#include "clickseg/importer.h"

enum { C_VISITOR, C_VISIT, C_TIME, C_ACTION, C_START, C_SKU, C_NAME, C_CATEGORY, C_PRICE,
       C_QTY, C_REVENUE, C_SEARCH, C_CURRENCY, C_N };
static const char *const names[C_N] = {
    "fullVisitorId", "visitId", "time", "eCommerceAction_type", "visitStartTime", "productSKU",
    "v2ProductName", "v2ProductCategory", "productPrice", "productQuantity", "productRevenue",
    "searchKeyword", "currencyCode" };
#define NREQUIRED 4

static int ga_sniff(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err)
{
    if (imp_split(p, line, len, ',', 0) != 0)
        p->f.n = 0;   /* not even CSV: every column is missing below */
    for (int c = 0; c < C_N; c++) {
        f->col[c] = imp_find_column(&p->f, names[c]);
        if (f->col[c] >= p->f.n || (f->col[c] >= 0 && !tp_eq(p->f.p[f->col[c]],
                                                             p->f.len[f->col[c]], names[c])))
            f->col[c] = -1;
        if (f->col[c] < 0 && c < NREQUIRED)
            return cs_err_set(err, CS_EINPUT, "%s: line 1 is not a Google Analytics hit header: "
                              "no column '%s' (needs fullVisitorId, visitId, time, "
                              "eCommerceAction_type; got '%.*s')", f->path, names[c],
                              (int)(len > 200 ? 200 : len), line);
    }
    f->has_header = 1;
    f->ncols = p->f.n;
    return CS_OK;
}

#define HAS(c) (f->col[c] >= 0 && p->f.len[f->col[c]] > 0)
#define FLD(c) p->f.p[f->col[c]], p->f.len[f->col[c]]
#define SHOW(c) (int)p->f.len[f->col[c]], p->f.p[f->col[c]]

/* Millionths -> cents, half away from zero. */
static int64_t micros_to_cents(int64_t m)
{
    return m >= 0 ? (m + 5000) / 10000 : -((-m + 5000) / 10000);
}

static int ga_money(imp_parser *p, const imp_file *f, int type, int64_t *price)
{
    int64_t unit = 0, qty = 1, rev;
    if (HAS(C_CURRENCY) && !tp_eq(FLD(C_CURRENCY), "USD"))
        return imp_reject(p, R_BAD_PRICE, "currencyCode '%.*s': the archive holds USD", SHOW(C_CURRENCY));
    if (HAS(C_PRICE) && tp_i64(FLD(C_PRICE), &unit) != 0)
        return imp_reject(p, R_BAD_PRICE, "productPrice '%.*s' is not millionths", SHOW(C_PRICE));
    if (HAS(C_QTY) && (tp_i64(FLD(C_QTY), &qty) != 0 || qty < 0))
        return imp_reject(p, R_BAD_PRICE, "productQuantity '%.*s'", SHOW(C_QTY));
    if (type == EV_PURCHASE || type == EV_REFUND) {
        if (HAS(C_REVENUE)) {
            if (tp_i64(FLD(C_REVENUE), &rev) != 0)
                return imp_reject(p, R_BAD_PRICE, "productRevenue '%.*s'", SHOW(C_REVENUE));
        } else if (__builtin_mul_overflow(unit, qty ? qty : 1, &rev)) {
            return imp_reject(p, R_BAD_PRICE, "productPrice x productQuantity overflows");
        }
        *price = micros_to_cents(rev);
    } else {
        *price = micros_to_cents(unit);
    }
    return 0;
}

static int ga_parse(imp_parser *p, const imp_file *f, const char *line, size_t len)
{
    static const int8_t action_type[9] = { EV_PAGE_VIEW, EV_PAGE_VIEW, EV_PRODUCT_VIEW,
                                           EV_ADD_TO_CART, EV_REMOVE_FROM_CART, EV_CHECKOUT,
                                           EV_PURCHASE, EV_REFUND, EV_CHECKOUT };
    int rc = imp_split(p, line, len, ',', f->ncols);
    if (rc)
        return rc;
    imp_event e = { 0 };
    int64_t start, ms, action;
    int sc = HAS(C_START) ? C_START : C_VISIT;
    if (tp_i64(FLD(sc), &start) != 0 || tp_i64(FLD(C_TIME), &ms) != 0 || ms < 0)
        return imp_reject(p, R_BAD_TIME, "%s '%.*s' + time '%.*s' is not seconds + milliseconds",
                          names[sc], SHOW(sc), SHOW(C_TIME));
    if (__builtin_mul_overflow(start, 1000000, &start) || __builtin_mul_overflow(ms, 1000, &ms) ||
        __builtin_add_overflow(start, ms, &e.ts))
        return imp_reject(p, R_BAD_TIME, "%s '%.*s' + time '%.*s' is after 9999", names[sc],
                          SHOW(sc), SHOW(C_TIME));
    if (tp_i64(FLD(C_ACTION), &action) != 0 || action < 0 || action > 8)
        return imp_reject(p, R_UNKNOWN_EVENT, "eCommerceAction_type '%.*s' (GA has 0 to 8)",
                          SHOW(C_ACTION));
    e.type = (uint8_t)action_type[action];
    if (action == 0 && HAS(C_SEARCH))
        e.type = EV_SEARCH;
    if (!HAS(C_VISITOR))
        return imp_reject(p, R_BAD_USER, "fullVisitorId is empty");
    if ((rc = imp_id(p, DICT_USER, FLD(C_VISITOR), NULL, 0, &e.user_id)) != 0)
        return rc == R_BAD_ID ? R_BAD_USER : rc;
    char visit[600];
    int vn = snprintf(visit, sizeof visit, "%.*s-%.*s", SHOW(C_VISITOR), SHOW(C_VISIT));
    /* snprintf returns the length it wanted: a longer key was cut, and is
     * rejected as the id it would be (id_of reads only what is there). */
    if (vn < 0 || (size_t)vn >= sizeof visit)
        return imp_reject(p, R_BAD_ID, "fullVisitorId-visitId of %d characters (at most %zu)",
                          vn, sizeof visit - 1);
    if ((rc = imp_id_hashed(p, DICT_SESSION, visit, (size_t)vn, NULL, 0, &e.session_id)) != 0)
        return rc;
    if (HAS(C_SKU) && (rc = imp_id_hashed(p, DICT_PRODUCT, FLD(C_SKU),
                                          f->col[C_NAME] >= 0 ? p->f.p[f->col[C_NAME]] : NULL,
                                          f->col[C_NAME] >= 0 ? p->f.len[f->col[C_NAME]] : 0,
                                          &e.product_id)) != 0)
        return rc == R_BAD_ID ? R_BAD_PRODUCT : rc;
    if (HAS(C_CATEGORY) && !tp_eq(FLD(C_CATEGORY), "(not set)") &&
        (rc = imp_id_hashed(p, DICT_CATEGORY, FLD(C_CATEGORY), NULL, 0, &e.category)) != 0)
        return rc;
    if ((rc = ga_money(p, f, e.type, &e.price)) != 0)
        return rc;
    return imp_emit(p, &e);
}

const cs_importer imp_ga = {
    .name = "ga",
    .summary = "Google Analytics hits as CSV (fullVisitorId,visitId,time,eCommerceAction_type,...)",
    .currency = "USD",
    .sniff = ga_sniff,
    .parse = ga_parse,
};
