/* report_summary.c — rank 0's summary outputs: report.json and the CSV
 * tables (totals.csv, segments.csv, periods.csv), from reduced statistics.
 * Numbers that are counts or money are written as integers; shares and
 * rates are derived from them, so they are identical for any rank count. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clickseg/html.h"
#include "clickseg/period.h"
#include "clickseg/report.h"

const char *const report_outputs[] = {"report.json", "report.h5", "report.html",
                                      "customers.h5", "sessions.h5", "segments.csv",
                                      "periods.csv", "totals.csv", "targets.csv",
                                      "prospects.csv", "tiers.csv", "rfm_segments.csv",
                                      "profiles.csv", NULL};

/* report.h5 lives in report_h5.c. */
int report_write_h5(const char *dir, const cs_config *cfg, const cs_stats *st,
                    const cs_ranking *rk, const cs_run_meta *meta, cs_err *err);
/* The ranking sections live in report_rank.c. */
int report_rank_json(FILE *f, const cs_config *cfg, const cs_ranking *r);
int report_rank_csv(const char *dir, const cs_config *cfg, const cs_ranking *r, cs_err *err);

void report_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* v with `digits` significant digits, always as a real number: a ratio
 * of exactly 0 or 1 written "0" or "1" made pandas read a whole column of
 * them as integers (and json.load give an int), where report.h5 holds
 * doubles. */
static void put_real(FILE *f, double v, int digits)
{
    char b[40];
    snprintf(b, sizeof b, "%.*g", digits, v);
    fputs(b, f);
    if (!strpbrk(b, ".e"))
        fputs(".0", f);
}

void report_json_ratio(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", f);
    else
        put_real(f, v, 17);
}

void report_csv_ratio(FILE *f, double v)
{
    if (!isnan(v) && !isinf(v))
        put_real(f, v, 10);
}

/* The currency the report shows: the config's, else the archive's. */
static const char *report_currency(const cs_config *cfg, const cs_run_meta *m)
{
    return cfg->report_currency[0] ? cfg->report_currency : m->currency;
}

static void json_totals(FILE *f, const cs_totals *t)
{
    fprintf(f, "  \"totals\": {\"events\": %lld, \"sessions\": %lld, \"users\": %lld, "
            "\"purchase_sessions\": %lld, \"revenue\": %lld, \"refunds\": %lld, "
            "\"bot_sessions\": %lld, \"bot_events\": %lld, \"late_events\": %lld, "
            "\"rejected_events\": %lld, \"rows_read\": %lld},\n",
            (long long)t->events, (long long)t->sessions, (long long)t->users,
            (long long)t->purchase_sessions, (long long)t->revenue, (long long)t->refunds,
            (long long)t->bot_sessions, (long long)t->bot_events, (long long)t->late_events,
            (long long)t->rejected_events, (long long)t->rows_read);
}

/* A quantile of a histogram as text: "" for an empty one (stats_quantile's
 * -1), so a CSV cell reads as missing (pandas NaN) and JSON gets null,
 * not a -1 that a mean or a plot would take for a value. */
static const char *quantile_text(char *buf, size_t n, const int64_t *hist, double q,
                                 const char *none)
{
    int64_t v = stats_quantile(hist, q);
    if (v < 0)
        return none;
    snprintf(buf, n, "%lld", (long long)v);
    return buf;
}

static void json_quantiles(FILE *f, const char *name, const int64_t *hist)
{
    char a[24], b[24], c[24];
    fprintf(f, "\"%s\": {\"p50\": %s, \"p90\": %s, \"p99\": %s}", name,
            quantile_text(a, sizeof a, hist, 0.5, "null"),
            quantile_text(b, sizeof b, hist, 0.9, "null"),
            quantile_text(c, sizeof c, hist, 0.99, "null"));
}

