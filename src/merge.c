/* merge.c — one report from several runs' reports (see merge.h): rank 0
 * adds up the runs' report.h5 statistics; every rank reads a slab of each
 * customers.h5 (and sessions.h5), sends each customer row to the rank that
 * owns the user, where rows of one user are added; then the outputs are
 * written by the same writers as `clickseg run`. */
#include "clickseg/merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "clickseg/report.h"
#include "clickseg/timer.h"
#include "clickseg/userkeys.h"

#include "merge_priv.h"

static int prolog(merge_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    int rc = stats_init(&x->st, x->cfg->rules.nsegments, err);
    if (rc == CS_OK)
        rc = users_init(&x->users, 1024, x->cfg->rules.nsegments, err);
    if (rc == CS_OK && c->rank == 0) {
        if (x->o->ninputs == 0)
            rc = cs_err_set(err, CS_EUSAGE, "no report directories to merge");
        x->sessions = 1;
        for (int i = 0; rc == CS_OK && i < x->o->ninputs; i++) {
            char p[CS_PATH_MAX + 20];
            snprintf(p, sizeof p, "%s/sessions.h5", x->o->inputs[i]);
            x->sessions &= access(p, R_OK) == 0;
            rc = merge_add_report(x, i, err);
        }
        /* Users are counted again from the merged customer tables. */
        x->st.tot.users = 0;
        for (int s = 0; s < x->st.nseg; s++)
            x->st.seg[s].users = 0;
        if (rc == CS_OK &&
            fs_lock_output(x->cfg->output_dir, &x->lock_fd, err) == CS_OK)   /* as run's prolog */
            fs_begin_output(x->cfg->output_dir, report_outputs, x->o->force, x->outtmp,
                            sizeof x->outtmp, err);
    }
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    rc = comm_bcast(c, x->outtmp, sizeof x->outtmp, err);
    if (rc == CS_OK)
        rc = comm_bcast(c, &x->sessions, sizeof x->sessions, err);
    if (rc == CS_OK && x->sessions) {
        spool_open(&x->spool, x->outtmp, c->rank, err);
        rc = comm_agree(c, err);
    }
    return rc;
}

/* Rank 0: the merged targets' and prospects' user keys from the runs'
 * dictionaries, as each run showed its own; a note when one is gone. */
static int merged_target_keys(merge_ctx *x, cs_err *err)
{
    const char **d = cs_calloc((size_t)x->ndicts, sizeof *d, err, "dictionary list");
    if (!d)
        return CS_ENOMEM;
    for (int i = 0; i < x->ndicts; i++)
        d[i] = x->dicts[i];
    cs_dict_skip skip;
    int rc = userkeys_for_ranking(&x->ranking, d, x->ndicts, &skip, err);
    free(d);
    if (rc == CS_OK && skip.path[0])
        fprintf(stderr, "clickseg merge: note: %s, the user dictionary of a run, %s%s%s: "
                "targets %s show hashed ids only\n", skip.path,
                skip.gone ? "is gone" : "cannot be read (", skip.cause, skip.gone ? "" : ")",
                x->ranking.target_keys ? "whose users it alone knew" : "and prospects");
    return rc;
}

