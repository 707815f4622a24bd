/* run_checks.c — what the run says about itself once its rows are
 * counted: every row accounted for, the reject and late shares that stop a
 * broken input (after each window), and the run's metadata for the report
 * (phase times, peak memory, shuffle volume). Called by run.c. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clickseg/numfmt.h"
#include "clickseg/report.h"
#include "clickseg/timer.h"

#include "run_priv.h"

static int64_t peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_maxrss;
}

int run_fill_meta(run_ctx *x, cs_run_meta *m, double t_start, cs_err *err)
{
    memset(m, 0, sizeof *m);
    m->ranks = x->c->size;
    m->files = x->plan.nfiles;
    m->windows = x->plan.nwindows;
    m->passes = x->passes;
    m->window_rows = x->plan.window_rows;
    m->total_rows = x->plan.total_rows;
    m->config_hash = config_hash(x->cfg);
    snprintf(m->run_id, sizeof m->run_id, "%s", x->ck.run_id);
    /* every dictionary of the run (and of its --state chain), real paths,
     * one a line (as a merged report lists its runs') */
    const cs_ckpt *k = &x->ck;
    int left_out = 0;
    for (int i = 0; i < k->ndicts; i++)
        left_out += !report_meta_add_dictionary(m, k->dicts[i]);
    if (left_out && x->c->rank == 0)
        fprintf(stderr, "clickseg run: note: report.h5 lists %d of the %d user dictionaries "
                "(/run dictionaries holds %d bytes): a merge of this report finds the keys of "
                "the others' users only when they are given as inputs\n", k->ndicts - left_out,
                k->ndicts, CS_DICT_LIST_MAX);
    snprintf(m->inputs, sizeof m->inputs, "%s", x->o->inputs_desc);
    snprintf(m->currency, sizeof m->currency, "%s", x->plan.currency);
    int64_t v[PH_N + 1], fastest[PH_N];
    double t[PH_N];
    memcpy(t, x->tm.total, sizeof t);
    /* Sessions close inside the sessionize phase (timer.h): their sampled
     * closing time is the features phase. */
    double closing = sess_close_seconds(&x->sz);
    t[PH_FEATURES] = closing < t[PH_SESSIONIZE] ? closing : t[PH_SESSIONIZE];
    t[PH_SESSIONIZE] -= t[PH_FEATURES];
    for (int p = 0; p < PH_N; p++)
        v[p] = (int64_t)(t[p] * 1e6 + 0.5);
    memcpy(fastest, v, sizeof fastest);
    v[PH_N] = peak_rss_kb();
    m->peak_rss_kb_rank0 = v[PH_N];
    int rc = comm_max_i64(x->c, v, PH_N + 1, 0, err);
    if (rc == CS_OK)
        rc = comm_min_i64(x->c, fastest, PH_N, 0, err);
    int64_t sent = (int64_t)x->shuffle_bytes;
    if (rc == CS_OK)
        rc = comm_sum_i64(x->c, &sent, 1, 0, err);
    m->shuffle_bytes = (uint64_t)sent;
    snprintf(m->shuffle, sizeof m->shuffle, "%s",
             x->c->size == 1 ? "none" : x->sh.shm.on ? "shared_memory" : "mpi");
    for (int p = 0; p < PH_N; p++) {
        m->phase_s[p] = (double)v[p] / 1e6;
        m->phase_s_fastest[p] = (double)fastest[p] / 1e6;
    }
    m->peak_rss_kb_max = v[PH_N];
    m->wall_s = timer_now() - t_start;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m->started_utc, sizeof m->started_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return rc;
}

/* Every row must be accounted for: used, rejected or late. */
int run_check_conservation(const cs_stats *st, cs_err *err)
{
    const cs_totals *t = &st->tot;
    if (t->rows_read != t->events + t->late_events + t->rejected_events)
        return cs_err_set(err, CS_EINTERNAL, "row accounting does not add up: %lld rows read, "
                          "%lld used + %lld late + %lld rejected", (long long)t->rows_read,
                          (long long)t->events, (long long)t->late_events,
                          (long long)t->rejected_events);
    return CS_OK;
}

/* 1 when n of `rows` is more than `share` of them: n > share * rows,
 * as import judges its rejects (rounding would refuse 29 of 100 at "29%"). */
static int over_share(uint64_t n, double rows, double share)
{
    return rows > 0 && (double)n / rows > share;
}

/* Collective, after window w: CS_EINPUT on every rank once this run's
 * rejected rows exceed max_reject_share of its rows (those read so far
 * plus the plan's rows still to come), or its late rows max_late_share. A
 * wrong time unit or type coding rejects nearly every row, and files that
 * overlap in time make half the rows late: a broken input to stop at, not
 * a report of nothing or of half the events to publish, and stopping at
 * the first window that proves it saves the rest of the job. A --state
 * chain's earlier runs are not counted (their rows were judged then, and
 * would hide a broken day in a long chain); a checkpoint keeps the
 * chain's counts, so the verdict is the whole run's whatever the window
 * size, ranks or resume point. */
int run_check_shares(run_ctx *x, uint64_t w, cs_err *err)
{
    int64_t v[3] = {x->st.tot.rows_read, x->st.tot.rejected_events, x->st.tot.late_events};
    int rc = comm_sum_i64(x->c, v, 3, 1, err);
    if (rc != CS_OK)
        return rc;
    const cs_plan *p = &x->plan;
    uint64_t done = p->start_row + (w + 1) * p->window_rows;
    uint64_t left = done < p->total_rows ? p->total_rows - done : 0;
    uint64_t read = (uint64_t)v[0] - x->ck.row_base, rejected = (uint64_t)v[1] - x->ck.rejected_base;
    uint64_t late = (uint64_t)v[2] - x->ck.late_base;
    double rows = (double)read + (double)left;
    int bad_rejects = over_share(rejected, rows, x->cfg->max_reject_share);
    if (!bad_rejects && !over_share(late, rows, x->cfg->max_late_share))
        return CS_OK;
    char scope[96] = "", resume[CS_PATH_MAX + 96] = "", l[32];
    if (left)
        snprintf(scope, sizeof scope, " already, of all %.0f rows", rows);
    if (x->ck.seq)
        snprintf(resume, sizeof resume, "; add --resume to continue from the checkpoint in %s",
                 x->ck.dir);
    if (bad_rejects)
        return cs_err_set(err, CS_EINPUT, "%llu of the %s%llu rows are rejected (an event_type "
                          "outside 0..7, a ts before 1970 or after 9999 (a time in "
                          "nanoseconds?), or a price beyond +-10^12 minor units), more than "
                          "max_reject_share (%g%%)%s; no report written (`clickseg inspect` "
                          "shows which files; --set max_reject_share=1 runs anyway%s)",
                          (unsigned long long)rejected, left ? "first " : "",
                          (unsigned long long)read, 100 * x->cfg->max_reject_share, scope,
                          resume);
    fmt_duration(l, sizeof l, (double)x->cfg->session_max_lateness_us / 1e6);
    return cs_err_set(err, CS_EINPUT, "%llu of the %s%llu rows are late (more than "
                      "session.max_lateness, %s, older than a row before them: input files that "
                      "overlap in time, or an archive out of time order), more than "
                      "max_late_share (%g%%)%s; no report written (`clickseg inspect` names "
                      "overlapping files; raise session.max_lateness to the overlap, or --set "
                      "max_late_share=1 runs anyway and counts them in late_events%s)",
                      (unsigned long long)late, left ? "first " : "", (unsigned long long)read, l,
                      100 * x->cfg->max_late_share, scope, resume);
}

