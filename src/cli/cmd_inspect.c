/* cmd_inspect.c — `clickseg inspect`: validate an archive and summarise it
 * (files, rows, time range and order, columns, event types, users, size,
 * chunking) before a long job. The ranks take the files in turns (round k:
 * rank r the file k * ranks + r); rank 0 prints each round's files in
 * order, so the output is the same whatever the number of ranks, and the
 * totals. The exit status says whether the archive is usable. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect.h"
#include "clickseg/archive.h"
#include "clickseg/config.h"
#include "clickseg/event.h"
#include "clickseg/features.h"
#include "clickseg/fsutil.h"
#include "clickseg/numfmt.h"
#include "clickseg/plan.h"
#include "clickseg/profiles.h"

static void inspect_usage(FILE *out)
{
    fprintf(out,
        "usage: [mpirun -n N] clickseg inspect [--quick] [-c job.cfg] [--set KEY=VALUE] [PATH...]\n\n"
        "Validates an archive (files, directories of .h5 files, or globs) against format v1\n"
        "and prints what to know before a long job: files, rows, time range and order,\n"
        "columns and types, chunking and compression, event-type counts, users (estimated),\n"
        "size on disk, and every problem found with its file and dataset. Under mpirun the\n"
        "ranks share the files; the output is the same.\n\n"
        "options:\n"
        "  -q, --quick check schemas and row counts only (no full pass over the data\n"
        "              or over the profile values)\n"
        "  -c, --config FILE  judge late and rejected rows by the job's config\n"
        "              (session.max_lateness, max_late_share, max_reject_share) instead\n"
        "              of the defaults; without PATHs, inspect the config's inputs\n"
        "      --set KEY=VALUE  an override, as for run (repeatable)\n"
        "  -h, --help  this help\n\n"
        "Exit status: 0 usable (notes such as out-of-order rows are printed), 4 unusable.\n");
}

static void print_columns(FILE *o, const cs_file_info *fi)
{
    fprintf(o, "    columns:");
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        if (!fi->present[c])
            continue;
        fprintf(o, " %s=%s", archive_column_name(c), fi->type_desc[c]);
        if (fi->chunk_rows[c])
            fprintf(o, "/chunk%llu", (unsigned long long)fi->chunk_rows[c]);
        else
            fprintf(o, "/contiguous");
        if (fi->filters[c][0])
            fprintf(o, "/%s", fi->filters[c]);
    }
    fprintf(o, "\n    missing optional columns (read as 0):");
    int any = 0;
    for (int c = COL_PRODUCT_ID; c < COL_NCOLUMNS; c++)
        if (!fi->present[c]) {
            fprintf(o, " %s", archive_column_name(c));
            any = 1;
        }
    fprintf(o, "%s\n", any ? "" : " none");
}

/* Inspects one file (its scan into *out, its counts into *t), writing what
 * it finds to o; returns 1 when it is unusable. */
