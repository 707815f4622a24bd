/* report_html_int.h — private to report_html.c and report_html_opt.c (not
 * a public header): the page's shared helpers and the optional sections
 * (tiers, RFM segments, targets, prospects, profile cross-tabs). */
#ifndef CLICKSEG_REPORT_HTML_INT_H
#define CLICKSEG_REPORT_HTML_INT_H

#include <stdio.h>

#include "clickseg/report_doc.h"

/* What a section needs besides the report. */
typedef struct html_ctx {
    FILE *f;
    const cs_report_doc *d;
    char link_prefix[3 * 4096 + 8];   /* href prefix of files beside report.h5 ("" or "/abs/dir/",
                                       * URL-encoded: up to 3 bytes a byte) */
    cs_err err;   /* a chart that could not be drawn (out of memory): no page */
} html_ctx;

/* Fill colour of segment s (bots grey, the others a colour-blind-safe palette). */
const char *html_seg_color(const cs_report_doc *d, int s);

/* The i-th colour of the palette (for tiers, RFM segments, ...). */
const char *html_palette(int i);

/* Axis tick formatters for svg charts (ctx: the currency for money). */
void html_tick_money(char *buf, size_t n, double v, const void *ctx);
void html_tick_pct(char *buf, size_t n, double v, const void *ctx);

/* A table of any report.h5 group: `first` (NULL-ended, may be NULL) names
 * columns to put first, the others follow in file order; cells are
 * formatted by column name (money, shares, ids, counts; integer tier and
 * RFM codes as their names; profile codes as labels); at most max_rows
 * rows, with a note saying how many there are; numbered: a leading "#"
 * column of row numbers. */
void html_table(html_ctx *h, const cs_table *t, const char *const *first, uint64_t max_rows,
                int numbered);

/* Whether a file beside report.h5 exists. */
int html_file_beside(const html_ctx *h, const char *name);

/* Optional sections: each writes nothing when its table is absent.
 * html_opt_nav adds their entries to the page's navigation. */
void html_opt_nav(html_ctx *h);
void html_section_tiers(html_ctx *h);
void html_section_targets(html_ctx *h);
void html_section_profiles(html_ctx *h);

/* "About this run" (report_html_meta.c). */
void html_section_run(html_ctx *h);

#endif
