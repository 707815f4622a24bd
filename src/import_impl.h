/* import_impl.h — private to import*.c (not a public header): the import
 * job's context and the steps the other files implement. */
#ifndef CLICKSEG_IMPORT_IMPL_H
#define CLICKSEG_IMPORT_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "clickseg/archive.h"
#include "clickseg/comm.h"
#include "clickseg/import.h"
#include "clickseg/importer.h"
#include "clickseg/progress.h"

/* Per-file counters (summed over ranks). */
enum { FC_LINES, FC_HEADER, FC_BLANK, FC_ROWS, FC_REJECTED, FC_EVENTS, FC_N };

/* One archive file: a period of the split. */
typedef struct imp_period {
    int64_t key;           /* period_key (yyyymmdd), 0 for split "none" */
    char name[64];         /* events-2019-10-01.h5 */
    uint64_t rows;
    int64_t ts_min, ts_max;
} imp_period;

typedef struct imp_ctx {
    const cs_comm *c;
    const cs_config *cfg;
    const cs_importer *imp;
    const cs_import_opts *o;
    char final[1024];
    char tmp[1200];
    int lock_fd;                /* rank 0: the output's lock (fs_lock_output), -1 none */
    int nfiles;
    imp_file *files;
    imp_parser p;               /* this rank's events and dictionaries */
    FILE *spill;                /* this rank's rejects, until rejects.csv is written */
    char spill_path[1300];
    int64_t *cnt;               /* nfiles x FC_N, summed over ranks */
    int64_t reasons[IMP_NREASONS];
    char first_reject[640];      /* rank 0: "FILE:LINE: reason: detail" of rejects.csv's first row */
    int64_t *lines;             /* nranks x nfiles: lines each rank's range started */
    /* 32-bit ids that differ from dict_fold32(hash, 0): sorted by hash */
    uint64_t *remap_hash;
    uint32_t *remap_id;
    uint64_t nremap;
    int64_t dict_sizes[DICT_N];     /* entries over all ranks */
    uint64_t dict_off[DICT_N];      /* this rank's first row in each dictionary */
    int64_t dict_kw[DICT_N], dict_lw[DICT_N];   /* string widths of key and label */
    uint64_t duplicates, dropped;
    int64_t type_counts[8];     /* events written, by type */
    uint32_t spill_window;      /* the window tag of the next reject spilled (import_ext.c) */
    /* write buffers: columns for wrows rows (iwrite_buffers) */
    void *wmem;
    cs_columns wcols;
    uint64_t wrows;
    /* external sort (import_ext.c): sorted runs of this rank in one file */
    int external;               /* some rank spilled: the windowed path */
    uint64_t run_cap;           /* events a rank holds before it spills a run */
    uint64_t win_cap;           /* events a rank sends or receives per window */
    int run_fd;                 /* -1 when no run file is open */
    char run_path[1300];
    struct imp_run *runs;
    int nruns, runs_cap;
    uint64_t *line_base;        /* per input: added to this rank's line numbers */
    struct imp_tally *tally;    /* periods of the parsed events (key, rows, times) */
    int ntally, tally_cap;
    int nwindows;               /* over all ranks */
    int64_t runs_all;           /* runs over all ranks */
    int64_t spill_bytes;        /* run bytes over all ranks */
    int nperiods;
    imp_period *per;
    /* this rank's share of each period: first event, count, file row; the
     * write rounds, the most any rank needs (iwrite_rounds) */
    uint64_t *pfirst, *pcnt, *poff;
    int64_t *prounds;
    double t_start, t_parse, t_spill, t_dict, t_sort, t_write;
    cs_ticker tick;             /* rank 0's progress (comm_wtime seconds) */
    int64_t tick_total, tick_done;   /* rank 0's input bytes: all, parsed segments' */
} imp_ctx;

/* import.c: a new step of the import on rank 0's progress line, its name
 * from fmt; and its fraction done (both no-ops unless progress is on). */
