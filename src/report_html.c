/* report_html.c — report.html, the page analysts read (see html.h): the
 * skeleton, the style sheet and the sections every report has. Optional
 * sections (tiers, targets, profiles) are in report_html_opt.c. Everything
 * on the page comes from report.h5 through cs_report_doc. */
#include "clickseg/html.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/numfmt.h"
#include "clickseg/svg.h"
#include "report_html_int.h"

static const char css[] =
    ":root{--fg:#1f2328;--muted:#5f6670;--line:#d8dce1;--accent:#005a8f}\n"
    "*{box-sizing:border-box}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:var(--fg);background:#f5f6f8;margin:0}\n"
    "main{max-width:1060px;margin:0 auto;padding:22px 20px 40px}\n"
    "h1{font-size:26px;margin:0 0 2px}h2{font-size:18px;margin:0 0 10px}"
    "h3{font-size:14px;margin:14px 0 4px}\n"
    ".sub,.note{color:var(--muted)}.note{font-size:12px;margin:4px 0}\n"
    "nav{margin:12px 0 4px;font-size:13px}nav a{margin-right:14px;color:var(--accent);"
    "text-decoration:none}\n"
    "section{background:#fff;border:1px solid var(--line);border-radius:8px;"
    "padding:16px 20px;margin:14px 0}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px}\n"
    ".card{border:1px solid var(--line);border-radius:6px;padding:9px 12px}\n"
    ".card .v{font-size:21px;font-weight:600}.card .k{color:var(--muted);font-size:12px}\n"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(470px,1fr));gap:6px 24px}\n"
    "figure{margin:6px 0 12px;break-inside:avoid}figcaption{font-weight:600;margin:0 0 4px}\n"
    "svg.chart{max-width:100%;height:auto;display:block}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0}\n"
    "th,td{padding:4px 9px;border-bottom:1px solid #e8eaed;text-align:left;white-space:nowrap}\n"
    "th{background:#f1f3f5;font-weight:600}.num{text-align:right;"
    "font-variant-numeric:tabular-nums}\n"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:0}"
    "dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
    "footer{color:var(--muted);font-size:12px;margin-top:18px}\n"
    "@media print{body{background:#fff;font-size:11px}nav{display:none}main{max-width:none;"
    "padding:0}section{border:none;padding:0;margin:10px 0}.grid2{display:block}}\n";

/* ---- shared helpers (report_html_int.h) ---- */

static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#D55E00", "#7a5195", "#F0E442"};

const char *html_palette(int i)
{
    return palette[(i < 0 ? 0 : i) % (int)(sizeof palette / sizeof palette[0])];
}

const char *html_seg_color(const cs_report_doc *d, int s)
{
    if (!doc_seg_business(d, s))
        return "#8a8f98";
    int k = 0;
    for (int i = 0; i < s; i++)
        k += doc_seg_business(d, i);
    return html_palette(k);
}

void html_tick_money(char *buf, size_t n, double v, const void *ctx)
{
    fmt_money_si(buf, n, v, ctx);
}

void html_tick_pct(char *buf, size_t n, double v, const void *ctx)
{
    (void)ctx;
    fmt_pct(buf, n, v, v != 0 && fabs(v) < 0.1 ? 1 : 0);
}

int html_file_beside(const html_ctx *h, const char *name)
{
    char p[2200];
    snprintf(p, sizeof p, "%s/%s", h->d->dir, name);
    return access(p, R_OK) == 0;
}

/* ---- sections every report has ---- */

static int64_t seg_i64(const cs_report_doc *d, const char *col, int s)
{
    return tcol_i64(doc_seg_col(d, col), (uint64_t)s);
}

static double seg_f64(const cs_report_doc *d, const char *col, int s)
{
    return tcol_num(doc_seg_col(d, col), (uint64_t)s);
}

static void card(FILE *f, const char *key, const char *value, const char *label, const char *note)
{
    fprintf(f, "<div class=\"card\" data-key=\"%s\"><div class=\"v\">", key);
    xml_puts(f, value);
    fprintf(f, "</div><div class=\"k\">");
    xml_puts(f, label);
    if (note && note[0]) {
        fprintf(f, " · ");
        xml_puts(f, note);
    }
    fprintf(f, "</div></div>\n");
}

