/* import.h — `clickseg import`: clickstream exports (the formats of
 * importer.h) into an archive in format v1, in parallel.
 *
 *   every rank: parse its byte ranges (textin) with the format's importer
 *               ─► rejects to a spill file, events to memory, ids to dictionaries
 *               (past its share of memory_per_rank: sorted runs to disk, merged
 *               window by window later: the external sort of import_ext.c)
 *   fix up line numbers ─► count (rows = imported + rejected, by reason)
 *   ─► too many rejects? stop: rejects.csv + import.json only, no archive
 *   ─► merge dictionaries (dictionaries.h5) ─► sort by time across ranks
 *   ─► duplicates (kept or dropped, counted) ─► one file per day/week/month
 *   ─► rejects.csv, import.json ─► move into place (fsutil: all or nothing)
 *
 * Called by the CLI (cmd_import.c) on every rank with the same config. */
#ifndef CLICKSEG_IMPORT_H
#define CLICKSEG_IMPORT_H

#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/config.h"
#include "clickseg/error.h"

typedef struct cs_import_opts {
    const char *format;          /* overrides import.format when non-NULL */
    const char *const *inputs;   /* files or globs */
    int ninputs;
    const char *output;          /* the archive directory */
    int force, quiet;
    int progress;                /* enum cs_progress_mode (progress.h) */
} cs_import_opts;

typedef struct cs_import_result {
    uint64_t rows;         /* data lines (not headers, not blank) */
    uint64_t rejected;     /* rows rejected while parsing */
    uint64_t events;       /* events written */
    uint64_t duplicates;   /* events repeating an earlier one (dropped or not) */
    uint64_t dropped;      /* duplicates dropped */
    int files;             /* archive files written */
    double seconds;
} cs_import_result;

/* Collective. Imports opts->inputs into opts->output. On success the
 * directory holds events-<period>.h5 files, dictionaries.h5 (when an id
 * needed one), rejects.csv and import.json. When more than
 * import.max_reject_share of the rows are rejected, only rejects.csv and
 * import.json are written and CS_EINPUT is returned. On any other error
 * nothing appears under the output name. */
int import_run(const cs_comm *c, const cs_config *cfg, const cs_import_opts *o,
               cs_import_result *res, cs_err *err);

#endif
