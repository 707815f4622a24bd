/* report_html_opt.c — the page's optional sections and its table writer
 * (see report_html_int.h): tiers and RFM segments, top targets and
 * prospects, profile cross-tabs. The ranking that fills these tables lives
 * elsewhere; this file shows whatever report.h5 holds under /tiers,
 * /rfm_segments, /targets, /prospects and /profiles, by column name, and
 * writes nothing for a table that is absent. */
#include <math.h>
#include <string.h>

#include "clickseg/html.h"
#include "clickseg/numfmt.h"
#include "clickseg/report.h"
#include "clickseg/svg.h"
#include "report_html_int.h"

enum { CF_TEXT, CF_ID, CF_INT, CF_MONEY, CF_PCT, CF_FLOAT };

/* How a column reads best, from its name (shares before money: a
 * "revenue_share" is a percentage). */
static int col_format(const cs_tcol *c)
{
    const char *n = c->name;
    if (c->kind == TK_STR)
        return CF_TEXT;
    if (strstr(n, "share") || strstr(n, "rate") || strstr(n, "conversion") ||
        strstr(n, "abandonment") || report_name_ends(n, "_pct"))
        return CF_PCT;
    if (strcmp(n, "user_id") == 0 || report_name_ends(n, "_id") || strcmp(n, "rank") == 0 ||
        strcmp(n, "key") == 0)
        return CF_ID;
    if (strstr(n, "revenue") || strstr(n, "monetary") || strstr(n, "refund"))
        return CF_MONEY;
    if (strcmp(n, "value") == 0)   /* a code (profile value): no separators */
        return CF_ID;
    return c->kind == TK_F64 ? CF_FLOAT : CF_INT;
}

/* The table whose `name` column names the integer codes of column c
 * (targets' tier → /tiers, rfm_segment → /rfm_segments), or NULL. */
static const cs_table *code_table(const html_ctx *h, const cs_tcol *c)
{
    if (c->kind != TK_I64 && c->kind != TK_U64)
        return NULL;
    const cs_table *t = strcmp(c->name, "tier") == 0 ? &h->d->tiers
                      : strcmp(c->name, "rfm_segment") == 0 ? &h->d->rfm : NULL;
    return t && h5table_col(t, "name") ? t : NULL;
}

/* The name of a profile code, from the labels the profile table gave
 * (the group's `values`, rank.h) into buf; NULL when it gave none (the
 * page shows the code). -1 is a user without a profile row, which is not
 * the table's own "unknown". */
static const char *profile_label(const cs_table *t, int64_t v, char *buf, size_t n)
{
    if (v == -1)
        return "no profile";
    return rank_profile_label(h5table_attr_str(t, "values", ""), v, buf, n) ? buf : NULL;
}

static void cell(html_ctx *h, const cs_table *t, const cs_tcol *c, uint64_t r)
{
    char b[NUMFMT_MAX];
    int fmt = col_format(c);
    const cs_table *codes = code_table(h, c);
    int64_t code = codes ? tcol_i64(c, r) : -1;
    if (codes && code >= 0 && (uint64_t)code < codes->nrows) {
        fprintf(h->f, "<td>");
        xml_puts(h->f, tcol_str(h5table_col(codes, "name"), (uint64_t)code));
        fprintf(h->f, "</td>");
        return;
    }
    /* a cross-tab's `value` column: the profile code of /profiles/<column> */
    char lab[CS_PROFILE_VALUES_MAX];
    const char *prof = strncmp(t->path, "/profiles/", 10) == 0 && strcmp(c->name, "value") == 0 &&
                       c->kind == TK_I64 ? profile_label(t, c->i[r], lab, sizeof lab) : NULL;
    if (prof) {
        fprintf(h->f, "<td>");
        xml_puts(h->f, prof);   /* from the user's profile table */
        fprintf(h->f, "</td>");
        return;
    }
    double v = tcol_num(c, r);
    switch (fmt) {
    case CF_TEXT:
        fprintf(h->f, "<td>");
        xml_puts(h->f, tcol_str(c, r));
        fprintf(h->f, "</td>");
        return;
    case CF_ID:
        if (c->kind == TK_U64) snprintf(b, sizeof b, "%llu", (unsigned long long)c->u[r]);
        else if (c->kind == TK_I64) snprintf(b, sizeof b, "%lld", (long long)c->i[r]);
        else snprintf(b, sizeof b, "%.0f", v);
        break;
    case CF_MONEY: fmt_money(b, sizeof b, c->kind == TK_F64 ? llround(v) : tcol_i64(c, r), h->d->currency); break;
    case CF_PCT: fmt_pct(b, sizeof b, v, 1); break;
    case CF_FLOAT: fmt_fixed(b, sizeof b, v, fabs(v) < 10 ? 3 : 1); break;
    default:
        if (c->kind == TK_U64) fmt_uint(b, sizeof b, c->u[r]);
        else fmt_int(b, sizeof b, tcol_i64(c, r));
    }
    fprintf(h->f, "<td class=\"num\">%s</td>", b);
}

