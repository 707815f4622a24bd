/* progress.h — what a long `clickseg run` tells whoever watches it: after
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

#endif