static int inspect_file(FILE *o, const char *path, int quick, const inspect_limits *lim,
                        totals *t, cs_file_info *out, cs_err *fatal)
{
    cs_err err;
    cs_err_clear(&err);
    cs_file_info fi;
    int rc = archive_scan(path, &fi, &err);
    /* The profile values, as run checks them before its job (the scan has
     * looked at the table's shape only). */
    if (rc == CS_OK && !quick && fi.has_customers)
        rc = profiles_check_rows(path, 0, fi.customer_rows, &err);
    *out = fi;
    if (rc != CS_OK && inspect_out_of_memory(&err, path, fatal))
        return 0;
    if (rc != CS_OK) {
        fprintf(o, "  %s\n    PROBLEM: %s\n", path, err.msg);
        t->problems++;
        return 1;
    }
    t->bytes += fi.file_bytes;
    t->customers += fi.customer_rows;
    if (!fi.has_events && !fi.has_customers) {
        fprintf(o, "  %s: dictionaries (the text of imported ids), %.1f MiB\n", path,
               fi.file_bytes / 1048576.0);
        return 0;
    }
    if (!fi.has_events) {
        fprintf(o, "  %s: profile table /customers, %llu rows, %.1f MiB\n", path,
               (unsigned long long)fi.customer_rows, fi.file_bytes / 1048576.0);
        return 0;
    }
    t->rows += fi.rows;
    t->event_files++;
    fprintf(o, "  %s: %llu rows, %.1f MiB%s\n", path, (unsigned long long)fi.rows,
           fi.file_bytes / 1048576.0, fi.has_customers ? ", with /customers" : "");
    print_columns(o, &fi);
    if (quick || fi.rows == 0)
        return 0;
    cs_file_stats st;
    int64_t lateness_us = lim->lateness_us;
    if (archive_file_stats(path, lateness_us, INT64_MIN, &st, &err) != CS_OK) {
        if (inspect_out_of_memory(&err, path, fatal))
            return 0;
        fprintf(o, "    PROBLEM: %s\n", err.msg);
        t->problems++;
        return 1;
    }
    char a[32], b[32];
    cli_format_ts(st.ts_min, a, sizeof a);
    cli_format_ts(st.ts_max, b, sizeof b);
    fprintf(o, "    time: %s .. %s UTC, %s\n", a, b,
           st.out_of_order ? "NOT in time order" : "in time order");
    if (st.out_of_order) {
        char d[32];
        fmt_duration(d, sizeof d, (double)lateness_us / 1e6);
        fprintf(o, "    note: %llu row%s earlier than a row before %s; ",
                (unsigned long long)st.out_of_order, st.out_of_order == 1 ? " is" : "s are",
                st.out_of_order == 1 ? "it" : "them");
        if (st.late)
            fprintf(o, "%llu by more than %s session.max_lateness (%s): clickseg run "
                    "counts %s as late_events\n", (unsigned long long)st.late,
                    inspect_whose(lim), d, st.late == 1 ? "it" : "them");
        else
            fprintf(o, "all within %s session.max_lateness (%s): clickseg run takes "
                    "them\n", inspect_whose(lim), d);
    }
    if (st.bad_types)
        fprintf(o, "    note: %llu rows have an event_type outside 0..7; run rejects and counts them\n",
               (unsigned long long)st.bad_types);
    if (st.negative_ts)
        fprintf(o, "    note: %llu rows have a negative ts; run rejects and counts them\n",
               (unsigned long long)st.negative_ts);
    if (st.far_future_ts)
        fprintf(o, "    note: %llu rows have a ts after 9999-12-31 (corrupt or not in microseconds); "
               "run rejects and counts them\n", (unsigned long long)st.far_future_ts);
    if (st.bad_prices)
        fprintf(o, "    note: %llu rows have a price beyond +-%lld minor units (an id or a "
                "quantity read as a price?); run rejects and counts them\n",
                (unsigned long long)st.bad_prices, (long long)CS_PRICE_MAX);
    fprintf(o, "    users (estimated): %llu\n", (unsigned long long)st.distinct_users_est);
    t->scanned += fi.rows;
    t->late = st.late;
    t->used_min = st.used_ts_min;
    t->used_max = st.used_ts_max;
    for (int i = 0; i < 8; i++)
        t->types[i] += st.type_counts[i];
    t->bad_types += st.bad_types;
    t->negative_ts += st.negative_ts;
    t->far_future_ts += st.far_future_ts;
    t->bad_prices += st.bad_prices;
    t->rejected += st.rejected;
    t->out_of_order += st.out_of_order;
    if (st.ts_min < t->ts_min) t->ts_min = st.ts_min;
    if (st.ts_max > t->ts_max) t->ts_max = st.ts_max;
    archive_hll_merge(t->users_hll, st.users_hll);
    return 0;
}