void html_table(html_ctx *h, const cs_table *t, const char *const *first, uint64_t max_rows,
                int numbered)
{
    int order[256], n = 0;
    for (int i = 0; first && first[i] && n < 256; i++) {
        int k = h5table_col_index(t, first[i]);
        if (k >= 0)
            order[n++] = k;
    }
    for (int k = 0; k < t->ncols && n < 256; k++) {
        int seen = 0;
        for (int j = 0; j < n; j++)
            seen |= order[j] == k;
        if (!seen)
            order[n++] = k;
    }
    fprintf(h->f, "<div class=\"scroll\"><table data-table=\"");
    xml_puts(h->f, t->path);
    fprintf(h->f, "\"><tr>");
    if (numbered)
        fprintf(h->f, "<th class=\"num\" data-col=\"#\">#</th>");
    for (int j = 0; j < n; j++) {
        const cs_tcol *c = &t->cols[order[j]];
        char name[256];
        /* a cross-tab's value column is named by its profile column */
        int xval = strncmp(t->path, "/profiles/", 10) == 0 && strcmp(c->name, "value") == 0;
        doc_pretty_name(xval ? t->path + 10 : c->name, name, sizeof name);
        if (strncmp(name, "Rfm", 3) == 0)
            memcpy(name, "RFM", 3);
        fprintf(h->f, "<th%s data-col=\"", col_format(c) == CF_TEXT ? "" : " class=\"num\"");
        xml_puts(h->f, c->name);
        fprintf(h->f, "\">");
        xml_puts(h->f, name);
        fprintf(h->f, "</th>");
    }
    fprintf(h->f, "</tr>\n");
    uint64_t rows = t->nrows < max_rows ? t->nrows : max_rows;
    for (uint64_t r = 0; r < rows; r++) {
        fprintf(h->f, "<tr>");
        if (numbered)
            fprintf(h->f, "<td class=\"num\">%llu</td>", (unsigned long long)r + 1);
        for (int j = 0; j < n; j++)
            cell(h, t, &t->cols[order[j]], r);
        fprintf(h->f, "</tr>\n");
    }
    fprintf(h->f, "</table></div>\n");
    if (rows < t->nrows) {
        char a[NUMFMT_MAX], b[NUMFMT_MAX];
        fprintf(h->f, "<p class=\"note\">First %s of %s rows.</p>\n", fmt_uint(a, sizeof a, rows),
                fmt_uint(b, sizeof b, t->nrows));
    }
}

void html_opt_nav(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    if (d->tiers.ncols || d->rfm.ncols)
        fprintf(h->f, "<a href=\"#tiers\">Tiers</a>");
    if (d->targets.ncols || d->prospects.ncols)
        fprintf(h->f, "<a href=\"#targets\">Targets</a>");
    if (d->nprofiles)
        fprintf(h->f, "<a href=\"#profiles\">Profiles</a>");
}

/* The label column of a distribution table: "name", else the first strings. */
static const cs_tcol *label_col(const cs_table *t)
{
    const cs_tcol *c = h5table_col(t, "name");
    for (int i = 0; !c && i < t->ncols; i++)
        if (t->cols[i].kind == TK_STR)
            c = &t->cols[i];
    return c;
}

/* A bar per row of t: `value` per label, with its share of the column total. */
static void dist_chart(html_ctx *h, const cs_table *t, const char *value, const char *id,
                       const char *title, const char *axis, int money)
{
    const cs_tcol *lab = label_col(t), *val = h5table_col(t, value);
    if (!lab || !val || t->nrows == 0)
        return;
    svg_bar bars[64];
    char labels[64][80], texts[64][96];
    int n = t->nrows < 64 ? (int)t->nrows : 64;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += tcol_num(val, (uint64_t)i);
    for (int i = 0; i < n; i++) {
        char a[NUMFMT_MAX], p[NUMFMT_MAX];
        double v = tcol_num(val, (uint64_t)i);
        doc_pretty_name(tcol_str(lab, (uint64_t)i), labels[i], sizeof labels[i]);
        if (money)
            fmt_money(a, sizeof a, llround(v), h->d->currency);
        else
            fmt_int(a, sizeof a, tcol_i64(val, (uint64_t)i));
        snprintf(texts[i], sizeof texts[i], "%s (%s)", a, fmt_pct(p, sizeof p, total ? v / total : 0, 1));
        bars[i] = (svg_bar){tcol_str(lab, (uint64_t)i), labels[i], texts[i], html_palette(i), v};
    }
    svg_bar_chart c = {.id = id, .title = title, .axis_label = axis, .width = 500,
                       .label_width = 140, .n = n, .bars = bars,
                       .tick_fmt = money ? html_tick_money : NULL, .tick_ctx = h->d->currency};
    fprintf(h->f, "<figure><figcaption>%s</figcaption>\n", title);
    svg_bar_chart_write(h->f, &c);
    fprintf(h->f, "</figure>\n");
}