static void section_totals(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    FILE *f = h->f;
    char v[NUMFMT_MAX], n[128], t[NUMFMT_MAX], u[NUMFMT_MAX];
    int64_t sessions = doc_total(d, "sessions"), bots = doc_total(d, "bot_sessions");
    fprintf(f, "<section id=\"totals\"><h2>Headline totals</h2><div class=\"cards\">\n");
    card(f, "events", fmt_int(v, sizeof v, doc_total(d, "events")), "events used", "");
    snprintf(n, sizeof n, "%s bot", fmt_int(t, sizeof t, bots));
    card(f, "sessions", fmt_int(v, sizeof v, sessions), "sessions", n);
    card(f, "users", fmt_int(v, sizeof v, doc_total(d, "users")), "visitors (users)", "");
    int64_t ps = doc_total(d, "purchase_sessions");
    snprintf(n, sizeof n, "%s of business sessions",
             fmt_pct(t, sizeof t, sessions - bots ? (double)ps / (double)(sessions - bots) : NAN, 2));
    card(f, "purchase_sessions", fmt_int(v, sizeof v, ps), "sessions with a purchase", n);
    card(f, "revenue", fmt_money(v, sizeof v, doc_total(d, "revenue"), d->currency), "revenue",
         "bots excluded");
    card(f, "refunds", fmt_money(v, sizeof v, doc_total(d, "refunds"), d->currency), "refunds", "");
    snprintf(n, sizeof n, "%s late, %s rejected", fmt_int(t, sizeof t, doc_total(d, "late_events")),
             fmt_int(u, sizeof u, doc_total(d, "rejected_events")));
    card(f, "rows_read", fmt_int(v, sizeof v, doc_total(d, "rows_read")), "rows read", n);
    fprintf(f, "</div></section>\n");
}

/* Business segments first, in file order, then the others (bots). */
static int seg_order(const cs_report_doc *d, int *order)
{
    int k = 0;
    for (int pass = 1; pass >= 0; pass--)
        for (int s = 0; s < d->nseg; s++)
            if (doc_seg_business(d, s) == pass)
                order[k++] = s;
    return k;
}

static void share_chart(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    svg_bar bars[64];
    char labels[64][96], texts[64][96];
    int order[64], n = seg_order(d, order);
    for (int i = 0; i < n && i < 64; i++) {
        int s = order[i];
        char name[80], p[NUMFMT_MAX], c[NUMFMT_MAX];
        doc_pretty_name(doc_seg_name(d, s), name, sizeof name);
        snprintf(labels[i], sizeof labels[i], "%s%s", name, doc_seg_business(d, s) ? "" : " *");
        snprintf(texts[i], sizeof texts[i], "%s (%s)", fmt_pct(p, sizeof p, seg_f64(d, "share", s), 1),
                 fmt_int(c, sizeof c, seg_i64(d, "sessions", s)));
        double share = seg_f64(d, "share", s);   /* NaN: no sessions to share */
        bars[i] = (svg_bar){doc_seg_name(d, s), labels[i], texts[i], html_seg_color(d, s),
                            isnan(share) ? 0 : share};
    }
    svg_bar_chart c = {.id = "segment-share", .title = "Share of sessions by segment",
                       .axis_label = "share of sessions (%; sessions in brackets)", .vmax = 0,
                       .tick_fmt = html_tick_pct, .n = n, .bars = bars};
    fprintf(h->f, "<figure><figcaption>Share of sessions by segment</figcaption>\n");
    svg_bar_chart_write(h->f, &c);
    fprintf(h->f, "<p class=\"note\">Business segments: share of non-bot sessions. "
            "* Bots: share of all sessions, kept out of the business figures.</p></figure>\n");
}

/* A quantile of whole seconds: "39 s" and "0 s" under a minute (fmt_duration's
 * "39.0 s" and "0 ms" would claim a precision the bins do not have). */