static void print_totals(const totals *t, int quick)
{
    printf("total: %llu event rows in %llu file(s), %.1f MiB on disk, %llu profile rows\n",
           (unsigned long long)t->rows, (unsigned long long)t->event_files,
           t->bytes / 1048576.0, (unsigned long long)t->customers);
    if (quick || t->rows == 0)
        return;
    if (t->scanned == 0) {   /* every file with rows had a problem: nothing was counted */
        printf("time range, event types, users: not counted (no file could be read whole)\n");
        return;
    }
    const char *of = t->scanned < t->rows ? " (of the files read whole)" : "";
    char a[32], b[32];
    cli_format_ts(t->ts_min, a, sizeof a);
    cli_format_ts(t->ts_max, b, sizeof b);
    printf("time range%s: %s .. %s UTC\n", of, a, b);
    printf("event types%s:", of);
    for (int i = 0; i < 8; i++)
        printf(" %s=%llu (%.1f%%)", ev_type_name(i), (unsigned long long)t->types[i],
               100.0 * (double)t->types[i] / (double)t->scanned);
    /* The files' users, each counted once (their registers merged): what
     * the user table of a run over all of them must hold. */
    printf("\nusers (estimated)%s: %llu\n", of,
           (unsigned long long)archive_hll_estimate(t->users_hll));
}

/* The sum of two sets of counts (min and max of the times, the largest
 * file's user estimate). */
static void totals_add(totals *into, const totals *t)
{
    into->rows += t->rows;
    into->event_files += t->event_files;
    into->problems += t->problems;
    into->customers += t->customers;
    into->scanned += t->scanned;
    for (int i = 0; i < 8; i++)
        into->types[i] += t->types[i];
    into->bad_types += t->bad_types;
    into->negative_ts += t->negative_ts;
    into->far_future_ts += t->far_future_ts;
    into->bad_prices += t->bad_prices;
    into->rejected += t->rejected;
    into->out_of_order += t->out_of_order;
    into->bytes += t->bytes;
    archive_hll_merge(into->users_hll, t->users_hll);
    if (t->ts_min < into->ts_min) into->ts_min = t->ts_min;
    if (t->ts_max > into->ts_max) into->ts_max = t->ts_max;
}

/* Rank 0's list of files as one block of NUL-ended paths. */
static int pack_paths(const cs_pathlist *pl, char **blob, uint64_t *len, cs_err *err)
{
    uint64_t n = 0;
    for (int i = 0; i < pl->n; i++)
        n += strlen(pl->path[i]) + 1;
    *blob = cs_malloc(n + 1, err, "file list");
    if (!*blob)
        return CS_ENOMEM;
    *len = 0;
    for (int i = 0; i < pl->n; i++) {
        size_t l = strlen(pl->path[i]) + 1;
        memcpy(*blob + *len, pl->path[i], l);
        *len += l;
    }
    return CS_OK;
}

/* Collective: rank 0's block of paths to every rank, which points
 * pl->path into it (ranks other than 0 own only the array). */
static int share_paths(const cs_comm *c, char **blob, uint64_t *len, cs_pathlist *pl,
                       cs_err *err)
{
    int rc = comm_bcast(c, len, sizeof *len, err);
    if (rc == CS_OK && c->rank != 0 && !(*blob = cs_malloc(*len + 1, err, "file list")))
        rc = CS_ENOMEM;
    if ((rc = comm_agree(c, err)) != CS_OK || (rc = comm_bcast(c, *blob, *len, err)) != CS_OK)
        return rc;
    if (c->rank != 0) {
        int n = 0;
        for (uint64_t at = 0; at < *len; at += strlen(*blob + at) + 1)
            n++;
        pl->path = cs_calloc((size_t)n + 1, sizeof *pl->path, err, "file list");
        for (uint64_t at = 0; pl->path && at < *len; at += strlen(*blob + at) + 1)
            pl->path[pl->n++] = *blob + at;
    }
    return comm_agree(c, err);
}

