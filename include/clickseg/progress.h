/* progress.h — what a long job tells whoever watches it. cs_ticker (at
 * the end) is the plain kind: one process's fraction of a long step and
 * lines between steps (import). The rest is `clickseg run`'s: after
 * each window, rank 0 writes windows done/total, events done, events/s,
 * elapsed time, ETA and the largest peak memory of any rank to stderr.
 *
 * On a terminal it is one live line rewritten in place; in a file (a Slurm
 * log) it is plain lines, the first and last windows and one every few
 * seconds, so a log of an hours-long job stays short. --quiet prints
 * nothing; --verbose prints every window, and every rank adds its own line
 * prefixed with its rank. Other ranks never print progress otherwise.
 * Called by run once per window (collective: one small reduction). */
#ifndef CLICKSEG_PROGRESS_H
#define CLICKSEG_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/plan.h"

/* --progress: auto (live on a terminal, lines otherwise), live, lines. */
enum cs_progress_mode { PROGRESS_AUTO = 0, PROGRESS_LIVE, PROGRESS_LINES };

/* Seconds between plain lines, and between live updates. */
#define CS_PROGRESS_LINES_EVERY 5.0
#define CS_PROGRESS_LIVE_EVERY 0.25

typedef struct cs_progress {
    FILE *out;
    int rank;
    int on;                 /* any progress at all (the same on every rank) */
    int verbose, live;
    int pending;            /* a live line is on screen without its newline */
    size_t live_len;        /* length of that line, to blank what is left of it */
    uint64_t nwindows, total_rows, window_rows;
    uint64_t start_row;     /* rows done before this start (a resume's point): counted
                             * as done, but not in this start's rate */
    double t_start, t_loop, last;
} cs_progress;

/* Parses "auto", "live" or "lines"; -1 otherwise. */
int progress_mode_from_name(const char *name);

/* Sets up progress for a planned run that started at t_start (timer_now()).
 * Rank 0 prints the plan's line when progress is on. mode PROGRESS_AUTO is
 * live when `out` is a terminal, or under mpirun when the job's stdout is
 * (mpirun passes stderr through a pipe). */
void progress_init(cs_progress *p, const cs_comm *c, FILE *out, int mode, int quiet,
                   int verbose, const cs_plan *plan, double t_start);

/* Collective, after window w (0-based) on every rank: rank 0 reports the
 * job (when due), and with verbose every rank reports its own share
 * (users: its table's users; carry: events held for the next window). */
int progress_window(cs_progress *p, const cs_comm *c, uint64_t w, uint64_t users,
                    uint64_t carry, cs_err *err);

/* Rank 0's line for window w at time `now` with the largest peak RSS of
 * any rank; prints it if due (always for the first and the last window).
 * Windows are this start's; events and the percentage count the rows a
 * resumed run did before it too, and the ETA is the rows left at this
 * start's rate. The non-collective part of progress_window, for tests. */
void progress_report(cs_progress *p, uint64_t w, double peak_rss_mib, double now);

/* Ends a live line so that what follows starts on a fresh line. */
void progress_end(cs_progress *p);

/* 1 when a person watches `out` on a terminal (directly, or through
 * mpirun whose own stderr is one); 0 in a batch job's log file. */
int progress_watched_by_terminal(FILE *out);

/* One process's progress through a job's steps (import: parsing, sorting,
 * writing), on `out`. In mode PROGRESS_AUTO silent for the first
 * CS_TICKER_QUIET seconds of the job, so a short job prints nothing (live
 * and lines, asked for, print from the start); then a step's fraction as a live
 * line (a terminal) or a plain line every CS_PROGRESS_LINES_EVERY seconds
 * (a log), and a line at each new step. Not collective: the caller's rank
 * 0 ticks for the job, its share standing for everyone's. */
#define CS_TICKER_QUIET 5.0

typedef struct cs_ticker {
    FILE *out;
    const char *who;        /* "clickseg import" */
    int on, live, pending;
    size_t live_len;
    double t_start;         /* the job's start (timer_now()) */
    double quiet_s;         /* nothing printed before t_start + quiet_s */
    double step_start;      /* when the step being ticked began */
    double last;
    char step[96];
} cs_ticker;

/* on: whether this process prints (rank 0, not --quiet); mode as run's. */
void ticker_init(cs_ticker *t, FILE *out, const char *who, int on, int mode, double t_start);

/* A new step: its name ("sorting 10,000,000 events"), printed as a line
 * once the job is past its quiet start. */
void ticker_step(cs_ticker *t, const char *step, double now);

/* The step is `frac` (0..1) done: printed when due, with the elapsed time
 * and the step's ETA at its rate so far. */
void ticker_update(cs_ticker *t, double frac, double now);

/* Ends a live line. */
void ticker_end(cs_ticker *t);

#endif
