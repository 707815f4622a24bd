/* imp_yoochoose.c — YOOCHOOSE (RecSys Challenge 2015). Three kinds of
 * file, told apart by their first line:
 *   clicks  "SessionID,Timestamp,ItemID,Category" (no header; the raw
 *           yoochoose-clicks.dat and yoochoose-test.dat)
 *   buys    "SessionID,Timestamp,ItemID,Price,Quantity" (no header)
 *   prepared copies (session-rec and others): tab-separated with a header
 *           naming SessionId, ItemId and Time (Unix seconds with fraction)
 * Mapping (docs/import.md): a click is a product_view, a buy a purchase of
 * Price x Quantity minor units. Category "0" is none, "S" (special offer)
 * is the category "S", 1..12 are category ids, any other number is a brand
 * id. YOOCHOOSE has no user ids: the session is the user. */
#include <string.h>

#include "clickseg/features.h"
#include "clickseg/importer.h"

enum { V_CLICKS = 0, V_BUYS = 1, V_PREPARED = 2 };
enum { C_SESSION, C_ITEM, C_TIME };   /* prepared: column indices */

static int yc_sniff(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err)
{
    if (memchr(line, '\t', len)) {
        if (imp_split(p, line, len, '\t', 0) != 0)
            return cs_err_set(err, CS_EINPUT, "%s: line 1 is not a header", f->path);
        static const char *const names[3] = { "SessionId", "ItemId", "Time" };
        for (int c = 0; c < 3; c++)
            if ((f->col[c] = imp_find_column(&p->f, names[c])) < 0 || f->col[c] >= p->f.n)
                return cs_err_set(err, CS_EINPUT, "%s: a tab-separated yoochoose file needs a "
                                  "header with SessionId, ItemId and Time; line 1 has no '%s'",
                                  f->path, names[c]);
        f->variant = V_PREPARED;
        f->has_header = 1;
        f->ncols = p->f.n;
        return CS_OK;
    }
    uint64_t v;
    int64_t ts;
    tp_time_spec iso = { TP_TIME_ISO, "" };
    if (imp_split(p, line, len, ',', 0) != 0 || (p->f.n != 4 && p->f.n != 5) ||
        tp_u64(p->f.p[0], p->f.len[0], &v) != 0 ||
        tp_time(&iso, p->f.p[1], p->f.len[1], &p->tz, &ts) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: line 1 is neither a yoochoose click "
                          "(SessionID,Timestamp,ItemID,Category), a buy (SessionID,Timestamp,"
                          "ItemID,Price,Quantity) nor a header SessionId<TAB>ItemId<TAB>Time: "
                          "'%.*s'", f->path, (int)(len > 200 ? 200 : len), line);
    f->variant = p->f.n == 4 ? V_CLICKS : V_BUYS;
    f->ncols = p->f.n;
    return CS_OK;
}

#define FLD(i) p->f.p[i], p->f.len[i]
#define SHOW(i) (int)p->f.len[i], p->f.p[i]

/* Category field of a click: none, special offer, category or brand. */
static int yc_category(imp_parser *p, imp_event *e)
{
    uint64_t v;
    if (tp_eq(FLD(3), "S"))
        return imp_id_hashed(p, DICT_CATEGORY, "S", 1, "special offer", 13, &e->category);
    if (tp_u64(FLD(3), &v) != 0)
        return imp_reject(p, R_BAD_ID, "Category '%.*s' is neither S nor a number", SHOW(3));
    if (v >= 1 && v <= 12)
        e->category = v;
    else if (v > 12)
        return imp_id(p, DICT_BRAND, FLD(3), NULL, 0, &e->brand);
    return 0;
}

static int yc_parse(imp_parser *p, const imp_file *f, const char *line, size_t len)
{
    int rc = imp_split(p, line, len, f->variant == V_PREPARED ? '\t' : ',', f->ncols);
    if (rc)
        return rc;
    imp_event e = { 0 };
    int si = f->variant == V_PREPARED ? f->col[C_SESSION] : 0;
    int ii = f->variant == V_PREPARED ? f->col[C_ITEM] : 2;
    int ti = f->variant == V_PREPARED ? f->col[C_TIME] : 1;
    tp_time_spec spec = { f->variant == V_PREPARED ? TP_TIME_UNIX_S : TP_TIME_ISO, "" };
    if (tp_time(&spec, FLD(ti), &p->tz, &e.ts) != 0)
        return imp_reject(p, R_BAD_TIME, "time '%.*s' is not %s", SHOW(ti),
                          f->variant == V_PREPARED ? "Unix seconds" : "YYYY-MM-DDThh:mm:ss.SSSZ");
    if (p->f.len[si] == 0 || tp_u64(FLD(si), &e.session_id) != 0)
        return imp_reject(p, R_BAD_USER, "session id '%.*s' is not a number", SHOW(si));
    e.user_id = e.session_id;
    if (tp_u64(FLD(ii), &e.product_id) != 0)
        return imp_reject(p, R_BAD_PRODUCT, "item id '%.*s' is not a number", SHOW(ii));
    e.type = f->variant == V_BUYS ? EV_PURCHASE : EV_PRODUCT_VIEW;
    if (f->variant == V_CLICKS && (rc = yc_category(p, &e)) != 0)
        return rc;
    if (f->variant == V_BUYS) {
        int64_t price, qty;
        if (tp_i64(FLD(3), &price) != 0 || tp_i64(FLD(4), &qty) != 0 || price < 0 || qty < 0 ||
            __builtin_mul_overflow(price, qty, &e.price))
            return imp_reject(p, R_BAD_PRICE, "Price '%.*s' x Quantity '%.*s' is not a "
                              "non-negative whole amount", SHOW(3), SHOW(4));
    }
    return imp_emit(p, &e);
}

const cs_importer imp_yoochoose = {
    .name = "yoochoose",
    .summary = "YOOCHOOSE RecSys 2015 clicks and buys (raw .dat), or prepared SessionId/ItemId/Time TSV",
    .currency = "unknown",
    .sniff = yc_sniff,
    .parse = yc_parse,
};