/* One file's findings on their way to rank 0: this head, then its text. */
typedef struct file_rec {
    int64_t index;          /* in the file list */
    int64_t bad;
    uint64_t textlen;
    totals t;
    cs_file_info info;
} file_rec;

/* This rank's file of round k (if any) inspected into one block. */
static int inspect_mine(const cs_comm *c, const cs_pathlist *pl, int k, int quick,
                        const inspect_limits *lim, char **blk, size_t *len, cs_err *err)
{
    *blk = NULL;
    *len = 0;
    int64_t i = (int64_t)k * c->size + c->rank;
    if (i >= pl->n)
        return CS_OK;
    file_rec r = {.index = i, .t = {.ts_min = INT64_MAX, .ts_max = INT64_MIN}};
    FILE *o = open_memstream(blk, len);
    if (!o)
        return cs_err_set(err, CS_ENOMEM, "out of memory: inspect's text of %s", pl->path[i]);
    fwrite(&r, sizeof r, 1, o);   /* its place, rewritten once the text is known */
    r.bad = inspect_file(o, pl->path[i], quick, lim, &r.t, &r.info, err);
    /* A write the stream could not grow for fails it, not only the close. */
    int failed = ferror(o);
    if (fclose(o) != 0 || failed || !*blk || *len < sizeof r)
        return cs_err_set(err, CS_ENOMEM, "out of memory: inspect's text of %s", pl->path[i]);
    if (err->code != CS_OK)
        return err->code;   /* inspect_round frees the text with the rest */
    r.textlen = *len - sizeof r;
    memcpy(*blk, &r, sizeof r);
    return CS_OK;
}

/* Collective: round k's files, inspected by the ranks and printed by rank
 * 0 in file order; their scans go to info and their counts to *t. */
static int inspect_round(const cs_comm *c, const cs_pathlist *pl, int k, int quick,
                         const inspect_limits *lim, cs_file_info *info, file_times *ft,
                         totals *t, int *bad, cs_err *err)
{
    char *blk = NULL;
    size_t len = 0;
    void *all = NULL;
    uint64_t *counts = c->rank == 0 ? cs_calloc((size_t)c->size, sizeof *counts, err, "inspect")
                                    : NULL;
    if (err->code == CS_OK)
        inspect_mine(c, pl, k, quick, lim, &blk, &len, err);
    int rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = comm_gatherv(c, blk, len, &all, counts, err);
    free(blk);
    /* In rank order, which is file order within the round. */
    for (uint64_t at = 0, r = 0; rc == CS_OK && c->rank == 0 && r < (uint64_t)c->size; r++) {
        if (!counts[r])
            continue;
        file_rec rec;
        memcpy(&rec, (char *)all + at, sizeof rec);
        fwrite((char *)all + at + sizeof rec, 1, rec.textlen, stdout);
        info[rec.index] = rec.info;
        ft[rec.index] = (file_times){rec.t.scanned == rec.t.rows && rec.t.event_files, rec.t.late,
                                    rec.t.used_min, rec.t.used_max};
        totals_add(t, &rec.t);
        *bad |= (int)rec.bad;
        at += counts[r];
    }
    fflush(stdout);
    free(all);
    free(counts);
    return rc;
}