static char *whole_seconds(char *buf, size_t n, int64_t s)
{
    if (s >= 0 && s < 60)
        snprintf(buf, n, "%lld s", (long long)s);
    else
        fmt_duration(buf, n, (double)s);
    return buf;
}

static void segment_table(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    FILE *f = h->f;
    static const char *const head[] = {"Segment", "Sessions", "Share of sessions", "Users", "Conversion",
        "Revenue", "Refunds", "Cart abandonment"};
    fprintf(f, "<div class=\"scroll\"><table id=\"segment-table\"><tr>");
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        fprintf(f, "<th%s>%s</th>", i ? " class=\"num\"" : "", head[i]);
    fprintf(f, "</tr>\n");
    int order[64], n = seg_order(d, order);
    for (int i = 0; i < n; i++) {
        int s = order[i];
        char name[80], a[NUMFMT_MAX];
        doc_pretty_name(doc_seg_name(d, s), name, sizeof name);
        fprintf(f, "<tr data-key=\"");
        xml_puts(f, doc_seg_name(d, s));
        fprintf(f, "\"><td><span class=\"sw\" style=\"background:%s\"></span>", html_seg_color(d, s));
        xml_puts(f, name);
        fprintf(f, "</td><td class=\"num\">%s</td>", fmt_int(a, sizeof a, seg_i64(d, "sessions", s)));
        fprintf(f, "<td class=\"num\">%s</td>", fmt_pct(a, sizeof a, seg_f64(d, "share", s), 1));
        fprintf(f, "<td class=\"num\">%s</td>", fmt_int(a, sizeof a, seg_i64(d, "users", s)));
        fprintf(f, "<td class=\"num\">%s</td>", fmt_pct(a, sizeof a, seg_f64(d, "conversion", s), 2));
        fprintf(f, "<td class=\"num\">%s</td>", fmt_money(a, sizeof a, seg_i64(d, "revenue", s), d->currency));
        fprintf(f, "<td class=\"num\">%s</td>", fmt_money(a, sizeof a, seg_i64(d, "refunds", s), d->currency));
        fprintf(f, "<td class=\"num\">%s</td>", fmt_pct(a, sizeof a, seg_f64(d, "cart_abandonment", s), 1));
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div>\n<h3>Session length</h3><div class=\"scroll\"><table "
            "id=\"length-table\"><tr><th>Segment</th><th class=\"num\">Mean events</th>"
            "<th class=\"num\">Events p50 / p90 / p99</th><th class=\"num\">Mean duration</th>"
            "<th class=\"num\">Duration p50 / p90 / p99</th></tr>\n");
    for (int i = 0; i < n; i++) {
        int s = order[i];
        char name[80], a[NUMFMT_MAX], b[NUMFMT_MAX], c[NUMFMT_MAX];
        doc_pretty_name(doc_seg_name(d, s), name, sizeof name);
        fprintf(f, "<tr><td>");
        xml_puts(f, name);
        if (seg_i64(d, "sessions", s) == 0) {   /* no sessions: no lengths (the page's dash) */
            fprintf(f, "</td><td class=\"num\">–</td><td class=\"num\">– / – / –</td>"
                    "<td class=\"num\">–</td><td class=\"num\">– / – / –</td></tr>\n");
            continue;
        }
        fprintf(f, "</td><td class=\"num\">%s</td>", fmt_fixed(a, sizeof a, seg_f64(d, "mean_events", s), 1));
        fprintf(f, "<td class=\"num\">%lld / %lld / %lld</td>",
                (long long)seg_i64(d, "events_p50", s), (long long)seg_i64(d, "events_p90", s),
                (long long)seg_i64(d, "events_p99", s));
        fprintf(f, "<td class=\"num\">%s</td>", fmt_duration(a, sizeof a, seg_f64(d, "mean_duration_s", s)));
        whole_seconds(a, sizeof a, seg_i64(d, "duration_s_p50", s));
        whole_seconds(b, sizeof b, seg_i64(d, "duration_s_p90", s));
        whole_seconds(c, sizeof c, seg_i64(d, "duration_s_p99", s));
        fprintf(f, "<td class=\"num\">%s / %s / %s</td></tr>\n", a, b, c);
    }
    fprintf(f, "</table></div><p class=\"note\">Quantiles come from fixed histogram bins (at "
            "most 25%% wide) and show the bin's upper end. A dash: no sessions.</p>\n");
}

