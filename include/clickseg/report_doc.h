/* report_doc.h — a finished run's report read back from report.h5: the
 * tables every report has (/totals, /segments, /periods, /config, /run and
 * the root attributes) and the optional ones that other modules add when
 * they have something to say (/tiers, /rfm_segments, /targets, /prospects,
 * /profiles/<column>), which are read whatever their columns.
 *
 * report.h5 is the report's source of truth for rendering: the run renders
 * report.html from it, and `clickseg report` renders the same page and its
 * text/JSON/CSV summaries from it later, without rerunning the job.
 * Serial HDF5 on one process; no MPI. */
#ifndef CLICKSEG_REPORT_DOC_H
#define CLICKSEG_REPORT_DOC_H

#include <stdint.h>
#include <stdio.h>

#include "clickseg/error.h"
#include "clickseg/h5table.h"

typedef struct cs_report_doc {
    char path[1024];        /* the report.h5 read */
    char dir[1024];         /* its directory (CSV files sit beside it) */
    cs_table root, totals, segments, periods, config, run;
    /* optional tables: present when ncols > 0 */
    cs_table tiers, rfm, targets, prospects;
    int nprofiles;
    cs_table *profiles;     /* one per table under /profiles (path names it) */
    int nseg;               /* rows of /segments */
    uint64_t nperiods;      /* rows of /periods / nseg */
    const char *currency;   /* root attributes ("" when absent) */
    const char *period;
    const char *timezone;
} cs_report_doc;

/* Reads report.h5 at `path` (a report.h5 file or the directory holding
 * it). CS_EINPUT when it is missing, not a clickseg report, of an older
 * format version, or lacks a table or column the page needs (the message
 * names it); CS_EIO when unreadable. d is empty (safe to free) on error. */
int report_doc_load(const char *path, cs_report_doc *d, cs_err *err);

void report_doc_free(cs_report_doc *d);

/* /totals/<name>, 0 when absent. */
int64_t doc_total(const cs_report_doc *d, const char *name);

/* A column of /segments or /periods (NULL when absent; report_doc_load
 * checked the ones the page needs). Row of (period p, segment s) in
 * /periods: p * nseg + s. */
const cs_tcol *doc_seg_col(const cs_report_doc *d, const char *name);
const cs_tcol *doc_period_col(const cs_report_doc *d, const char *name);

/* Segment name, and whether it is a business (non-bot) segment. */
const char *doc_seg_name(const cs_report_doc *d, int s);
int doc_seg_business(const cs_report_doc *d, int s);

/* The label of period p ("2024-01-31", "2024-W05", "2024-01"). */
const char *doc_period_label(const cs_report_doc *d, uint64_t p);

/* The periods on a calendar axis: every day, week or month from the first
 * period to the last, those without sessions too, so that a chart shows a
 * quiet spell as zeros instead of joining the periods either side of it.
 * row[i] is the /periods period (0..nperiods-1) at point i, or -1.
 * filled is 0 when the axis is the periods themselves: a report without
 * keys, or a span over DOC_AXIS_MAX points (a stray date decades away would
 * make the charts unreadable). */
#define DOC_AXIS_MAX 40000
typedef struct doc_axis {
    uint64_t n;
    int filled;
    int64_t *row;
    const char **labels;    /* point i's label, into text */
    char *text;
} doc_axis;

/* CS_ENOMEM (err set) when the axis does not fit in memory; a is then
 * empty (safe to free). */
int doc_period_axis(const cs_report_doc *d, doc_axis *a, cs_err *err);
void doc_axis_free(doc_axis *a);

/* A segment name for people: "information_collector" → "Information collector". */
void doc_pretty_name(const char *name, char *buf, size_t n);

enum cs_doc_format { DOC_TEXT, DOC_JSON, DOC_CSV };

/* Parses "text", "json" or "csv"; -1 otherwise. */
int doc_format_from_name(const char *name);

/* A short summary of the report on out: headline totals and the segment
 * table, as text for a terminal, as JSON or as CSV (one row per segment). */
int report_doc_print(const cs_report_doc *d, int format, FILE *out, cs_err *err);

#endif