int cmd_inspect(const cs_comm *c, int argc, char **argv)
{
    static const struct option lo[] = {{"quick", no_argument, 0, 'q'},
                                       {"config", required_argument, 0, 'c'},
                                       {"set", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    cs_err err;
    cs_err_clear(&err);
    const char *config = NULL, *sets[CLI_MAX_SETS];
    int quick = 0, help = 0, nsets = 0, ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":qc:h", lo, NULL)) != -1) {
        if (ch == 'q') quick = 1;
        else if (ch == 'c') config = optarg;
        else if (ch == 's') cli_add_set(sets, &nsets, optarg, &err);
        else if (ch == 'h') help = 1;
        else cli_bad_option(ch, argc, argv, &err);
    }
    if (help && err.code == CS_OK) {
        if (c->rank == 0)
            inspect_usage(stdout);
        return 0;
    }
    if (err.code != CS_OK)
        return cli_fail(c, "inspect", &err);
    /* The limits run would judge the archive by: the job's config when
     * given, as run loads it, else the defaults. Without paths, the
     * config's inputs: what `run -c job.cfg` would read. */
    inspect_limits lim;
    static cs_config cfg;   /* large (paths, rules): off the stack; rank 0's */
    if (c->rank == 0) {
        if (cli_load_config(config, sets, nsets, &cfg, &err) == CS_OK &&
            config_validate(&cfg, &err) == CS_OK)
            inspect_limits_of(&cfg, config || nsets, &lim);
        if (err.code == CS_OK && optind >= argc && cfg.ninputs == 0)
            cs_err_set(&err, CS_EUSAGE, "no archive given (see --help)%s",
                       config || nsets ? ": the config has no input either" : "");
    }
    if (comm_agree(c, &err) != CS_OK || comm_bcast(c, &lim, sizeof lim, &err) != CS_OK)
        return cli_fail(c, "inspect", &err);
    cs_pathlist pl = {0};
    char *blob = NULL;
    uint64_t len = 0;
    if (c->rank == 0) {
        for (int i = optind; i < argc && err.code == CS_OK; i++)
            if (cli_check_path("an input", argv[i], PATH_MAX, &err) == CS_OK)
                fs_expand_input(&pl, argv[i], &err);
        for (int i = 0; optind >= argc && i < cfg.ninputs && err.code == CS_OK; i++)
            fs_expand_input(&pl, cfg.inputs[i], &err);
        if (err.code == CS_OK)
            pack_paths(&pl, &blob, &len, &err);
    }
    int rc = comm_agree(c, &err);
    if (rc == CS_OK)
        rc = share_paths(c, &blob, &len, &pl, &err);
    totals t = {.ts_min = INT64_MAX, .ts_max = INT64_MIN};
    cs_file_info *info = NULL;
    file_times *ft = NULL;
    int bad = 0;
    if (rc == CS_OK && c->rank == 0) {
        info = cs_calloc((size_t)pl.n + 1, sizeof *info, &err, "file list");
        ft = info ? cs_calloc((size_t)pl.n + 1, sizeof *ft, &err, "file list") : NULL;
        printf("archive: %d file(s)\n", pl.n);
        fflush(stdout);
    }
    if (rc == CS_OK)
        rc = comm_agree(c, &err);
    for (int k = 0; rc == CS_OK && (int64_t)k * c->size < pl.n; k++)
        rc = inspect_round(c, &pl, k, quick, &lim, info, ft, &t, &bad, &err);
    if (rc == CS_OK && c->rank == 0 && !bad && t.rows > 0)
        bad |= inspect_plan(info, ft, pl.n, &lim, &t, &err);
    if (rc == CS_OK && c->rank == 0 && err.code == CS_OK) {   /* no verdict without memory */
        print_totals(&t, quick);
        if (t.rows == 0 && !bad) {
            printf("PROBLEM: the archive holds no events\n");
            t.problems++;
            bad = 1;
        }
        if (!quick && !bad && t.scanned == t.rows && inspect_too_many_rejects(&t, &lim)) {
            t.problems++;
            bad = 1;
        }
        if (!quick && !bad && inspect_too_many_late(&t, &lim)) {
            t.problems++;
            bad = 1;
        }
        printf("%s\n", bad ? "result: UNUSABLE (problems above)" : "result: usable");
        fflush(stdout);
        if (bad)
            cs_err_set(&err, CS_EINPUT, "the archive is not usable: %llu problem(s), "
                       "see above", (unsigned long long)t.problems);
    }
    free(info);
    free(ft);
    free(blob);
    if (c->rank == 0)
        fs_pathlist_free(&pl);
    else
        free(pl.path);
    if (comm_agree(c, &err) != CS_OK)
        return cli_fail(c, "inspect", &err);
    return 0;
}