static const char *period_word(const cs_report_doc *d)
{
    return strcmp(d->period, "week") == 0 ? "week" : strcmp(d->period, "month") == 0 ? "month" : "day";
}

/* Periods in a rolling average when there are too many to read one by one
 * (0: none): four weeks of days, eight weeks, three months. */
static int rolling_window(const cs_report_doc *d, uint64_t points)
{
    if (points <= 120)
        return 0;
    return strcmp(d->period, "week") == 0 ? 8 : strcmp(d->period, "month") == 0 ? 3 : 28;
}

/* num/den per period (NaN where den is 0) and, with w > 0, the ratio of
 * sums over the last w periods. */
static void ratio_series(const double *num, const double *den, uint64_t np, int w, double *y,
                         double *avg)
{
    double sn = 0, sd = 0;
    for (uint64_t p = 0; p < np; p++) {
        y[p] = den[p] > 0 ? num[p] / den[p] : NAN;
        sn += num[p];
        sd += den[p];
        if (w > 0 && p >= (uint64_t)w) {
            sn -= num[p - (uint64_t)w];
            sd -= den[p - (uint64_t)w];
        }
        avg[p] = w > 0 && p + 1 >= (uint64_t)w && sd > 0 ? sn / sd : NAN;
    }
}

/* One small line chart per business segment of `what` ("share" or
 * "conversion") over the periods. */
static void time_panels(html_ctx *h, const doc_axis *ax, const char *what, const char *caption)
{
    const cs_report_doc *d = h->d;
    uint64_t np = ax->n, ns = (uint64_t)d->nseg;
    int share = strcmp(what, "share") == 0, w = rolling_window(d, np);
    double *buf = cs_malloc(4 * (np + 1) * sizeof *buf, &h->err, "the charts over time");
    if (!buf)
        return;
    double *num = buf, *den = buf + np + 1, *y = den + np + 1, *avg = y + np + 1;
    const cs_tcol *ses = doc_period_col(d, "sessions"), *pur = doc_period_col(d, "purchase_sessions");
    fprintf(h->f, "<h3>%s</h3><div class=\"grid2\">\n", caption);
    for (int s = 0; s < d->nseg; s++) {
        if (!doc_seg_business(d, s))
            continue;
        for (uint64_t i = 0; i < np; i++) {
            num[i] = den[i] = 0;   /* a period without sessions: 0/0, a gap */
            if (ax->row[i] < 0)
                continue;
            uint64_t p = (uint64_t)ax->row[i];
            double mine = (double)tcol_i64(ses, p * ns + (uint64_t)s), all = 0;
            for (int k = 0; k < d->nseg; k++)
                all += doc_seg_business(d, k) ? (double)tcol_i64(ses, p * ns + (uint64_t)k) : 0;
            num[i] = share ? mine : (double)tcol_i64(pur, p * ns + (uint64_t)s);
            den[i] = share ? all : mine;
        }
        ratio_series(num, den, np, w, y, avg);
        char name[80], id[160], title[200], avg_name[64], avg_key[100];
        doc_pretty_name(doc_seg_name(d, s), name, sizeof name);
        snprintf(id, sizeof id, "%s-%s", what, doc_seg_name(d, s));
        snprintf(title, sizeof title, "%s: %s per %s", name,
                 share ? "share of business sessions" : "sessions with a purchase", period_word(d));
        snprintf(avg_name, sizeof avg_name, "%d-%s average", w, period_word(d));
        snprintf(avg_key, sizeof avg_key, "%s-avg", doc_seg_name(d, s));
        char raw_name[32];
        snprintf(raw_name, sizeof raw_name, "per %s", period_word(d));
        svg_series ser[2] = {{doc_seg_name(d, s), w ? raw_name : name, html_seg_color(d, s), y, w ? 1.0 : 0,
                              w ? 0.4 : 0},
                             {avg_key, avg_name, html_seg_color(d, s), avg, 2.2, 0}};
        svg_line_chart c = {.id = id, .title = title, .x_label = period_word(d),
                            .y_label = share ? "share of sessions, %" : "conversion, %",
                            .width = 500, .height = 210, .n = np, .x_labels = ax->labels,
                            .nseries = w ? 2 : 1, .series = ser, .tick_fmt = html_tick_pct};
        fprintf(h->f, "<figure><figcaption>");
        xml_puts(h->f, name);
        fprintf(h->f, "</figcaption>\n");
        svg_line_chart_write(h->f, &c);
        fprintf(h->f, "</figure>\n");
    }
    fprintf(h->f, "</div>\n");
    free(buf);
}

