/* run.h — the distributed segmentation job behind `clickseg run`.
 *
 * prolog: rank 0 expands the inputs, scans and validates every file and
 * plans windows; the plan is broadcast. loop, per window: READ the rank's
 * row range, classify rows (used / rejected / late), SHUFFLE to the user's
 * owner, SORT and SESSIONIZE bucket by bucket (each level-1 sort bucket is
 * sessionized while it is in cache) the events older than the window's
 * watermark and carry the rest. epilog: REDUCE statistics, WRITE the outputs under a
 * temporary name and move them into place. Collective; every error reaches
 * every rank. Called by the CLI. */
#ifndef CLICKSEG_RUN_H
#define CLICKSEG_RUN_H

#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/config.h"
#include "clickseg/error.h"

enum { CS_RESUME_NO = 0, CS_RESUME_YES = 1, CS_RESUME_AUTO = 2 };

typedef struct cs_run_opts {
    int force;                     /* overwrite existing outputs */
    int verbose, quiet;
    int progress;                  /* enum cs_progress_mode (progress.h) */
    uint64_t window_rows_per_rank; /* 0: from memory_per_rank */
    int resume;                    /* CS_RESUME_*: continue from checkpoint.dir */
    char state_path[1024];         /* --state FILE ("" = none); see checkpoint.h */
    char inputs_desc[4096];        /* for the report */
} cs_run_opts;

/* Runs the job with cfg (identical on every rank). Returns CS_OK or the
 * agreed error code on every rank. */
int run_job(const cs_comm *c, const cs_config *cfg, const cs_run_opts *opts, cs_err *err);

#endif
