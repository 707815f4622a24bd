/* import_summary.c — import.json: what an import read, kept, rejected
 * (by reason) and wrote, with the sums that must add up (docs/import.md
 * describes every field). Written by rank 0 from counts every rank holds. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "clickseg/features.h"
#include "clickseg/report.h"
#include "import_impl.h"

/* Writes a time as "2019-10-01T00:00:00.000000Z". */
static void json_time(FILE *out, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[40];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(out, "\"%s.%06lldZ\"", buf, (long long)(us % 1000000));
}

static void write_inputs(const imp_ctx *x, FILE *out)
{
    static const char *const names[FC_N] = { "lines", "header_lines", "blank_lines", "rows",
                                             "rows_rejected", "events" };
    fputs("  \"inputs\": [\n", out);
    for (int i = 0; i < x->nfiles; i++) {
        const imp_file *f = &x->files[i];
        fputs("    {\"path\": ", out);
        report_json_str(out, f->path);
        fprintf(out, ", \"bytes\": %" PRId64 ", \"gzip\": %s", f->bytes, f->gzip ? "true" : "false");
        for (int k = 0; k < FC_N; k++)
            fprintf(out, ", \"%s\": %" PRId64, names[k], x->cnt[i * FC_N + k]);
        fprintf(out, "}%s\n", i + 1 < x->nfiles ? "," : "");
    }
    fputs("  ],\n", out);
}

static void write_files(const imp_ctx *x, FILE *out)
{
    fputs("  \"files\": [\n", out);
    for (int k = 0; k < x->nperiods; k++) {
        const imp_period *p = &x->per[k];
        fputs("    {\"name\": ", out);
        report_json_str(out, p->name);
        fprintf(out, ", \"rows\": %" PRIu64 ", \"ts_min\": ", p->rows);
        json_time(out, p->ts_min);
        fputs(", \"ts_max\": ", out);
        json_time(out, p->ts_max);
        fprintf(out, "}%s\n", k + 1 < x->nperiods ? "," : "");
    }
    fputs("  ],\n", out);
}

int iwrite_summary(imp_ctx *x, const char *status, cs_err *err)
{
    static const char *const split[] = { "day", "week", "month", "none" };
    char path[1300];
    snprintf(path, sizeof path, "%s/import.json", x->tmp);
    FILE *out = fopen(path, "w");
    if (!out)
        return cs_err_set(err, CS_EIO, "%s: cannot create: %s", path, strerror(errno));
    int64_t rows = imp_total(x, FC_ROWS), rej = imp_total(x, FC_REJECTED);
    int64_t parsed = imp_total(x, FC_EVENTS);
    uint64_t written = 0;
    for (int k = 0; k < x->nperiods; k++)
        written += x->per[k].rows;
    fputs("{\n  \"format\": ", out);
    report_json_str(out, x->imp->name);
    fputs(",\n  \"status\": ", out);
    report_json_str(out, status);
    fprintf(out, ",\n  \"ranks\": %d,\n", x->c->size);
    fprintf(out, "  \"seconds\": {\"total\": %.3f, \"parse\": %.3f, \"spill\": %.3f, "
            "\"dictionaries\": %.3f, \"sort\": %.3f, \"write\": %.3f},\n",
            comm_wtime() - x->t_start, x->t_parse, x->t_spill, x->t_dict, x->t_sort, x->t_write);
    /* rank 0's own figures for run_events and window_events: every rank has the same */
    fprintf(out, "  \"external_sort\": {\"used\": %s, \"runs\": %lld, \"windows\": %d, "
            "\"spill_bytes\": %lld, \"run_events\": %llu, \"window_events\": %llu},\n",
            x->external ? "true" : "false", (long long)x->runs_all, x->nwindows,
            (long long)x->spill_bytes, (unsigned long long)x->run_cap,
            (unsigned long long)x->win_cap);
    write_inputs(x, out);
    fprintf(out, "  \"rows\": %" PRId64 ",\n  \"rows_imported\": %" PRId64 ",\n"
            "  \"rows_rejected\": %" PRId64 ",\n  \"reject_share\": %.6g,\n"
            "  \"max_reject_share\": %.6g,\n", rows, rows - rej, rej,
            rows ? (double)rej / (double)rows : 0.0, x->cfg->import_max_reject_share);
    fputs("  \"rejects_by_reason\": {", out);
    for (int r = 1, first = 1; r < IMP_NREASONS; r++) {
        int64_t n = r == R_DUPLICATE ? (int64_t)x->dropped : x->reasons[r];
        fprintf(out, "%s\"%s\": %" PRId64, first ? "" : ", ", imp_reason_name(r), n);
        first = 0;
    }
    fputs("},\n", out);
    fprintf(out, "  \"events_parsed\": %" PRId64 ",\n  \"duplicates\": %" PRIu64 ",\n"
            "  \"duplicates_policy\": \"%s\",\n  \"duplicates_dropped\": %" PRIu64 ",\n"
            "  \"events_written\": %" PRIu64 ",\n", parsed, x->duplicates,
            x->cfg->import_duplicates == IMPORT_DUP_DROP ? "drop" : "keep", x->dropped, written);
    fputs("  \"event_types\": {", out);
    for (int t = 0; t < 8; t++)
        fprintf(out, "%s\"%s\": %" PRId64, t ? ", " : "", ev_type_name(t), x->type_counts[t]);
    fputs("},\n  \"split\": ", out);
    report_json_str(out, split[x->cfg->import_split & 3]);
    fputs(",\n", out);
    write_files(x, out);
    fputs("  \"dictionaries\": {", out);
    for (int d = 0; d < DICT_N; d++)
        fprintf(out, "%s\"%s\": %" PRId64, d ? ", " : "", imp_dict_name(d), x->dict_sizes[d]);
    fprintf(out, "},\n  \"id32_collisions_resolved\": %" PRIu64 ",\n", x->nremap);
    int lines_ok = imp_total(x, FC_LINES) == imp_total(x, FC_HEADER) + imp_total(x, FC_BLANK) + rows;
    fprintf(out, "  \"checks\": {\"lines_equal_header_plus_blank_plus_rows\": %s, "
            "\"events_parsed_equal_written_plus_dropped\": %s}\n}\n", lines_ok ? "true" : "false",
            !strcmp(status, "ok") ? (written + x->dropped == (uint64_t)parsed ? "true" : "false")
                                  : "null");
    if ((ferror(out) | fclose(out)) != 0)
        return cs_err_set(err, CS_EIO, "%s: cannot write: %s", path, strerror(errno));
    return CS_OK;
}