static void section_over_time(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    fprintf(h->f, "<section id=\"over-time\"><h2>Over time</h2>\n");
    if (d->nperiods == 0) {
        fprintf(h->f, "<p>No sessions, so no periods.</p></section>\n");
        return;
    }
    doc_axis ax;
    double *tot = NULL;
    if (doc_period_axis(d, &ax, &h->err) == CS_OK)
        tot = cs_malloc(ax.n * sizeof *tot, &h->err, "the sessions chart");
    if (tot) {
        const cs_tcol *ses = doc_period_col(d, "sessions");
        for (uint64_t i = 0; i < ax.n; i++) {
            tot[i] = 0;
            for (int s = 0; ax.row[i] >= 0 && s < d->nseg; s++)
                tot[i] += (double)tcol_i64(ses, (uint64_t)ax.row[i] * (uint64_t)d->nseg + (uint64_t)s);
        }
        char x[NUMFMT_MAX], y[NUMFMT_MAX];
        const char *pw = period_word(d);
        if (ax.filled)
            fprintf(h->f, "<p class=\"note\">%s %s%s, %s to %s, in %s; %s with sessions (a %s "
                    "without any shows as 0 sessions). One point per %s; a gap: no sessions of "
                    "that segment.</p>\n", fmt_uint(x, sizeof x, ax.n), pw, ax.n == 1 ? "" : "s",
                    ax.labels[0], ax.labels[ax.n - 1], d->timezone,
                    fmt_uint(y, sizeof y, d->nperiods), pw, pw);
        else   /* no calendar to walk: the axis steps from one period with sessions to the next */
            fprintf(h->f, "<p class=\"note\">%s %s%s with sessions, %s to %s, in %s (a %s "
                    "without any is left out of the axis). One point per %s; a gap: no "
                    "sessions of that segment.</p>\n", fmt_uint(x, sizeof x, ax.n), pw,
                    ax.n == 1 ? "" : "s", ax.labels[0], ax.labels[ax.n - 1], d->timezone, pw, pw);
        svg_series ser = {"sessions", "all sessions", "#444b55", tot, 0, 0};
        char title[100];
        snprintf(title, sizeof title, "Sessions per %s (all segments)", pw);
        svg_line_chart c = {.id = "sessions-over-time", .title = title, .y_label = "sessions",
                            .x_label = pw, .width = 1000, .height = 220, .n = ax.n,
                            .x_labels = ax.labels, .nseries = 1, .series = &ser};
        fprintf(h->f, "<figure><figcaption>%s</figcaption>\n", title);
        svg_line_chart_write(h->f, &c);
        fprintf(h->f, "</figure>\n");
        time_panels(h, &ax, "share", "Segment share of business sessions");
        time_panels(h, &ax, "conversion", "Conversion: share of the segment's sessions with a purchase");
    }
    free(tot);
    doc_axis_free(&ax);
    fprintf(h->f, "<p class=\"note\">Every number per %s: <a href=\"", period_word(d));
    xml_puts(h->f, h->link_prefix);   /* URL-encoded already; escaped as every href is */
    fprintf(h->f, "periods.csv\">periods.csv</a>.</p></section>\n");
}

