/* inspect.h — what `clickseg inspect` (cmd_inspect.c) shares with its
 * verdicts (inspect_verdict.c): the counts of the files read, and the
 * limits of run's configuration the archive is judged by. */
#ifndef CLICKSEG_CLI_INSPECT_H
#define CLICKSEG_CLI_INSPECT_H

#include <stdint.h>

#include "clickseg/archive.h"
#include "clickseg/config.h"
#include "clickseg/error.h"

/* The keys of run's configuration that decide what run makes of an
 * archive: the defaults, or a job's config (-c, --set) given to inspect. */
typedef struct inspect_limits {
    int64_t lateness_us;        /* session.max_lateness */
    double reject_share;        /* max_reject_share */
    double late_share;          /* max_late_share */
    int configured;             /* from a config or --set: "the config's", else "the default" */
} inspect_limits;

/* The limits of cfg (validated). */
void inspect_limits_of(const cs_config *cfg, int configured, inspect_limits *lim);

/* "the default" or "the config's", for messages. */
const char *inspect_whose(const inspect_limits *lim);

typedef struct totals {
    uint64_t rows, event_files, problems, customers;
    uint8_t users_hll[CS_HLL_M];   /* the union of the files' users read whole */
    uint64_t scanned;   /* rows of the files read whole (the counts below are theirs) */
    uint64_t types[8], bad_types, negative_ts, far_future_ts, bad_prices, rejected, out_of_order;
    int64_t bytes, ts_min, ts_max;
    /* one file's: the rows run would count late were it read alone, and
     * the range of the times it uses (for the archive's late rows) */
    uint64_t late;
    int64_t used_min, used_max;
    /* the archive's: the rows run would count late in archive order
     * (late_known: every file was read whole) */
    uint64_t run_late;
    int late_known;
} totals;

/* What the archive's late rows need of each file, kept by rank 0. */
typedef struct file_times {
    int read;               /* read whole */
    uint64_t late;          /* late were it read alone */
    int64_t used_min, used_max;
} file_times;

/* An allocation that failed is this machine's problem, not the file's: it
 * goes to *fatal (the job's error, exit 6) instead of a PROBLEM line.
 * 1 when e was one. */
int inspect_out_of_memory(const cs_err *e, const char *path, cs_err *fatal);

/* Rank 0: what run's plan finds across the n files (copies, currencies;
 * files that overlap in time by more than session.max_lateness, and the
 * rows run would so count late, into t), printed so that inspect says it
 * before a long job does. Returns 1 on a problem. */
int inspect_plan(const cs_file_info *info, const file_times *ft, int n,
                 const inspect_limits *lim, totals *t, cs_err *fatal);

/* Rank 0: whether run would refuse the archive for its late rows (when
 * known) or its rejected rows under lim, said as a PROBLEM line; 1 then. */
int inspect_too_many_late(const totals *t, const inspect_limits *lim);
int inspect_too_many_rejects(const totals *t, const inspect_limits *lim);

#endif
