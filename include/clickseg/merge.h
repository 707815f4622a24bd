/* merge.h — `clickseg merge`: one report from the reports of runs over
 * disjoint periods (e.g. the monthly tasks of a Slurm job array).
 *
 * Statistics are integer sums and histograms, so they add exactly (read
 * from each run's report.h5). Distinct-user counts do not add: the users
 * of the merged report come from the runs' customer tables (customers.h5),
 * whose rows of one user are added up on the rank that owns the user; the
 * distinct users per period come from the one run that holds the period (a
 * period present in two runs is refused). sessions.h5 tables are
 * concatenated when every run has one. Every run must have the merge's
 * config hash. Collective; called by the CLI. */
#ifndef CLICKSEG_MERGE_H
#define CLICKSEG_MERGE_H

#include "clickseg/comm.h"
#include "clickseg/config.h"
#include "clickseg/error.h"

typedef struct cs_merge_opts {
    int force, quiet;
    int ninputs;
    char **inputs;        /* report directories, in any order */
} cs_merge_opts;

/* Writes the merged report into cfg->output_dir (temporary name, then
 * renamed; an existing report is kept unless force). */
int merge_reports(const cs_comm *c, const cs_config *cfg, const cs_merge_opts *o, cs_err *err);

#endif