static void section_funnels(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    static const char *const steps[] = {"product_view_sessions", "cart_sessions",
                                        "checkout_sessions", "purchase_sessions"};
    static const char *const names[] = {"Viewed a product", "Added to cart", "Checked out",
                                        "Purchased"};
    fprintf(h->f, "<section id=\"funnels\"><h2>Funnel per segment</h2><p class=\"note\">Sessions "
            "of each segment that reached a step (a session counts at every step it "
            "contains); percentages of the segment's sessions.</p><div class=\"grid2\">\n");
    int order[64], n = seg_order(d, order);
    for (int i = 0; i < n; i++) {
        int s = order[i];
        int64_t all = seg_i64(d, "sessions", s);
        svg_bar bars[4];
        char texts[4][96], name[80], id[160], title[160], a[NUMFMT_MAX], b[NUMFMT_MAX];
        for (int k = 0; k < 4; k++) {
            int64_t v = seg_i64(d, steps[k], s);
            snprintf(texts[k], sizeof texts[k], "%s (%s)", fmt_int(a, sizeof a, v),
                     fmt_pct(b, sizeof b, all ? (double)v / (double)all : 0, 1));
            bars[k] = (svg_bar){steps[k], names[k], texts[k], html_seg_color(d, s), (double)v};
        }
        doc_pretty_name(doc_seg_name(d, s), name, sizeof name);
        snprintf(id, sizeof id, "funnel-%s", doc_seg_name(d, s));
        snprintf(title, sizeof title, "%s: %s sessions", name, fmt_int(a, sizeof a, all));
        svg_bar_chart c = {.id = id, .title = title, .axis_label = "sessions", .width = 500,
                           .label_width = 130, .vmax = all > 0 ? (double)all : 1, .n = 4,
                           .bars = bars};
        fprintf(h->f, "<figure><figcaption>");
        xml_puts(h->f, title);
        fprintf(h->f, "</figcaption>\n");
        svg_bar_chart_write(h->f, &c);
        fprintf(h->f, "</figure>\n");
    }
    fprintf(h->f, "</div></section>\n");
}

static void section_revenue(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    svg_bar bars[64];
    char labels[64][96], texts[64][96];
    int order[64], n = seg_order(d, order);
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += seg_i64(d, "revenue", order[i]);
    for (int i = 0; i < n; i++) {
        int s = order[i];
        char name[80], m[NUMFMT_MAX], p[NUMFMT_MAX];
        int64_t r = seg_i64(d, "revenue", s);
        doc_pretty_name(doc_seg_name(d, s), name, sizeof name);
        snprintf(labels[i], sizeof labels[i], "%s%s", name, doc_seg_business(d, s) ? "" : " *");
        snprintf(texts[i], sizeof texts[i], "%s (%s)", fmt_money(m, sizeof m, r, d->currency),
                 fmt_pct(p, sizeof p, total ? (double)r / (double)total : 0, 1));
        bars[i] = (svg_bar){doc_seg_name(d, s), labels[i], texts[i], html_seg_color(d, s), (double)r};
    }
    char axis[96];
    snprintf(axis, sizeof axis, "revenue%s%s%s", d->currency[0] ? " (" : "", d->currency,
             d->currency[0] ? ")" : " (minor units / 100)");
    svg_bar_chart c = {.id = "revenue-by-segment", .title = "Revenue by segment",
                       .axis_label = axis, .tick_fmt = html_tick_money, .tick_ctx = d->currency,
                       .n = n, .bars = bars};
    fprintf(h->f, "<section id=\"revenue\"><h2>Revenue</h2>\n<figure><figcaption>Revenue by "
            "segment</figcaption>\n");
    svg_bar_chart_write(h->f, &c);
    fprintf(h->f, "<p class=\"note\">Sum of purchase prices per segment; percentages of the "
            "segments' sum. * Bot revenue is not in the headline total.</p></figure>\n");
    html_section_tiers(h);   /* revenue by tier and the tier mix, when ranked */
    fprintf(h->f, "</section>\n");
}

