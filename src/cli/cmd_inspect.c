/* cmd_inspect.c — `clickseg inspect`: validate an archive and summarise it
 * (files, rows, time range and order, columns, event types, users, size,
 * chunking) before a long job. Rank 0 does the work; the exit status says
 * whether the archive is usable. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clickseg/archive.h"
#include "clickseg/config.h"
#include "clickseg/features.h"
#include "clickseg/fsutil.h"
#include "clickseg/plan.h"
#include "clickseg/profiles.h"

static void inspect_usage(FILE *out)
{
    fprintf(out,
        "usage: clickseg inspect [--quick] PATH...\n\n"
        "Validates an archive (files, directories of .h5 files, or globs) against format v1\n"
        "and prints what to know before a long job: files, rows, time range and order,\n"
        "columns and types, chunking and compression, event-type counts, users (estimated),\n"
        "size on disk, and every problem found with its file and dataset.\n\n"
        "options:\n"
        "  --quick     check schemas and row counts only (no full pass over the data\n"
        "              or over the profile values)\n"
        "  -h, --help  this help\n\n"
        "Exit status: 0 usable (notes such as out-of-order rows are printed), 4 unusable.\n");
}

typedef struct totals {
    uint64_t rows, files, problems, customers, users_est;
    uint64_t scanned;   /* rows of the files read whole (the counts below are theirs) */
    uint64_t types[8], bad_types, negative_ts, far_future_ts, out_of_order;
    int64_t bytes, ts_min, ts_max;
} totals;

static void print_columns(const cs_file_info *fi)
{
    printf("    columns:");
    for (int c = 0; c < COL_NCOLUMNS; c++) {
        if (!fi->present[c])
            continue;
        printf(" %s=%s", archive_column_name(c), fi->type_desc[c]);
        if (fi->chunk_rows[c])
            printf("/chunk%llu", (unsigned long long)fi->chunk_rows[c]);
        else
            printf("/contiguous");
        if (fi->filters[c][0])
            printf("/%s", fi->filters[c]);
    }
    printf("\n    missing optional columns (read as 0):");
    int any = 0;
    for (int c = COL_PRODUCT_ID; c < COL_NCOLUMNS; c++)
        if (!fi->present[c]) {
            printf(" %s", archive_column_name(c));
            any = 1;
        }
    printf("%s\n", any ? "" : " none");
}

/* Inspects one file (its scan into *fi); returns 1 when it is unusable. */
static int inspect_file(const char *path, int quick, totals *t, cs_file_info *out)
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
    if (rc != CS_OK) {
        printf("  %s\n    PROBLEM: %s\n", path, err.msg);
        t->problems++;
        return 1;
    }
    t->files++;
    t->bytes += fi.file_bytes;
    t->customers += fi.customer_rows;
    if (!fi.has_events && !fi.has_customers) {
        printf("  %s: dictionaries (the text of imported ids), %.1f MiB\n", path,
               fi.file_bytes / 1048576.0);
        return 0;
    }
    if (!fi.has_events) {
        printf("  %s: profile table /customers, %llu rows, %.1f MiB\n", path,
               (unsigned long long)fi.customer_rows, fi.file_bytes / 1048576.0);
        return 0;
    }
    t->rows += fi.rows;
    printf("  %s: %llu rows, %.1f MiB%s\n", path, (unsigned long long)fi.rows,
           fi.file_bytes / 1048576.0, fi.has_customers ? ", with /customers" : "");
    print_columns(&fi);
    if (quick || fi.rows == 0)
        return 0;
    cs_file_stats st;
    if (archive_file_stats(path, &st, &err) != CS_OK) {
        printf("    PROBLEM: %s\n", err.msg);
        t->problems++;
        return 1;
    }
    char a[32], b[32];
    cli_format_ts(st.ts_min, a, sizeof a);
    cli_format_ts(st.ts_max, b, sizeof b);
    printf("    time: %s .. %s UTC, %s\n", a, b,
           st.out_of_order ? "NOT in time order" : "in time order");
    if (st.out_of_order)
        printf("    note: %llu rows have a ts earlier than the row before; clickseg run accepts "
               "them within session.max_lateness and counts later ones as late_events\n",
               (unsigned long long)st.out_of_order);
    if (st.bad_types)
        printf("    note: %llu rows have an event_type outside 0..7; run rejects and counts them\n",
               (unsigned long long)st.bad_types);
    if (st.negative_ts)
        printf("    note: %llu rows have a negative ts; run rejects and counts them\n",
               (unsigned long long)st.negative_ts);
    if (st.far_future_ts)
        printf("    note: %llu rows have a ts after 9999-12-31 (corrupt or not in microseconds); "
               "run rejects and counts them\n", (unsigned long long)st.far_future_ts);
    printf("    users (estimated): %llu\n", (unsigned long long)st.distinct_users_est);
    t->scanned += fi.rows;
    for (int i = 0; i < 8; i++)
        t->types[i] += st.type_counts[i];
    t->bad_types += st.bad_types;
    t->negative_ts += st.negative_ts;
    t->far_future_ts += st.far_future_ts;
    t->out_of_order += st.out_of_order;
    if (st.ts_min < t->ts_min) t->ts_min = st.ts_min;
    if (st.ts_max > t->ts_max) t->ts_max = st.ts_max;
    if (st.distinct_users_est > t->users_est) t->users_est = st.distinct_users_est;
    return 0;
}

