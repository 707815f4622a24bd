/* plan.h — rank 0's plan of the job: which files, in which order, cut into
 * windows that fit memory_per_rank, each window split into one balanced row
 * range per rank (a range may cross files).
 *
 * The plan is plain data (no pointers but the file array) and is broadcast
 * to every rank; workers read only files the plan names. Built by run on
 * rank 0 from archive_scan results. Pure C except plan_bcast. */
#ifndef CLICKSEG_PLAN_H
#define CLICKSEG_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/archive.h"
#include "clickseg/comm.h"
#include "clickseg/error.h"

/* Bytes each in-flight event costs a rank during a window, an upper bound
 * with room to spare: the read columns, the packed send record, the
 * received copy (the sort's scratch is one bucket) and the carry. With
 * 48-byte records (cs_event) about 120 bytes were measured, with 24-byte
 * ones (cs_event_narrow) about 70: each bound is about twice that, so a
 * job that moves narrow records gets windows twice as long from the same
 * budget (fewer passes over the user table). */
#define CS_BYTES_PER_EVENT 256
#define CS_BYTES_PER_EVENT_NARROW 128
#define CS_MIN_WINDOW_ROWS 64
/* Bytes each user of a rank costs at the end of the run beyond its table
 * entry: its ranking (cs_user_rank, 24), the customers table's order (32),
 * the top-K candidates, with room to spare. */
#define CS_EPILOG_BYTES_PER_USER 96

typedef struct cs_plan_file {
    char path[1024];
    uint64_t rows;
    uint64_t row0;          /* global index of the file's first row */
    int64_t ts_first, ts_last, ts_mid;
    int64_t ts_key;         /* the time the plan orders files by (plan_order_key) */
    int64_t bytes;          /* file size, to recognise copies */
} cs_plan_file;

typedef struct cs_plan {
    int nfiles;
    cs_plan_file *files;    /* event files, in time order */
    int nprofiles;          /* files holding a /customers profile table */
    cs_plan_file *profiles; /* their paths (rows, times unused) */
    int nprofile_only;      /* of which hold no /events */
    uint64_t total_rows;
    uint64_t window_rows;   /* rows of one window, all ranks together */
    uint64_t nwindows;      /* at least 1 (an empty archive has one empty window) */
    char currency[16];      /* the event files' `currency` attribute ("" when none has one) */
    uint64_t start_row;     /* first row of window 0 (> 0 when resuming a checkpoint) */
} cs_plan;

/* The bound above for a job's records: narrow (cs_event_narrow) or not. */
static inline uint64_t plan_bytes_per_event(int narrow)
{
    return narrow ? CS_BYTES_PER_EVENT_NARROW : CS_BYTES_PER_EVENT;
}

/* Orders the event files by (first ts, last ts, path), drops empty ones,
 * and sizes windows: window_rows = nranks * per-rank rows, where per-rank
 * rows = window_rows_per_rank when non-zero, else 3/4 of memory_per_rank /
 * bytes_per_event (plan_bytes_per_event). CS_EINPUT when no file holds events, when two files
 * name different currencies (their amounts cannot be summed), or when two
 * files look like copies of each other (same rows, first and last ts, and
 * size): their events would count twice. */
int plan_build(const cs_file_info *info, int n, int64_t memory_per_rank,
               uint64_t bytes_per_event, uint64_t window_rows_per_rank, int nranks, cs_plan *plan, cs_err *err);

void plan_free(cs_plan *plan);

/* Makes window 0 start at global row `start_row` (rows before it were
 * processed by an earlier run that checkpointed) and recounts the windows:
 * at least 1, an empty one when start_row == total_rows. */
void plan_skip(cs_plan *plan, uint64_t start_row);

/* The rows of part `part` (of `nparts`, consecutive in archive order) of
 * window w read by rank r: [*start, *start + *count) globally. run cuts a
 * window into parts when the users a rank holds leave too little of
 * memory_per_rank for a whole window. */
void plan_part_range(const cs_plan *plan, uint64_t w, uint64_t part, uint64_t nparts, int r,
                     int nranks, uint64_t *start, uint64_t *count);

/* The rows of window w read by rank r: [*start, *start + *count) globally. */
void plan_rank_range(const cs_plan *plan, uint64_t w, int r, int nranks,
                     uint64_t *start, uint64_t *count);

/* The time a file is ordered by, from the times of its first, middle
 * (rows / 2) and last rows: the median of those that are valid times (0 ..
 * CS_TS_MAX), the earlier of two, the one, or the first row's when none
 * is. A straggler (an event buffered past a log's rotation) or a corrupt
 * time in one of the three rows then cannot put the file out of place. */
int64_t plan_order_key(int64_t first, int64_t mid, int64_t last);

/* Event files (in plan order) whose order key (in effect their middle
 * row's time) lies more than `lateness` µs before the last row of a file
 * ahead of them: files that overlap in time (split by user, say, rather
 * than by time), half of whose rows or more the run will count as late
 * (a straggler first row is not this). Returns how many; *a, *b and *by name the widest
 * such pair (plan indexes) and its overlap. */
int plan_overlaps(const cs_plan *plan, int64_t lateness, int *a, int *b, int64_t *by);

/* plan_overlaps as the note run and inspect print (into buf, n bytes:
 * how many, the widest pair, what it means); returns how many. */
int plan_overlap_note(const cs_plan *plan, int64_t lateness, char *buf, size_t n);

/* Index of the file that holds global row `row` (binary search). */
int plan_file_of(const cs_plan *plan, uint64_t row);

/* Collective: rank 0's plan to every rank (others' plan is overwritten). */
int plan_bcast(const cs_comm *c, cs_plan *plan, cs_err *err);

#endif