static void page_head(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    FILE *f = h->f;
    char x[NUMFMT_MAX], first[64] = "", last[64] = "";
    if (d->nperiods) {
        snprintf(first, sizeof first, "%s", doc_period_label(d, 0));
        snprintf(last, sizeof last, "%s", doc_period_label(d, d->nperiods - 1));
    }
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"generator\" content=\"clickseg\">\n<title>Segment report %s – %s</title>\n"
            "<style>\n%s</style>\n</head>\n<body>\n<main>\n<header><h1>Segment report</h1>\n"
            "<p class=\"sub\">", first, last, css);
    if (d->nperiods)
        fprintf(f, "%s – %s · %s %ss (%s) · ", first, last, fmt_uint(x, sizeof x, d->nperiods),
                period_word(d), d->timezone);
    fprintf(f, "finished %s</p></header>\n<nav><a href=\"#totals\">Totals</a><a href=\"#segments\">"
            "Segments</a><a href=\"#over-time\">Over time</a><a href=\"#funnels\">Funnels</a>"
            "<a href=\"#revenue\">Revenue</a>", h5table_attr_str(&d->run, "finished_utc", "?"));
    html_opt_nav(h);
    fprintf(f, "<a href=\"#run\">About this run</a></nav>\n");
}

static int render(html_ctx *h)
{
    page_head(h);
    section_totals(h);
    fprintf(h->f, "<section id=\"segments\"><h2>Segments</h2>\n");
    share_chart(h);
    segment_table(h);
    fprintf(h->f, "</section>\n");
    section_over_time(h);
    section_funnels(h);
    section_revenue(h);
    html_section_targets(h);
    html_section_profiles(h);
    html_section_run(h);
    fprintf(h->f, "<footer>Written by clickseg from %s (report format %lld). This page is one "
            "self-contained file: no scripts, fonts or network.</footer>\n</main>\n</body>\n"
            "</html>\n", "report.h5", (long long)h5table_attr_i64(&h->d->root, "version", 0));
    return ferror(h->f) ? -1 : 0;
}

/* path as a URL path: bytes other than letters, digits, "-._~/" as %XX,
 * so that a directory named "a#1" or "x<y" neither cuts the link at an
 * anchor nor puts markup into the page. */
static void url_path(const char *path, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && k + 4 < n; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p)) {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    out[k] = '\0';
}

/* The href prefix of files beside report.h5, seen from the page: "" or
 * the directory's absolute path, URL-encoded. */
static void link_prefix(const cs_report_doc *d, const char *html_path, char *out, size_t n)
{
    char hdir[PATH_MAX], rdir[PATH_MAX], tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", html_path);
    char *slash = strrchr(tmp, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(tmp, sizeof tmp, ".");
    const char *dir = rdir;
    if (!realpath(slash == tmp ? "/" : tmp, hdir) || !realpath(d->dir, rdir))
        dir = d->dir;
    else if (strcmp(hdir, rdir) == 0) {
        out[0] = '\0';
        return;
    }
    url_path(dir, out, n > 1 ? n - 1 : n);
    strcat(out, "/");
}

int report_html_write(const cs_report_doc *d, const char *html_path, cs_err *err)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", html_path, (int)getpid());
    html_ctx h = {.d = d};
    link_prefix(d, html_path, h.link_prefix, sizeof h.link_prefix);
    h.f = fopen(tmp, "w");
    /* Named as the user gave it: the temporary name is ours. */
    if (!h.f)
        return cs_err_set(err, CS_EIO, "%s: cannot write: %s", html_path,
                          errno == ENOENT ? "its directory does not exist" : strerror(errno));
    int bad = render(&h);
    if ((fclose(h.f) != 0) | bad | (h.err.code != CS_OK)) {
        unlink(tmp);
        if (h.err.code != CS_OK) {   /* a page without a chart is not the report */
            *err = h.err;
            return cs_err_wrap(err, "%s", html_path);
        }
        return cs_err_set(err, CS_EIO, "%s: write failed (disk full?)", html_path);
    }
    if (rename(tmp, html_path) != 0) {
        int rc = cs_err_set(err, CS_EIO, "%s: cannot move into place: %m", html_path);
        unlink(tmp);
        return rc;
    }
    return CS_OK;
}

int report_html_render_dir(const char *dir, cs_err *err)
{
    cs_report_doc d;
    int rc = report_doc_load(dir, &d, err);
    if (rc == CS_OK) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/report.html", dir);
        rc = report_html_write(&d, path, err);
    }
    report_doc_free(&d);
    return rc;
}
