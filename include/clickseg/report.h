/* report.h — the run's outputs: report.json, report.h5 and CSV tables
 * (rank 0, from the reduced statistics), and the per-customer and
 * per-session tables customers.h5 / sessions.h5 (written in parallel by
 * every rank, collective). Formats are documented in docs/outputs.md.
 * Called by run at the end of the job, into the temporary output dir. */
#ifndef CLICKSEG_REPORT_H
#define CLICKSEG_REPORT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include "clickseg/comm.h"
#include "clickseg/config.h"
#include "clickseg/error.h"
#include "clickseg/rank.h"
#include "clickseg/sessionize.h"
#include "clickseg/spool.h"
#include "clickseg/stats.h"
#include "clickseg/timer.h"
#include "clickseg/users.h"

/* Version of report.json / report.h5 (2: funnel counts, rates, quantiles,
 * currency, /config and /run in report.h5; 4: histograms of 248 bins
 * covering every int64 (stats.h), where 64 stopped at 114,688; merge
 * reads both). */
#define CS_REPORT_VERSION 4
/* The oldest report.h5 `clickseg report` renders: 3 changed report.json
 * and the CSVs only (undefined rates null, profile values numbers), and in
 * report.h5 the rates of nothing from 0 to NaN. */
#define CS_REPORT_MIN_VERSION 2

/* The most bytes of report.h5's /run `dictionaries` attribute (an HDF5
 * attribute stays under 64 KiB): some 600 paths of 100 bytes, a --state
 * chain of daily imports for over a year and a half. */
#define CS_DICT_LIST_MAX 65000

/* What the report says about the run itself. */
typedef struct cs_run_meta {
    int ranks;
    int files;
    uint64_t windows, window_rows, total_rows;
    uint64_t passes;
    uint64_t shuffle_bytes; /* event records sent to other ranks, all ranks, bytes */
    char shuffle[16];       /* how they went: "shared_memory", "mpi" or "none" (one rank) */
    uint64_t config_hash;
    char run_id[24];        /* the run's id, kept across resumes ("" for merge: JSON null) */
    double wall_s;
    double phase_s[PH_N];          /* slowest rank's time per phase */
    double phase_s_fastest[PH_N];  /* fastest rank's: far below phase_s, a rank waited */
    int64_t peak_rss_kb_max;       /* largest peak RSS of any rank */
    int64_t peak_rss_kb_rank0;
    char started_utc[32];
    char inputs[4096];             /* comma-separated input arguments */
    char dictionaries[CS_DICT_LIST_MAX];   /* the user dictionaries' real paths, one a
                                    * line ("" none; report_meta_add_dictionary): merge
                                    * reads the targets' keys there */
    char currency[16];             /* the archive's currency attribute ("" when none) */
} cs_run_meta;

/* Adds path to m->dictionaries (one a line); 0 when it does not fit (it
 * is left out: the caller says so), else 1. */
int report_meta_add_dictionary(cs_run_meta *m, const char *path);

/* Every file a run or a merge writes in its output directory
 * (NULL-terminated; fsutil.h: what an existing directory is checked for,
 * and what a forced rerun replaces or removes). */
extern const char *const report_outputs[];

/* Rank 0: report.json, report.h5, totals.csv, segments.csv, periods.csv in
 * dir, then report.html rendered from report.h5 (html.h). */
int report_write_summary(const char *dir, const cs_config *cfg, const cs_stats *st,
                         const cs_ranking *rk, const cs_run_meta *meta, cs_err *err);

/* s as a JSON string (quoted, escaped): the report's writers share it
 * (their CSV text fields go through csvtext.h). */
void report_json_str(FILE *f, const char *s);

/* A ratio (stats_ratio): "%.17g" in JSON and "%.10g" in CSV, or, when it
 * is undefined (NaN: nothing to divide by), null and an empty cell. */
void report_json_ratio(FILE *f, double v);
void report_csv_ratio(FILE *f, double v);

/* 1 when column name s ends in suffix: what a column holds is read from
 * its name ("_ts", "_id", "_pct"). */
static inline int report_name_ends(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Collective: dir/customers.h5, one row per user of every rank's table,
 * each rank's rows in its key order (cs_user_key; docs/outputs.md). Rows
 * are gathered into column blocks of at most buffer_bytes in all (at
 * least 1024 rows a block, at most 131072): larger blocks, fewer writes
 * and fewer hand-overs of the file between ranks; run and merge give
 * memory_per_rank / 16. */
int report_write_customers(const cs_comm *c, const char *dir, const cs_users *users,
                           const cs_rules *rules, const cs_ranking *rk, uint64_t buffer_bytes,
                           cs_err *err);

/* The uint8 HDF5 enum of the rules' segment names: sessions.h5's
 * `segment` column, which merge reads back through it. Caller closes it. */
hid_t report_segment_enum(const cs_rules *rules);

/* sessions.h5's columns: user_id, start_ts, end_ts, segment, then one a
 * feature. report_session_column gives column k's name and memory type
 * (the segment's is `et`, report_segment_enum's); merge reads them back
 * by the same table. */
#define REPORT_SESSION_COLS (4 + F_NFEATURES)
const char *report_session_column(int k, hid_t et, hid_t *mtype);

/* Collective: dir/sessions.h5 from every rank's spooled sessions, in
 * rank order, read back and written in blocks of about buffer_bytes. */
int report_write_sessions(const cs_comm *c, const char *dir, cs_spool *sp,
                          const cs_rules *rules, uint64_t buffer_bytes, cs_err *err);

#endif
