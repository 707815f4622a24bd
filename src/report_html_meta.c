/* report_html_meta.c — the page's "About this run" section (see
 * report_html_int.h): inputs, ranks, windows, time, memory, configuration,
 * per-phase times, and the members of report.h5 the page does not show. */
#include <math.h>
#include <string.h>

#include "clickseg/numfmt.h"
#include "clickseg/svg.h"
#include "report_html_int.h"

static void meta_row(FILE *f, const char *k, const char *v)
{
    fprintf(f, "<dt>%s</dt><dd>", k);
    xml_puts(f, v);
    fprintf(f, "</dd>\n");
}

/* Root members the page shows (or reads as attributes). */
static int known_root_member(const char *name)
{
    static const char *const known[] = {"totals", "segments", "periods", "config", "run",
        "tiers", "rfm_segments", "targets", "prospects", "profiles", NULL};
    for (int i = 0; known[i]; i++)
        if (strcmp(name, known[i]) == 0)
            return 1;
    return 0;
}

static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

void html_section_run(html_ctx *h)
{
    const cs_report_doc *d = h->d;
    const cs_table *r = &d->run, *c = &d->config;
    FILE *f = h->f;
    char a[NUMFMT_MAX], b[NUMFMT_MAX], l[NUMFMT_MAX], t[256];
    fprintf(f, "<section id=\"run\"><h2>About this run</h2><dl class=\"meta\">\n");
    meta_row(f, "Archive (inputs)", h5table_attr_str(r, "inputs", ""));
    int64_t files = h5table_attr_i64(r, "files", 0), windows = h5table_attr_i64(r, "windows", 0);
    int64_t ranks = h5table_attr_i64(r, "ranks", 0);
    /* `clickseg merge` reads reports, not windows of an archive */
    int merged = windows == 0;
    snprintf(t, sizeof t, "%s %s%s, %s rows", fmt_int(a, sizeof a, files),
             merged ? plural(files, "report", "reports") : plural(files, "file", "files"),
             merged ? " merged" : "", fmt_int(b, sizeof b, h5table_attr_i64(r, "rows", 0)));
    meta_row(f, "Read", t);
    if (merged)
        snprintf(t, sizeof t, "%lld MPI %s (clickseg merge)", (long long)ranks,
                 plural(ranks, "rank", "ranks"));
    else
        snprintf(t, sizeof t, "%lld MPI %s, %s %s of up to %s rows", (long long)ranks,
                 plural(ranks, "rank", "ranks"), fmt_int(a, sizeof a, windows),
                 plural(windows, "window", "windows"),
                 fmt_int(b, sizeof b, h5table_attr_i64(r, "window_rows", 0)));
    meta_row(f, merged ? "Ranks" : "Ranks and windows", t);
    meta_row(f, "Wall time", fmt_duration(a, sizeof a, h5table_attr_f64(r, "wall_s", NAN)));
    snprintf(t, sizeof t, "%s on the largest rank, %s on rank 0",
             fmt_mib(a, sizeof a, h5table_attr_f64(r, "peak_rss_mib_max", 0)),
             fmt_mib(b, sizeof b, h5table_attr_f64(r, "peak_rss_mib_rank0", 0)));
    meta_row(f, "Peak memory (RSS)", t);
    meta_row(f, "Finished (UTC)", h5table_attr_str(r, "finished_utc", ""));
    snprintf(t, sizeof t, "%s (hash %s)", h5table_attr_str(c, "source", "?"), h5table_attr_str(c, "hash", "?"));
    meta_row(f, "Configuration", t);
    snprintf(t, sizeof t, "gap %s, max duration %s, max lateness %s, mode %s",
             fmt_duration(a, sizeof a, (double)h5table_attr_i64(c, "session_gap_s", 0)),
             h5table_attr_i64(c, "session_max_duration_s", 0) ? fmt_duration(b, sizeof b,
                 (double)h5table_attr_i64(c, "session_max_duration_s", 0)) : "none",
             fmt_duration(l, sizeof l, (double)h5table_attr_i64(c, "session_max_lateness_s", 0)),
             h5table_attr_str(c, "session_mode", "?"));
    meta_row(f, "Sessions", t);
    snprintf(t, sizeof t, "%s per rank", fmt_mib(a, sizeof a, (double)h5table_attr_i64(c, "memory_per_rank", 0) / 1048576.0));
    meta_row(f, "Memory budget", t);
    snprintf(t, sizeof t, "%s, timezone %s, currency %s", d->period, d->timezone,
             d->currency[0] ? d->currency : "not given (amounts shown without a symbol)");
    meta_row(f, "Report", t);
    /* one real path a line: the dictionaries a merge looks user keys up in */
    const char *dicts = h5table_attr_str(r, "dictionaries", "");
    if (dicts[0]) {
        fprintf(f, "<dt>User dictionaries</dt><dd>");
        for (const char *p = dicts; *p; ) {
            size_t len = strcspn(p, "\n");
            char one[1100];
            snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one - 1 ? len : sizeof one - 1), p);
            xml_puts(f, one);
            p += len;
            if (*p) {
                fprintf(f, "<br>");
                p++;
            }
        }
        fprintf(f, "</dd>\n");
    }
    fprintf(f, "</dl>\n");
    /* per-phase times */
    const cs_tcol *ph = h5table_col(r, "phase"), *sec = h5table_col(r, "seconds");
    const cs_tcol *fast = h5table_col(r, "seconds_fastest");
    svg_bar bars[32];
    char texts[32][2 * NUMFMT_MAX + 16];
    int n = 0;
    for (uint64_t i = 0; i < r->nrows && n < 32; i++, n++) {
        fmt_duration(texts[n], sizeof texts[n], tcol_num(sec, i));
        if (fast) {   /* a wide gap is a rank the others waited for */
            char q[NUMFMT_MAX];
            size_t at = strlen(texts[n]);
            snprintf(texts[n] + at, sizeof texts[n] - at, " (fastest %s)",
                     fmt_duration(q, sizeof q, tcol_num(fast, i)));
        }
        bars[n] = (svg_bar){tcol_str(ph, i), tcol_str(ph, i), texts[n], "#5f7d95", tcol_num(sec, i)};
    }
    svg_bar_chart ch = {.id = "phase-times", .title = "Time per phase (slowest rank; fastest in brackets)",
                        .axis_label = "seconds", .width = 600, .label_width = 110, .n = n, .bars = bars};
    fprintf(f, "<figure><figcaption>Time per phase (slowest rank; fastest in brackets)"
            "</figcaption>\n");
    svg_bar_chart_write(f, &ch);
    fprintf(f, "</figure>\n");
    /* members of report.h5 the page does not show */
    const cs_table *all[] = {&d->root, &d->totals, &d->segments, &d->periods, &d->config, &d->run,
                             &d->tiers, &d->rfm, &d->targets, &d->prospects};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        for (int k = 0; k < all[i]->nskipped; k++)
            if (i > 0 || !known_root_member(all[i]->skipped[k])) {
                fprintf(f, "<p class=\"note\">Not shown: %s/", strcmp(all[i]->path, "/") ? all[i]->path : "");
                xml_puts(f, all[i]->skipped[k]);
                fprintf(f, " in report.h5.</p>\n");
            }
    fprintf(f, "</section>\n");
}