void imp_step(imp_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imp_tick(imp_ctx *x, double frac);

/* import_dict.c: merges the ranks' dictionaries and assigns 32-bit ids
 * (x->remap_*, x->dict_*); then writes x->tmp/dictionaries.h5 when any is
 * non-empty (and frees them). Both collective. */
int idict_merge(imp_ctx *x, cs_err *err);
int idict_write(imp_ctx *x, cs_err *err);
/* The archive's 32-bit id of a category or brand value of an imp_event. */
uint32_t idict_id32(const imp_ctx *x, uint64_t v);

/* import_sort.c: the total order of events (time, then every column,
 * then input position), the global sort, duplicates. */
int isort_cmp(const void *a, const void *b);
int isort_same_event(const imp_event *a, const imp_event *b);
/* Sorts ev[0..n) by isort_cmp (radix keys: 48 bytes an event). */
void isort_local(imp_event *ev, uint64_t n);
int isort_global(imp_ctx *x, cs_err *err);
int isort_dedupe(imp_ctx *x, cs_err *err);
/* Where duplicates are looked for across slices: the last event of the
 * global order so far and the first event equal to it (named in the
 * reject's detail). */
typedef struct isort_carry {
    int has;
    imp_event last, first;
} isort_carry;
/* Collective: duplicates in ev[0..*n), this rank's slice of one globally
 * sorted stretch (ranks in order) that follows *carry; drops them (when
 * import.duplicates = "drop", spilling them with window tag x->spill_window
 * when spill is set; *n shrinks) and counts them into *dups; then *carry
 * follows the stretch. */
int isort_dedupe_slice(imp_ctx *x, imp_event *ev, uint64_t *n, isort_carry *carry, int spill,
                       uint64_t *dups, cs_err *err);

/* import_write.c: the archive files (plan the periods; make sure the
 * space is there; write), the reject spill, rejects.csv. Collective but
 * for the spill and rejects.csv. */
int iwrite_plan(imp_ctx *x, cs_err *err);
/* Column buffers for x->wrows rows, sized by memory_per_rank. */
int iwrite_buffers(imp_ctx *x, cs_err *err);
/* Collective: creates the period's file (attributes set; checksummed
 * chunks, so every write is collective). */
int iwrite_open(imp_ctx *x, const imp_period *per, cs_archive_writer **w, cs_err *err);
/* The write rounds this rank needs for rows [off, off+count) of period
 * per's file: rounds end at whole chunks (iwrite_slice). Callers give
 * iwrite_slice the most any rank needs. */
uint64_t iwrite_rounds(const imp_ctx *x, const imp_period *per, uint64_t off, uint64_t count);
/* Collective: every rank writes ev[0..count) at file row off of period
 * per's file, in `rounds` writes (the same number on every rank, at least
 * iwrite_rounds; the extra ones write nothing); counts event types. */
int iwrite_slice(imp_ctx *x, cs_archive_writer *w, const imp_period *per, const imp_event *ev,
                 uint64_t count, uint64_t off, uint64_t rounds, cs_err *err);
/* Collective: closes period per's file w after this rank's writing, whose
 * status is rc (its error in err). The close agrees on every rank's
 * failure (emptying the file); a rank that had none takes the agreed one,
 * message and all. Returns the rank's status after the close. */
int iwrite_close(imp_ctx *x, cs_archive_writer *w, const imp_period *per, int rc, cs_err *err);
int iwrite_reserve(imp_ctx *x, cs_err *err);
int iwrite_events(imp_ctx *x, cs_err *err);
/* rejects.csv keeps this much of a rejected line's text (a spreadsheet
 * cell holds 32767 characters); a longer one is cut, saying how long it was. */
#define REJECT_RAW_MAX 32000
int iwrite_spill(imp_ctx *x, int file, uint64_t line, int global_line, int reason,
                 const char *detail, const char *raw, size_t rawlen, cs_err *err);
int iwrite_rejects_csv(imp_ctx *x, cs_err *err);                 /* rank 0 */

/* import_ext.c: the external sort, for imports larger than memory_per_rank.
 * iext_init sets the budgets; iext_add is called after each parsed line
 * (spills a sorted run when the buffer is full); iext_finish_parse decides
 * (collectively) whether the import goes external, spilling the rest;
 * iext_build then does the sort, duplicates and the archive files window
 * by window. iext_cleanup removes the run file. */
void iext_init(imp_ctx *x);
int iext_add(imp_ctx *x, cs_err *err);
int iext_finish_parse(imp_ctx *x, cs_err *err);
int iext_build(imp_ctx *x, cs_err *err);
void iext_cleanup(imp_ctx *x);

/* Closes and removes this rank's run file (it lies in the output's
 * temporary directory, so it must be gone before rank 0 moves that
 * directory's files into place). */
void iext_drop_runs(imp_ctx *x);
/* Reads events [start, start+n) of this rank's run j into dst, with file
 * line numbers. */
int iext_read_run(imp_ctx *x, int j, uint64_t start, uint64_t n, imp_event *dst, cs_err *err);

/* import_window.c: the passes over the windows, given pos (per run, the
 * events before each bucket bound; x->nwindows windows of one bucket per
 * rank). Collective. The counting pass (duplicates dropped) sets the rows
 * of x->per; the write pass writes the events files, rejects the dropped
 * duplicates, and sums duplicates and event types. */
int iwin_count_pass(imp_ctx *x, const uint64_t *pos, cs_err *err);
int iwin_write_pass(imp_ctx *x, const uint64_t *pos, cs_err *err);

/* import_summary.c: import.json (rank 0). */
int iwrite_summary(imp_ctx *x, const char *status, cs_err *err);
/* Sum of counter `what` (FC_*) over the input files. */
int64_t imp_total(const imp_ctx *x, int what);

#endif
