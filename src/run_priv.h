/* run_priv.h — private to run.c, run_window.c and run_checks.c (not a public header):
 * the job's context, and the window loop run.c drives. */
#ifndef CLICKSEG_RUN_PRIV_H
#define CLICKSEG_RUN_PRIV_H

#include <stdint.h>

#include "clickseg/archive.h"
#include "clickseg/checkpoint.h"
#include "clickseg/event.h"
#include "clickseg/period.h"
#include "clickseg/plan.h"
#include "clickseg/rank.h"
#include "clickseg/report.h"
#include "clickseg/run.h"
#include "clickseg/sessionize.h"
#include "clickseg/spool.h"
#include "clickseg/shuffle.h"
#include "clickseg/stats.h"
#include "clickseg/timer.h"
#include "clickseg/users.h"

/* Period rows by local day: on_session's shortcut past the period key and
 * the row lookup (run.c). */
#define DAY_ROWS 1024
typedef struct day_rows {
    int64_t day0;              /* the day of entry 0; INT64_MIN before the first session */
    int64_t key[DAY_ROWS];     /* the day's period key */
    uint32_t row[DAY_ROWS];    /* its row index + 1; 0: not known */
} day_rows;

typedef struct run_ctx {
    const cs_comm *c;
    const cs_config *cfg;
    const cs_run_opts *o;
    cs_plan plan;
    cs_timers tm;
    cs_users users;
    cs_sessionizer sz;
    cs_stats st;
    cs_tz tz;
    cs_shuffle sh;
    day_rows days;
    cs_columns cols;               /* rows read into buffers (files not viewed in place) */
    cs_colsegs segs;               /* the part's rows: views of chunks or of cols */
    uint64_t col_cap;
    cs_archive_reader **readers;   /* one per plan file, opened on first use */
    void *work;                    /* one level-1 bucket, sorted (sort_runs_each), records
                                    * of the job's width (narrow or cs_event) */
    cs_event *carry;               /* records kept for the next window, bucket-grouped */
    cs_event *carry_next;          /* the carry being filled while the old one is read */
    uint64_t work_cap, ncarry, carry_cap, ncarry_next, carry_next_cap;
    int64_t wm;                    /* the current part's watermark */
    uint64_t users_before;         /* users in the table when the part's sessionize began */
    int final;                     /* the current part is the last: every session closes */
    int64_t maxts;                 /* max ts of every row read so far, all ranks */
    cs_spool spool;                /* the closed sessions for sessions.h5 (--sessions) */
    cs_ranking ranking;
    char outtmp[1200];
    int lock_fd;                   /* rank 0: the output's lock (fs_lock_output), -1 none */
    int ck_lock_fd;                /* rank 0: the checkpoint directory's (ckpt_lock_dir) */
    int finished;                  /* the checkpoint's run had published: nothing to do
                                    * (ckpt_published) */
    char (*dict_paths)[CS_DICT_PATH_LEN];      /* rank 0: the inputs holding /dictionaries, in input
                                    * order (an archive directory each); begin_long_run
                                    * adds a --state chain's into ck.dicts, the list the
                                    * run looks keys up in, as merge looks in every run's */
    int ndicts;
    cs_ckpt ck;                    /* checkpoints, --resume, signals, --state */
    uint64_t passes;               /* window parts run (window_parts, and parts split by skew) */
    uint64_t part_fit;             /* events a rank may receive in a part (window_parts) */
    uint64_t shuffle_bytes;        /* records this rank sent to other ranks */
    int need_ids, need_entry_time; /* what the sessions' features need (choose_records) */
    int narrow;                    /* records are cs_event_narrow */
    uint64_t bytes_per_event;      /* in-flight bound for the windows (plan_bytes_per_event) */
} run_ctx;

/* Collective: window w (cut into parts as memory requires): read,
 * classify, shuffle, sort, sessionize. */
int run_one_window(run_ctx *x, uint64_t w, cs_err *err);

/* Frees the per-window buffers; the next window allocates them again at
 * its own size. */
void run_release_window_buffers(run_ctx *x, int keep_shared);

/* A window part, to read its successor ahead. */
typedef struct part_ref { uint64_t w, part, nparts; } part_ref;

/* Collective: global rows [ga, gb) of a window, split among the ranks:
 * read, classify, shuffle, sort, sessionize; `final`: every session
 * closes; `ahead`: the part whose successor to read ahead (NULL: none).
 * A range that would overfill a rank's memory is done in halves. */
int run_one_range(run_ctx *x, uint64_t ga, uint64_t gb, int final, const part_ref *ahead,
                  cs_err *err);

/* run_checks.c. CS_EINTERNAL unless every row read is used, rejected or
 * late. */
int run_check_conservation(const cs_stats *st, cs_err *err);

/* Collective, after window w: CS_EINPUT on every rank once the run's
 * rejected or late rows pass max_reject_share or max_late_share. */
int run_check_shares(run_ctx *x, uint64_t w, cs_err *err);

/* Collective: the run's metadata for the report (phase times reduced over
 * the ranks, peak memory, shuffle bytes, dictionaries, start time). */
int run_fill_meta(run_ctx *x, cs_run_meta *m, double t_start, cs_err *err);

#endif