static int write_outputs(merge_ctx *x, double t0, cs_err *err)
{
    const cs_comm *c = x->c;
    x->st.tot.users += (int64_t)x->users.n;
    for (uint64_t i = 0; i < x->users.n; i++)
        for (int s = 0; x->users.slot[i].used && s < x->st.nseg; s++)
            x->st.seg[s].users += users_seg_sessions(&x->users, &x->users.slot[i], s) > 0;
    int rc = stats_reduce(c, &x->st, err);
    /* Rankings are recomputed over the merged customers, as one run over the
     * whole span would: recency counts from the last event of any input. */
    int64_t t_end = INT64_MIN;
    for (uint64_t i = 0; i < x->users.n; i++)
        if (x->users.slot[i].last_ts > t_end)
            t_end = x->users.slot[i].last_ts;
    if (rc == CS_OK)
        rc = comm_max_i64(c, &t_end, 1, 1, err);
    if (rc == CS_OK) {
        if (users_rank_alloc(&x->users, err) == CS_OK && x->prof)
            for (uint64_t i = 0; i < x->users.n; i++)
                memcpy(x->users.rank[i].profile, x->prof + i * CS_MAX_PROFILE_COLS,
                       CS_MAX_PROFILE_COLS);
        rc = comm_agree(c, err);
    }
    if (rc == CS_OK)
        rc = rank_customers_profiled(c, x->cfg, x->nprof, (const char (*)[48])x->prof_cols,
                                     (const char (*)[CS_PROFILE_VALUES_MAX])x->prof_values,
                                     &x->users, t_end, &x->ranking, err);
    if (rc == CS_OK)
        rc = comm_sum_i64(c, &x->prof_conflicts, 1, 0, err);
    x->ranking.profile_conflicts = x->prof_conflicts;
    if (rc == CS_OK)
        rc = report_write_customers(c, x->outtmp, &x->users, &x->cfg->rules, &x->ranking,
                                    (uint64_t)x->cfg->memory_per_rank / 16, err);
    if (rc == CS_OK && x->sessions)
        rc = report_write_sessions(c, x->outtmp, &x->spool, &x->cfg->rules,
                                   (uint64_t)x->cfg->memory_per_rank / 16, err);
    spool_close(&x->spool);   /* before the outputs move: see run.c's epilog */
    if (rc != CS_OK)
        return rc;
    cs_run_meta m;
    memset(&m, 0, sizeof m);
    m.ranks = c->size;
    m.files = x->o->ninputs;
    m.total_rows = (uint64_t)x->st.tot.rows_read;
    m.config_hash = config_hash(x->cfg);
    snprintf(m.currency, sizeof m.currency, "%s", x->currency);
    /* the runs' dictionaries, so a merge of merged reports finds the keys */
    int left_out = 0;
    for (int i = 0; i < x->ndicts; i++)
        left_out += !report_meta_add_dictionary(&m, x->dicts[i]);
    if (left_out && c->rank == 0)
        fprintf(stderr, "clickseg merge: note: report.h5 lists %d of the %d user dictionaries "
                "(/run dictionaries holds %d bytes): a merge of this report finds the keys of "
                "the others' users only when they are given as inputs\n", x->ndicts - left_out,
                x->ndicts, CS_DICT_LIST_MAX);
    size_t used = 0;
    for (int i = 0; i < x->o->ninputs && used < sizeof m.inputs; i++)
        used += (size_t)snprintf(m.inputs + used, sizeof m.inputs - used, "%s%s", i ? "," : "",
                                 x->o->inputs[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m.peak_rss_kb_max = m.peak_rss_kb_rank0 = (int64_t)ru.ru_maxrss;
    m.wall_s = timer_now() - t0;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m.started_utc, sizeof m.started_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const cs_totals *t = &x->st.tot;
    if (c->rank == 0 && t->rows_read != t->events + t->late_events + t->rejected_events)
        cs_err_set(err, CS_EINPUT, "the reports' row counts do not add up (%" PRId64 " rows "
                   "read, %" PRId64 " used + %" PRId64 " late + %" PRId64 " rejected)",
                   t->rows_read, t->events, t->late_events, t->rejected_events);
    if (err->code == CS_OK && c->rank == 0 && x->ndicts)
        merged_target_keys(x, err);
    if (err->code == CS_OK && c->rank == 0)
        report_write_summary(x->outtmp, x->cfg, &x->st, &x->ranking, &m, err);
    if (err->code == CS_OK && c->rank == 0)
        fs_commit_output(x->outtmp, x->cfg->output_dir, report_outputs, err);
    rc = comm_agree(c, err);
    if (rc == CS_OK && c->rank == 0 && !x->o->quiet)
        printf("clickseg merge: %d reports, %lld events, %lld sessions, %lld users, %llu "
               "periods; report in %s/report.json\n", x->o->ninputs, (long long)t->events,
               (long long)t->sessions, (long long)t->users, (unsigned long long)x->st.nperiods,
               x->cfg->output_dir);
    if (rc == CS_OK && c->rank == 0 && x->prof_conflicts > 0)   /* a warning: even with -q */
        fprintf(stderr, "clickseg merge: note: the runs give %lld profile values differently for "
                "the same users; the later run's (in the order given) wins "
                "(report.json ranking.profile_conflicts)\n", (long long)x->prof_conflicts);
    return rc;
}

int merge_reports(const cs_comm *c, const cs_config *cfg, const cs_merge_opts *o, cs_err *err)
{
    double t0 = timer_now();
    merge_ctx x;
    memset(&x, 0, sizeof x);
    spool_init(&x.spool);
    x.lock_fd = -1;
    x.c = c;
    x.cfg = cfg;
    x.o = o;
    int rc = prolog(&x, err);
    for (int i = 0; rc == CS_OK && i < o->ninputs; i++) {
        rc = merge_add_customers(&x, o->inputs[i], err);
        if (rc == CS_OK && x.sessions)
            rc = merge_add_sessions(&x, o->inputs[i], err);
    }
    if (rc == CS_OK)
        rc = write_outputs(&x, t0, err);
    spool_close(&x.spool);   /* before the directory it was made in goes */
    if (rc != CS_OK && c->rank == 0 && x.outtmp[0])
        fs_abandon_output(x.outtmp);
    if (c->rank == 0)
        fs_unlock_output(cfg->output_dir, x.lock_fd);
    stats_free(&x.st);
    rank_free(&x.ranking);
    free(x.dicts);
    users_free(&x.users);
    free(x.seen_key);
    free(x.seen_src);
    free(x.prof);
    return rc;
}
