/* import_impl.h — private to import*.c (not a public header): the import
 * job's context and the steps the other files implement. */
#ifndef CLICKSEG_IMPORT_IMPL_H
#define CLICKSEG_IMPORT_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "clickseg/comm.h"
#include "clickseg/import.h"
#include "clickseg/importer.h"

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
    int nperiods;
    imp_period *per;
    /* this rank's share of each period: first event, count, file row, and
     * the most any rank has (the number of collective write rounds) */
    uint64_t *pfirst, *pcnt, *poff, *pmost;
    double t_start, t_parse, t_dict, t_sort, t_write;
} imp_ctx;

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
int isort_global(imp_ctx *x, cs_err *err);
int isort_dedupe(imp_ctx *x, cs_err *err);

/* import_write.c: the archive files (plan the periods; make sure the
 * space is there; write), the reject spill, rejects.csv. Collective but
 * for the spill and rejects.csv. */
int iwrite_plan(imp_ctx *x, cs_err *err);
int iwrite_reserve(imp_ctx *x, cs_err *err);
int iwrite_events(imp_ctx *x, cs_err *err);
/* rejects.csv keeps this much of a rejected line's text (a spreadsheet
 * cell holds 32767 characters); a longer one is cut, saying how long it was. */
#define REJECT_RAW_MAX 32000
int iwrite_spill(imp_ctx *x, int file, uint64_t line, int global_line, int reason,
                 const char *detail, const char *raw, size_t rawlen, cs_err *err);
int iwrite_rejects_csv(imp_ctx *x, cs_err *err);                 /* rank 0 */

/* import_summary.c: import.json (rank 0). */
int iwrite_summary(imp_ctx *x, const char *status, cs_err *err);
/* Sum of counter `what` (FC_*) over the input files. */
int64_t imp_total(const imp_ctx *x, int what);

#endif