void html_section_tiers(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    if (!d->tiers.ncols && !d->rfm.ncols)
        return;
    static const char *const tier_first[] = {"name", "users", "user_share", "revenue",
                                             "revenue_share", NULL};
    static const char *const rfm_first[] = {"name", "users", "revenue", NULL};
    fprintf(h->f, "<div id=\"tiers\">\n");
    if (d->tiers.ncols) {
        fprintf(h->f, "<h3>Customer tiers</h3><div class=\"grid2\">\n");
        dist_chart(h, &d->tiers, "revenue", "revenue-by-tier", "Revenue by tier", "revenue", 1);
        dist_chart(h, &d->tiers, "users", "tier-users", "Customers per tier", "customers", 0);
        fprintf(h->f, "</div>\n");
        html_table(h, &d->tiers, tier_first, 1000, 0);
    }
    if (d->rfm.ncols) {
        fprintf(h->f, "<h3>RFM segments</h3><div class=\"grid2\">\n");
        dist_chart(h, &d->rfm, "users", "rfm-users", "Customers per RFM segment", "customers", 0);
        dist_chart(h, &d->rfm, "revenue", "rfm-revenue", "Revenue per RFM segment", "revenue", 1);
        fprintf(h->f, "</div>\n");
        html_table(h, &d->rfm, rfm_first, 1000, 0);
    }
    fprintf(h->f, "</div>\n");
}

static void toplist(html_ctx *h, const cs_table *t, const char *title, const char *csv)
{
    static const char *const first[] = {"rank", "user_id", "user_key", "score", "tier",
                                        "rfm_segment",
                                        "recency_days", "frequency", "monetary", "revenue",
                                        "sessions", "intent", "risk", NULL};
    if (!t->ncols)
        return;
    char a[NUMFMT_MAX];
    fprintf(h->f, "<h3>%s</h3>\n", title);
    /* rows come best first; number them when the table has no rank column */
    html_table(h, t, first, CS_HTML_TOP_ROWS, !h5table_col(t, "rank"));
    fprintf(h->f, "<p class=\"note\">The full list (%s rows): ", fmt_uint(a, sizeof a, t->nrows));
    if (html_file_beside(h, csv)) {
        fprintf(h->f, "<a href=\"");
        xml_puts(h->f, h->link_prefix);
        fprintf(h->f, "%s\">%s</a>, and ", csv, csv);
    }
    fprintf(h->f, "report.h5 %s.", t->path);
    if (strcmp(csv, "prospects.csv") == 0)   /* its score column is another score */
        fprintf(h->f, " Score here is the prospect score the list is ranked by (research "
                "sessions, abandoned carts, recency, visits), not the customer score of the "
                "tiers.");
    fprintf(h->f, "</p>\n");
}

void html_section_targets(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    if (!d->targets.ncols && !d->prospects.ncols)
        return;
    fprintf(h->f, "<section id=\"targets\"><h2>Customers to target</h2>\n");
    toplist(h, &d->targets, "Top targets: the highest-value customers", "targets.csv");
    toplist(h, &d->prospects, "Prospects: non-buyers most likely to convert", "prospects.csv");
    fprintf(h->f, "</section>\n");
}

void html_section_profiles(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    if (!d->nprofiles)
        return;
    fprintf(h->f, "<section id=\"profiles\"><h2>Profiles</h2><p class=\"note\">Segment and "
            "tier figures by the archive's profile columns; users without a profile row are "
            "counted as &ldquo;no profile&rdquo;, apart from a profile's own &ldquo;unknown&rdquo;."
            "</p>\n");
    for (int i = 0; i < d->nprofiles; i++) {
        const cs_table *t = &d->profiles[i];
        const char *name = t->path + strlen("/profiles/");
        char pretty[256];
        doc_pretty_name(name, pretty, sizeof pretty);
        for (char *p = pretty; *p; p++)
            if (*p == '/')
                *p = ' ';
        fprintf(h->f, "<h3>By ");
        xml_puts(h->f, pretty);
        fprintf(h->f, "</h3>\n");
        static const char *const xfirst[] = {"value", "users", "purchase_sessions", "revenue",
                                             NULL};
        html_table(h, t, xfirst, 500, 0);
        for (int k = 0; k < t->nskipped; k++) {
            fprintf(h->f, "<p class=\"note\">Not shown: ");
            xml_puts(h->f, t->path);
            fprintf(h->f, "/");
            xml_puts(h->f, t->skipped[k]);
            fprintf(h->f, "</p>\n");
        }
    }
    fprintf(h->f, "</section>\n");
}