static void json_segments(FILE *f, const cs_config *cfg, const cs_stats *st)
{
    const cs_rules *r = &cfg->rules;
    fprintf(f, "  \"segments\": [\n");
    for (int s = 0; s < st->nseg; s++) {
        const cs_segstat *g = &st->seg[s];
        fprintf(f, "    {\"name\": ");
        report_json_str(f, r->segments[s]);
        fprintf(f, ", \"business\": %s, \"sessions\": %lld, \"share\": ",
                s == r->bot_segment ? "false" : "true", (long long)g->sessions);
        report_json_ratio(f, stats_share(st, s, r->bot_segment));
        fprintf(f, ", \"users\": %lld, \"events\": %lld, \"purchase_sessions\": %lld, "
                "\"purchases\": %lld, \"conversion\": ", (long long)g->users,
                (long long)g->events, (long long)g->purchase_sessions, (long long)g->purchases);
        report_json_ratio(f, stats_ratio(g->purchase_sessions, g->sessions));
        fprintf(f, ", \"revenue\": %lld, \"refunds\": %lld, \"cart_sessions\": %lld, "
                "\"abandoned_cart_sessions\": %lld, \"cart_abandonment\": ", (long long)g->revenue,
                (long long)g->refunds, (long long)g->cart_sessions,
                (long long)g->abandoned_cart_sessions);
        report_json_ratio(f, stats_ratio(g->abandoned_cart_sessions, g->cart_sessions));
        fprintf(f, ", \"mean_duration_s\": ");
        report_json_ratio(f, stats_ratio(g->duration_s_sum, g->sessions));
        fprintf(f, ", \"mean_events\": ");
        report_json_ratio(f, stats_ratio(g->events, g->sessions));
        fprintf(f, ", \"product_view_sessions\": %lld, \"checkout_sessions\": %lld, ",
                (long long)g->product_view_sessions, (long long)g->checkout_sessions);
        json_quantiles(f, "duration_s", g->hist_duration);
        fprintf(f, ", ");
        json_quantiles(f, "events_per_session", g->hist_events);
        fprintf(f, "}%s\n", s + 1 < st->nseg ? "," : "");
    }
    fprintf(f, "  ],\n");
}

static void json_periods(FILE *f, const cs_config *cfg, const cs_stats *st)
{
    fprintf(f, "  \"period\": \"%s\", \"timezone\": ", period_name(cfg->report_period));
    report_json_str(f, cfg->report_timezone);
    fprintf(f, ",\n  \"periods\": [\n");
    for (uint64_t i = 0; i < st->nperiods; i++) {
        char label[32];
        period_label(cfg->report_period, st->pkeys[i], label, sizeof label);
        fprintf(f, "    {\"period\": \"%s\", \"key\": %lld, \"segments\": [", label,
                (long long)st->pkeys[i]);
        const int64_t *row = st->prow + i * (uint64_t)st->nseg * PS_NFIELDS;
        for (int s = 0; s < st->nseg; s++) {
            const int64_t *v = row + (size_t)s * PS_NFIELDS;
            fprintf(f, "%s{\"name\": ", s ? ", " : "");
            report_json_str(f, cfg->rules.segments[s]);
            fprintf(f, ", \"sessions\": %lld, \"users\": %lld, \"events\": %lld, "
                    "\"purchase_sessions\": %lld, \"revenue\": %lld, \"refunds\": %lld}",
                    (long long)v[PS_SESSIONS], (long long)v[PS_USERS], (long long)v[PS_EVENTS],
                    (long long)v[PS_PURCHASE_SESSIONS], (long long)v[PS_REVENUE],
                    (long long)v[PS_REFUNDS]);
        }
        fprintf(f, "]}%s\n", i + 1 < st->nperiods ? "," : "");
    }
    fprintf(f, "  ],\n");
}

