/* merge_priv.h — what the parts of `clickseg merge` share: the merge's
 * state and the readers of the runs' outputs. merge.c runs the merge
 * (prolog, outputs); merge_report.c adds up the runs' report.h5 on rank 0;
 * merge_tables.c gathers their customers.h5 and sessions.h5 on every rank.
 * Private to those three files. */
#ifndef CLICKSEG_MERGE_PRIV_H
#define CLICKSEG_MERGE_PRIV_H

#include <hdf5.h>
#include <limits.h>
#include <stdint.h>

#include "clickseg/merge.h"
#include "clickseg/rank.h"
#include "clickseg/spool.h"
#include "clickseg/stats.h"
#include "clickseg/users.h"

typedef struct merge_ctx {
    const cs_comm *c;
    const cs_config *cfg;
    const cs_merge_opts *o;
    cs_stats st;
    cs_users users;
    cs_spool spool;          /* the runs' sessions (when every run has sessions.h5) */
    int sessions;             /* every input has sessions.h5 */
    cs_ranking ranking;
    int64_t *seen_key;        /* rank 0: periods seen so far and their input */
    int *seen_src;
    int nseen;
    char currency[16];        /* rank 0: the reports' currency ("" none given yet) */
    int currency_src;         /* the input it came from */
    /* The runs' profile columns (customers.h5's profile_<col>; the same in
     * every run that has any) and each user's values by table position,
     * CS_MAX_PROFILE_COLS a user, CS_PROFILE_UNKNOWN where no run knew it. */
    int nprof;
    char prof_cols[CS_MAX_PROFILE_COLS][48];
    /* their codes' labels (the columns' `values`): the first run's, "" once
     * two runs differ */
    char prof_values[CS_MAX_PROFILE_COLS][CS_PROFILE_VALUES_MAX];
    uint8_t *prof;
    uint64_t prof_cap;
    int64_t prof_conflicts;   /* values two runs gave a user differently (the later kept) */
    char outtmp[1200];
    int lock_fd;             /* rank 0: the output's lock (fs_lock_output), -1 none */
    /* rank 0: the runs' user dictionaries (report.h5 /run attribute
     * `dictionaries`), each once: the merged targets' keys come from them */
    char (*dicts)[PATH_MAX];
    int ndicts;
} merge_ctx;

/* Rows of dataset `name` in f, -1 when it cannot be opened. */
int64_t merge_rows_of(hid_t f, const char *name);

/* Rank 0: run `src`'s report.h5 (its totals, segments, periods, histograms,
 * currency, dictionaries) added into x. */
int merge_add_report(merge_ctx *x, int src, cs_err *err);

/* Collective: one run's customers.h5 into the merged table. */
int merge_add_customers(merge_ctx *x, const char *dir, cs_err *err);

/* Collective: one run's sessions.h5 rows appended to the ranks' spools. */
int merge_add_sessions(merge_ctx *x, const char *dir, cs_err *err);

#endif
