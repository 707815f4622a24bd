/* inspect_verdict.c — what `clickseg run` would make of the archive
 * `clickseg inspect` has read: the plan across files (copies, overlaps),
 * the rows run would count late in archive order, and whether the late or
 * rejected rows pass run's limits (the defaults, or the job's config).
 * Called by cmd_inspect.c on rank 0. */
#include <stdio.h>
#include <string.h>

#include "clickseg/numfmt.h"
#include "clickseg/plan.h"
#include "inspect.h"

void inspect_limits_of(const cs_config *cfg, int configured, inspect_limits *lim)
{
    lim->lateness_us = cfg->session_max_lateness_us;
    lim->reject_share = cfg->max_reject_share;
    lim->late_share = cfg->max_late_share;
    lim->configured = configured;
}

const char *inspect_whose(const inspect_limits *lim)
{
    return lim->configured ? "the config's" : "the default";
}

int inspect_out_of_memory(const cs_err *e, const char *path, cs_err *fatal)
{
    if (e->code != CS_ENOMEM)
        return 0;
    *fatal = *e;
    cs_err_wrap(fatal, "%s", path);
    return 1;
}

/* Rank 0: the rows run would count late in archive order (the plan's
 * file order). A file's own late rows were counted as it was read; rows
 * behind the newest used time of the files before it (prior) only a file
 * that starts more than lateness_us before prior can have, and such a
 * file is read again after prior. 0 with *known = 0 when a file was not
 * read whole (--quick, or a problem). */
static int archive_late(const cs_plan *plan, const cs_file_info *info, const file_times *ft,
                        int n, int64_t lateness_us, uint64_t *late, int *known, cs_err *err)
{
    int64_t prior = INT64_MIN;
    int i = n - 1;
    *late = 0;
    *known = 0;
    for (int k = 0; k < plan->nfiles; k++) {
        /* the plan keeps the inputs' order but for overlaps: look on from
         * the last file found */
        int tries = 0;
        do
            i = (i + 1) % n;
        while (++tries <= n && strcmp(info[i].path, plan->files[k].path) != 0);
        if (tries > n || !ft[i].read)
            return CS_OK;
        uint64_t l = ft[i].late;
        if (prior != INT64_MIN && ft[i].used_min < prior &&
            (uint64_t)prior - (uint64_t)ft[i].used_min > (uint64_t)lateness_us) {
            static cs_file_stats st;   /* large (its HyperLogLog registers) */
            int rc = archive_file_stats(plan->files[k].path, lateness_us, prior, &st, err);
            if (rc != CS_OK)
                return rc;
            l = st.late;
        }
        *late += l;
        if (ft[i].used_max > prior)
            prior = ft[i].used_max;
    }
    *known = 1;
    return CS_OK;
}

int inspect_plan(const cs_file_info *info, const file_times *ft, int n,
                 const inspect_limits *lim, totals *t, cs_err *fatal)
{
    cs_plan plan;
    cs_err err;
    cs_err_clear(&err);
    if (plan_build(info, n, (int64_t)1 << 30, plan_bytes_per_event(1), 0, 1, &plan, &err) != CS_OK) {
        if (inspect_out_of_memory(&err, "the plan", fatal))
            return 0;
        printf("PROBLEM: %s\n", err.msg);
        t->problems++;
        return 1;
    }
    char note[2600];
    if (plan_overlap_note(&plan, lim->lateness_us, note, sizeof note))
        printf("note (%s session.max_lateness): %s\n", inspect_whose(lim), note);
    int rc = archive_late(&plan, info, ft, n, lim->lateness_us, &t->run_late, &t->late_known,
                          &err);
    plan_free(&plan);
    if (rc != CS_OK && !inspect_out_of_memory(&err, "the late rows", fatal)) {
        printf("PROBLEM: %s\n", err.msg);
        t->problems++;
        return 1;
    }
    return 0;
}

/* The archive's late rows as run counts them, printed (when known). */
int inspect_too_many_late(const totals *t, const inspect_limits *lim)
{
    if (!t->late_known || t->rows == 0)
        return 0;
    const char *whose = inspect_whose(lim);
    char d[32];
    fmt_duration(d, sizeof d, (double)lim->lateness_us / 1e6);
    double got = (double)t->run_late / (double)t->rows;
    printf("late rows, as clickseg run counts them in archive order (%s "
           "session.max_lateness, %s): %llu (%.2f%%)\n", whose, d,
           (unsigned long long)t->run_late, 100 * got);
    if (!(got > lim->late_share))   /* as run judges */
        return 0;
    printf("PROBLEM: %llu of the %llu rows (%.1f%%) would be late (more than %s "
           "session.max_lateness, %s, older than a row before them in archive order: see the "
           "notes above), more than max_late_share (%s %g%%): clickseg run refuses this "
           "archive unless session.max_lateness or max_late_share is raised (inspect takes "
           "the job's -c and --set as run does)\n",
           (unsigned long long)t->run_late, (unsigned long long)t->rows, 100 * got, whose, d,
           lim->configured ? "configured" : "default", 100 * lim->late_share);
    return 1;
}

int inspect_too_many_rejects(const totals *t, const inspect_limits *lim)
{
    double share = lim->reject_share;
    if (t->rows == 0 || !((double)t->rejected / (double)t->rows > share))   /* as run judges */
        return 0;
    printf("PROBLEM: %llu of the %llu rows (%.1f%%) would be rejected (event_type outside "
           "0..7, ts before 1970 or after 9999, or a price out of range: notes above), more than max_reject_share "
           "(%s %g%%): clickseg run refuses this archive unless the key is raised\n",
           (unsigned long long)t->rejected, (unsigned long long)t->rows,
           100.0 * (double)t->rejected / (double)t->rows,
           lim->configured ? "configured" : "default", 100 * share);
    return 1;
}