static void json_run(FILE *f, const cs_config *cfg, const cs_run_meta *m)
{
    fprintf(f, "  \"config\": {\"source\": ");
    report_json_str(f, cfg->source_path[0] ? cfg->source_path : "(defaults)");
    fprintf(f, ", \"hash\": \"%016llx\", \"session_gap_s\": %lld, \"session_max_duration_s\": %lld, "
            "\"session_max_lateness_s\": %lld, \"session_mode\": \"%s\", \"memory_per_rank\": %lld},\n",
            (unsigned long long)m->config_hash, (long long)(cfg->session_gap_us / 1000000),
            (long long)(cfg->session_max_duration_us / 1000000),
            (long long)(cfg->session_max_lateness_us / 1000000),
            cfg->session_mode == SESSION_SOURCE ? "source" : "gap", (long long)cfg->memory_per_rank);
    fprintf(f, "  \"run\": {\"ranks\": %d, \"files\": %d, \"rows\": %llu, \"windows\": %llu, "
            "\"passes\": %llu, \"shuffle_bytes\": %llu, \"shuffle\": \"%s\", \"window_rows\": %llu, "
            "\"wall_s\": %.3f, \"finished_utc\": \"%s\", "
            "\"peak_rss_mib_max\": %.1f, \"peak_rss_mib_rank0\": %.1f, \"inputs\": ",
            m->ranks, m->files, (unsigned long long)m->total_rows, (unsigned long long)m->windows,
            (unsigned long long)m->passes, (unsigned long long)m->shuffle_bytes,
            m->shuffle[0] ? m->shuffle : "none", (unsigned long long)m->window_rows, m->wall_s, m->started_utc,
            m->peak_rss_kb_max / 1024.0, m->peak_rss_kb_rank0 / 1024.0);
    report_json_str(f, m->inputs);
    fprintf(f, ", \"run_id\": ");
    if (m->run_id[0])
        report_json_str(f, m->run_id);
    else
        fputs("null", f);
    fprintf(f, ", \"phase_s\": {");
    for (int p = 0; p < PH_N; p++)
        fprintf(f, "%s\"%s\": %.6f", p ? ", " : "", timer_phase_name(p), m->phase_s[p]);
    fprintf(f, "}, \"phase_s_fastest\": {");
    for (int p = 0; p < PH_N; p++)
        fprintf(f, "%s\"%s\": %.6f", p ? ", " : "", timer_phase_name(p), m->phase_s_fastest[p]);
    fprintf(f, "}}\n");
}

static int write_json(const char *dir, const cs_config *cfg, const cs_stats *st,
                      const cs_ranking *rk, const cs_run_meta *m, cs_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/report.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return cs_err_set(err, CS_EIO, "%s: cannot write: %m", path);
    fprintf(f, "{\n  \"format\": \"clickseg-report\", \"version\": %d, \"currency\": ", CS_REPORT_VERSION);
    report_json_str(f, report_currency(cfg, m));
    fprintf(f, ",\n");
    json_totals(f, &st->tot);
    json_segments(f, cfg, st);
    json_periods(f, cfg, st);
    report_rank_json(f, cfg, rk);
    json_run(f, cfg, m);
    fprintf(f, "}\n");
    if (ferror(f) | (fclose(f) != 0))
        return cs_err_set(err, CS_EIO, "%s: write failed (disk full?)", path);
    return CS_OK;
}

static FILE *open_csv(const char *dir, const char *name, char *path, size_t n, cs_err *err)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        cs_err_set(err, CS_EIO, "%s: cannot write: %m", path);
    return f;
}

static int close_csv(FILE *f, const char *path, cs_err *err)
{
    if (ferror(f) | (fclose(f) != 0))
        return cs_err_set(err, CS_EIO, "%s: write failed (disk full?)", path);
    return CS_OK;
}