/* What run's plan finds across files (copies, currencies; files that
 * overlap in time by more than the default session.max_lateness), so that
 * inspect says it before a long job does. Returns 1 on a problem. */
static int inspect_plan(const cs_file_info *info, int n, totals *t)
{
    cs_plan plan;
    cs_err err;
    cs_err_clear(&err);
    if (plan_build(info, n, (int64_t)1 << 30, plan_bytes_per_event(1), 0, 1, &plan, &err) != CS_OK) {
        printf("PROBLEM: %s\n", err.msg);
        t->problems++;
        return 1;
    }
    cs_config cfg;
    config_defaults(&cfg);
    char note[2600];
    if (plan_overlap_note(&plan, cfg.session_max_lateness_us, note, sizeof note))
        printf("note (the default session.max_lateness): %s\n", note);
    plan_free(&plan);
    return 0;
}

static void print_totals(const totals *t, int quick)
{
    printf("total: %llu event rows in %llu file(s), %.1f MiB on disk, %llu profile rows\n",
           (unsigned long long)t->rows, (unsigned long long)t->files, t->bytes / 1048576.0,
           (unsigned long long)t->customers);
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
    printf("\nusers (estimated, largest file): %llu\n", (unsigned long long)t->users_est);
}

int cmd_inspect(const cs_comm *c, int argc, char **argv)
{
    static const struct option lo[] = {{"quick", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    cs_err err;
    cs_err_clear(&err);
    int quick = 0, help = 0, ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
        if (ch == 'q') quick = 1;
        else if (ch == 'h') help = 1;
        else cs_err_set(&err, CS_EUSAGE, "unknown option '%s' (see --help)", argv[optind - 1]);
    }
    if (help && err.code == CS_OK) {
        if (c->rank == 0)
            inspect_usage(stdout);
        return 0;
    }
    if (err.code == CS_OK && optind >= argc)
        cs_err_set(&err, CS_EUSAGE, "no archive given (see --help)");
    if (err.code != CS_OK)
        return cli_fail(c, "inspect", &err);
    int bad = 0;
    if (c->rank == 0) {
        cs_pathlist pl = {0};
        for (int i = optind; i < argc && err.code == CS_OK; i++)
            fs_expand_input(&pl, argv[i], &err);
        cs_file_info *info = err.code == CS_OK
                                 ? cs_calloc((size_t)pl.n + 1, sizeof *info, &err, "file list")
                                 : NULL;
        if (info) {
            totals t = {.ts_min = INT64_MAX, .ts_max = INT64_MIN};
            printf("archive: %d file(s)\n", pl.n);
            for (int i = 0; i < pl.n; i++)
                bad |= inspect_file(pl.path[i], quick, &t, &info[i]);
            if (!bad && t.rows > 0)
                bad |= inspect_plan(info, pl.n, &t);
            free(info);
            print_totals(&t, quick);
            if (t.rows == 0 && !bad) {
                printf("PROBLEM: the archive holds no events\n");
                t.problems++;
                bad = 1;
            }
            printf("%s\n", bad ? "result: UNUSABLE (problems above)" : "result: usable");
            fflush(stdout);
            if (bad)
                cs_err_set(&err, CS_EINPUT, "the archive is not usable: %llu problem(s), "
                           "see above", (unsigned long long)t.problems);
        }
        fs_pathlist_free(&pl);
    }
    if (comm_agree(c, &err) != CS_OK)
        return cli_fail(c, "inspect", &err);
    return 0;
}