static int write_csvs(const char *dir, const cs_config *cfg, const cs_stats *st, cs_err *err)
{
    char path[1300];
    const cs_totals *t = &st->tot;
    FILE *f = open_csv(dir, "totals.csv", path, sizeof path, err);
    if (!f)
        return CS_EIO;
    fprintf(f, "events,sessions,users,purchase_sessions,revenue,refunds,bot_sessions,bot_events,"
            "late_events,rejected_events,rows_read\n%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,"
            "%lld,%lld\n", (long long)t->events, (long long)t->sessions, (long long)t->users,
            (long long)t->purchase_sessions, (long long)t->revenue, (long long)t->refunds,
            (long long)t->bot_sessions, (long long)t->bot_events, (long long)t->late_events,
            (long long)t->rejected_events, (long long)t->rows_read);
    if (close_csv(f, path, err) != CS_OK || !(f = open_csv(dir, "segments.csv", path, sizeof path, err)))
        return CS_EIO;
    fprintf(f, "segment,business,sessions,share,users,events,purchase_sessions,purchases,"
            "conversion,revenue,refunds,cart_sessions,abandoned_cart_sessions,cart_abandonment,"
            "duration_s_p50,duration_s_p90,events_p50,events_p90\n");
    for (int s = 0; s < st->nseg; s++) {
        const cs_segstat *g = &st->seg[s];
        char q[4][24];
        fprintf(f, "%s,%d,%lld,", cfg->rules.segments[s], s != cfg->rules.bot_segment,
                (long long)g->sessions);
        report_csv_ratio(f, stats_share(st, s, cfg->rules.bot_segment));
        fprintf(f, ",%lld,%lld,%lld,%lld,", (long long)g->users, (long long)g->events,
                (long long)g->purchase_sessions, (long long)g->purchases);
        report_csv_ratio(f, stats_ratio(g->purchase_sessions, g->sessions));
        fprintf(f, ",%lld,%lld,%lld,%lld,", (long long)g->revenue, (long long)g->refunds,
                (long long)g->cart_sessions, (long long)g->abandoned_cart_sessions);
        report_csv_ratio(f, stats_ratio(g->abandoned_cart_sessions, g->cart_sessions));
        fprintf(f, ",%s,%s,%s,%s\n",
                quantile_text(q[0], sizeof q[0], g->hist_duration, 0.5, ""),
                quantile_text(q[1], sizeof q[1], g->hist_duration, 0.9, ""),
                quantile_text(q[2], sizeof q[2], g->hist_events, 0.5, ""),
                quantile_text(q[3], sizeof q[3], g->hist_events, 0.9, ""));
    }
    if (close_csv(f, path, err) != CS_OK || !(f = open_csv(dir, "periods.csv", path, sizeof path, err)))
        return CS_EIO;
    fprintf(f, "period,segment,sessions,users,events,purchase_sessions,revenue,refunds\n");
    for (uint64_t i = 0; i < st->nperiods; i++) {
        char label[32];
        period_label(cfg->report_period, st->pkeys[i], label, sizeof label);
        const int64_t *row = st->prow + i * (uint64_t)st->nseg * PS_NFIELDS;
        for (int s = 0; s < st->nseg; s++) {
            const int64_t *v = row + (size_t)s * PS_NFIELDS;
            fprintf(f, "%s,%s,%lld,%lld,%lld,%lld,%lld,%lld\n", label, cfg->rules.segments[s],
                    (long long)v[PS_SESSIONS], (long long)v[PS_USERS], (long long)v[PS_EVENTS],
                    (long long)v[PS_PURCHASE_SESSIONS], (long long)v[PS_REVENUE],
                    (long long)v[PS_REFUNDS]);
        }
    }
    return close_csv(f, path, err);
}

int report_write_summary(const char *dir, const cs_config *cfg, const cs_stats *st,
                         const cs_ranking *rk, const cs_run_meta *meta, cs_err *err)
{
    int rc = write_json(dir, cfg, st, rk, meta, err);
    if (rc == CS_OK)
        rc = write_csvs(dir, cfg, st, err);
    if (rc == CS_OK)
        rc = report_rank_csv(dir, cfg, rk, err);
    if (rc == CS_OK)
        rc = report_write_h5(dir, cfg, st, rk, meta, err);
    /* Last, from report.h5 itself: `clickseg report` renders the same page. */
    if (rc == CS_OK)
        rc = report_html_render_dir(dir, err);
    return rc;
}
