/* run.c — the job: prolog (plan), the window loop (run_window.c), epilog
 * (reduce, write); the row checks and the report's run metadata are in
 * run_checks.c. See run.h for the data flow; each phase is one function
 * below. */
#include "clickseg/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/archive.h"
#include "clickseg/checkpoint.h"
#include "clickseg/event.h"
#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "clickseg/period.h"
#include "clickseg/plan.h"
#include "clickseg/rank.h"
#include "clickseg/profiles.h"
#include "clickseg/progress.h"
#include "clickseg/report.h"
#include "clickseg/sessionize.h"
#include "clickseg/shuffle.h"
#include "clickseg/sort.h"
#include "clickseg/stats.h"
#include "clickseg/sysmem.h"
#include "clickseg/timer.h"
#include "clickseg/userkeys.h"
#include "clickseg/users.h"

#include "run_priv.h"


/* ---- the emit callback: one closed session ---- */

/* The period row of local day `day` and its key: from the day table when
 * it knows the day and the row it remembers still holds that key (rows
 * move when a period is inserted before them, and a resume replaces them
 * all); else worked out (period key, row lookup) and remembered. Measured
 * at 10^8 events, 2 ranks: the key and the lookup took 0.12 s of a rank's
 * CPU for 12 million sessions, which fall on some 30 days; with the table,
 * 2.97 -> 2.89 s in all. NULL with CS_ENOMEM. */
static int64_t *period_row(run_ctx *x, int64_t day, int64_t *key, cs_err *err)
{
    day_rows *d = &x->days;
    uint64_t i = (uint64_t)day - (uint64_t)d->day0;
    if (d->day0 != INT64_MIN && i < DAY_ROWS && d->row[i] && d->row[i] <= x->st.nperiods &&
        x->st.pkeys[d->row[i] - 1] == d->key[i]) {
        *key = d->key[i];
        return x->st.prow + (size_t)(d->row[i] - 1) * stats_period_width(&x->st);
    }
    *key = period_key_of_day(&x->tz, x->cfg->report_period, day);
    int64_t *row = stats_period_row(&x->st, *key, err);
    if (!row)
        return NULL;
    if (d->day0 == INT64_MIN)
        d->day0 = day - DAY_ROWS / 2;
    i = (uint64_t)day - (uint64_t)d->day0;
    if (i < DAY_ROWS) {
        d->key[i] = *key;
        d->row[i] = (uint32_t)((size_t)(row - x->st.prow) / stats_period_width(&x->st) + 1);
    }
    return row;
}

static int on_session(void *vctx, cs_user *u, const cs_session *s, cs_err *err)
{
    run_ctx *x = vctx;
    int seg = s->segment, bot = seg == x->cfg->rules.bot_segment;
    const int64_t *v = s->f.v;
    stats_add_session(&x->st, seg, bot, &s->f);
    cs_user_seg *us = users_seg(&x->users, u, seg);
    u->sessions++;
    us->sessions++;
    /* A customer's money and orders are business figures, as the totals'
     * are: a bot session's purchases would otherwise make a "never bought"
     * customer with revenue, and tiers whose revenue outgrows the total. */
    if (!bot) {
        u->purchases += v[F_PURCHASES];
        u->revenue += v[F_REVENUE];
        u->refunds += v[F_REFUND_AMOUNT];
        u->purchase_sessions += v[F_PURCHASES] > 0;
    }
    u->cart_abandons += v[F_CART_ADDS] > 0 && v[F_PURCHASES] == 0;
    u->cart_removes += v[F_CART_REMOVES];
    int64_t key;
    int64_t *row = period_row(x, tz_day(&x->tz, s->start_ts), &key, err);
    if (!row)
        return CS_ENOMEM;
    int64_t *r = row + (size_t)seg * PS_NFIELDS;
    r[PS_SESSIONS]++;
    r[PS_EVENTS] += v[F_EVENTS];
    r[PS_PURCHASE_SESSIONS] += v[F_PURCHASES] > 0;
    r[PS_REVENUE] += v[F_REVENUE];
    r[PS_REFUNDS] += v[F_REFUND_AMOUNT];
    /* A user's sessions close in time order, so periods only move forward. */
    if (us->last_period != (int32_t)key) {
        us->last_period = (int32_t)key;
        r[PS_USERS]++;
    }
    if (!x->cfg->output_sessions)
        return CS_OK;
    return spool_add(&x->spool, s, err);
}

/* ---- prolog ---- */

/* Files that overlap in time are read one after another, so most rows of
 * the later one come after the earlier one's newest and count as late:
 * correct for the contract (docs/archive-format.md), but surely not what
 * the user meant, so said before the job, not found in late_events after. */
static void note_overlaps(const run_ctx *x)
{
    char note[2600];
    if (plan_overlap_note(&x->plan, x->cfg->session_max_lateness_us, note, sizeof note))
        fprintf(stderr, "clickseg run: note: %s\n", note);
}

/* Rank 0: inputs → scanned files → plan. */
static int plan_inputs(run_ctx *x, cs_err *err)
{
    const cs_config *cfg = x->cfg;
    if (cfg->ninputs == 0)
        return cs_err_set(err, CS_EUSAGE, "no input: give --input PATH or set `input` in the config");
    cs_pathlist pl = {0};
    int rc = CS_OK;
    for (int i = 0; rc == CS_OK && i < cfg->ninputs; i++)
        rc = fs_expand_input(&pl, cfg->inputs[i], err);
    if (rc == CS_OK)
        rc = fs_inputs_outside(&pl, cfg->output_dir, err);
    cs_file_info *info = rc == CS_OK ? cs_calloc((size_t)pl.n, sizeof *info, err, "file list") : NULL;
    if (rc == CS_OK && !info)
        rc = CS_ENOMEM;
    for (int i = 0; rc == CS_OK && i < pl.n; i++)
        rc = archive_scan(pl.path[i], &info[i], err);
    if (rc == CS_OK)
        rc = plan_build(info, pl.n, cfg->memory_per_rank, x->bytes_per_event,
                        x->o->window_rows_per_rank, x->c->size, &x->plan, err);
    int aside = 0;   /* files without events: profile tables, dictionaries */
    for (int i = 0; rc == CS_OK && i < pl.n; i++) {
        aside += !info[i].has_events;
        if (!info[i].has_dictionaries)
            continue;
        char (*d)[CS_DICT_PATH_LEN] = cs_realloc(x->dict_paths,
                                                 (size_t)(x->ndicts + 1) * sizeof *d, err,
                                                 "dictionary list");
        if (!d) {
            rc = CS_ENOMEM;
            break;
        }
        x->dict_paths = d;
        snprintf(x->dict_paths[x->ndicts++], sizeof *d, "%s", info[i].path);
    }
    if (rc == CS_OK && x->plan.nfiles == 0)
        rc = aside == pl.n
                 ? cs_err_set(err, CS_EINPUT, "the inputs hold only profile tables (/customers) or "
                              "dictionaries, no events")
                 : cs_err_set(err, CS_EINPUT, "the inputs hold no events: %d file(s), every "
                              "/events empty", pl.n);
    if (rc == CS_OK)
        note_overlaps(x);
    free(info);
    fs_pathlist_free(&pl);
    return rc;
}

/* What the job's sessions need, decided from the config alone (the memory
 * check and the plan size windows by the record it implies): sessions
 * carry the features something reads (sessions.h5 shows them all, the
 * rules read theirs), and what nothing reads is neither read from the
 * archive nor moved. */
static void choose_records(run_ctx *x)
{
    const cs_rules *rules = &x->cfg->rules;
    int all = x->cfg->output_sessions;
    x->need_ids = all || rules_use_feature(rules, F_DISTINCT_PRODUCTS) ||
                  rules_use_feature(rules, F_DISTINCT_CATEGORIES) ||
                  rules_use_feature(rules, F_DISTINCT_BRANDS);
    x->need_entry_time = all || rules_use_feature(rules, F_ENTRY_HOUR) ||
                         rules_use_feature(rules, F_ENTRY_WEEKDAY);
    x->narrow = !x->need_ids && x->cfg->session_mode != SESSION_SOURCE;
    x->bytes_per_event = plan_bytes_per_event(x->narrow);
}

/* Collective: every node must hold its ranks' budgets (memory_per_rank, or
 * what --window-events implies), else the kernel would kill a rank mid-run. */
static int check_memory(run_ctx *x, cs_err *err)
{
    uint64_t w = x->o->window_rows_per_rank;
    int64_t per_rank = x->cfg->memory_per_rank;
    if (w > (uint64_t)INT64_MAX / x->bytes_per_event) {   /* w is the same on every rank */
        cs_err_set(err, CS_ENOMEM, "out of memory: --window-events %llu at %llu bytes an event "
                   "is more than 8 EiB a rank", (unsigned long long)w,
                   (unsigned long long)x->bytes_per_event);
        return comm_agree(x->c, err);
    }
    if (w)
        per_rank = (int64_t)(w * x->bytes_per_event);
    cs_sysmem m;
    sysmem_query(&m);
    if (sysmem_check_budget(per_rank, x->c->node_size, x->c->node,
                            w ? (int64_t)x->bytes_per_event : 0,
                            &m, err) != CS_OK) {
        if (w)
            cs_err_wrap(err, "out of memory: --window-events %llu (%llu bytes an event)",
                        (unsigned long long)w, (unsigned long long)x->bytes_per_event);
        else
            cs_err_wrap(err, "out of memory: memory_per_rank");
    }
    return comm_agree(x->c, err);
}

/* Rank 0: no directory where one of this run's outputs goes (sessions.h5
 * only with --sessions), found before the job rather than by its commit. */
static int check_output_dirs(const run_ctx *x, cs_err *err)
{
    const char *names[32];
    int n = 0;
    for (int i = 0; report_outputs[i] && n < 31; i++)
        if (x->cfg->output_sessions || strcmp(report_outputs[i], "sessions.h5") != 0)
            names[n++] = report_outputs[i];
    names[n] = NULL;
    return fs_check_no_dir(x->cfg->output_dir, names, err);
}

static int prolog(run_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    timer_start(&x->tm, PH_PLAN);
    choose_records(x);
    if (check_memory(x, err) != CS_OK)
        return err->code;
    if (c->rank == 0)
        plan_inputs(x, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    int rc = plan_bcast(c, &x->plan, err);
    /* Every profile value, each rank its slice: a bad one stops the job
     * before it starts, at 1/ranks of the reading on one rank. */
    for (int i = 0; rc == CS_OK && i < x->plan.nprofiles; i++)
        rc = profiles_check(c, x->plan.profiles[i].path, x->plan.profiles[i].rows, err);
    if (rc != CS_OK)
        return rc;
    /* The locks before the temporary directory (whose sweep of killed
     * jobs' directories needs it) and before anything is removed (a
     * --force over a checkpoint, the commit, a finished run's checkpoint);
     * input errors are found first, as without them. */
    int own = 0;
    if (c->rank == 0 && check_output_dirs(x, err) == CS_OK &&
        fs_lock_output(x->cfg->output_dir, &x->lock_fd, err) == CS_OK &&
        ckpt_lock_dir(x->cfg, &x->ck_lock_fd, err) == CS_OK &&
        ckpt_published(x->cfg, x->o, &x->plan, &x->finished, &own, err) == CS_OK &&
        !x->finished)
        fs_begin_output(x->cfg->output_dir, report_outputs, x->o->force || own, x->outtmp,
                        sizeof x->outtmp, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    if (comm_bcast(c, &x->finished, sizeof x->finished, err) != CS_OK || x->finished)
        return err->code;
    rc = comm_bcast(c, x->outtmp, sizeof x->outtmp, err);
    if (rc == CS_OK && x->cfg->output_sessions)
        rc = spool_open(&x->spool, x->outtmp, c->rank, err);
    if (rc == CS_OK)
        rc = tz_open(&x->tz, x->cfg->report_timezone, err);
    if (rc == CS_OK)
        rc = users_init(&x->users, 1024, x->cfg->rules.nsegments, err);
    if (rc == CS_OK)
        rc = shuffle_init(&x->sh, c->size, c->rank, err);
    /* Collective from here: every rank reaches the sharing's set-up. */
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    char why[300];
    rc = shuffle_share_node(c, &x->sh, x->cfg->shared_memory, why, sizeof why, err);
    if (rc == CS_OK && why[0] && c->rank == 0 && !x->o->quiet)
        fprintf(stderr, "clickseg run: note: the shuffle goes through MPI, not shared memory: "
                "%s\n", why);
    if (rc == CS_OK)
        rc = stats_init(&x->st, x->cfg->rules.nsegments, err);
    if (rc == CS_OK) {
        x->readers = cs_calloc((size_t)(x->plan.nfiles + 1), sizeof *x->readers, err, "readers");
        if (!x->readers)
            rc = CS_ENOMEM;
    }
    sess_init(&x->sz);
    x->sz.gap_us = x->cfg->session_gap_us;
    x->sz.max_duration_us = x->cfg->session_max_duration_us;
    x->sz.source_mode = x->cfg->session_mode == SESSION_SOURCE;
    x->sz.split_period = x->cfg->session_split - 1;
    x->sz.rules = &x->cfg->rules;
    x->sz.tz = &x->tz;
    x->sz.need_ids = x->need_ids;
    x->sz.need_entry_time = x->need_entry_time;
    x->sh.narrow = x->narrow;
    x->sz.emit = on_session;
    x->sz.emit_ctx = x;
    x->maxts = INT64_MIN;
    x->days.day0 = INT64_MIN;
    timer_stop(&x->tm, PH_PLAN);
    return comm_agree(c, err);
}

/* ---- epilog ---- */

/* Per-segment user counts and the user total, from this rank's table. */
static void count_users(run_ctx *x)
{
    for (uint64_t i = 0; i < x->users.n; i++) {
        const cs_user *u = &x->users.slot[i];
        if (!u->used)
            continue;
        x->st.tot.users++;
        for (int s = 0; s < x->st.nseg; s++)
            x->st.seg[s].users += users_seg_sessions(&x->users, u, s) > 0;
    }
}

/* Rank 0: the user text behind the targets' and prospects' ids. A
 * dictionary removed since the plan read it costs the keys, not the run's
 * results: said in a note, as merge does. */
static int target_keys(run_ctx *x, cs_err *err)
{
    const cs_ckpt *k = &x->ck;
    const char **dicts = cs_calloc((size_t)k->ndicts, sizeof *dicts, err, "dictionary list");
    if (!dicts)
        return CS_ENOMEM;
    for (int i = 0; i < k->ndicts; i++)
        dicts[i] = k->dicts[i];
    cs_dict_skip skip;
    int rc = userkeys_for_ranking(&x->ranking, dicts, k->ndicts, &skip, err);
    free(dicts);
    if (rc == CS_OK && skip.path[0] && skip.gone)
        fprintf(stderr, "clickseg run: note: the user dictionary in %s is gone (it was there "
                "when the run, or the earlier run of its --state chain that read it, started): "
                "targets.csv and prospects.csv list the hashed ids without their user_key\n",
                skip.path);
    else if (rc == CS_OK && skip.path[0])
        fprintf(stderr, "clickseg run: note: the user dictionary in %s cannot be read (%s): "
                "targets.csv and prospects.csv list the hashed ids it alone knew without their "
                "user_key\n", skip.path, skip.cause);
    return rc;
}

static int epilog(run_ctx *x, double t_start, cs_err *err)
{
    const cs_comm *c = x->c;
    run_release_window_buffers(x, 0);   /* the customers table needs the room */
    timer_start(&x->tm, PH_REDUCE);
    count_users(x);
    int rc = stats_reduce(c, &x->st, err);
    if (rc == CS_OK && c->rank == 0)
        rc = run_check_conservation(&x->st, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    rc = rank_customers(c, x->cfg, &x->plan, &x->users, x->maxts, &x->ranking, err);
    timer_stop(&x->tm, PH_REDUCE);
    if (rc != CS_OK)
        return rc;
    timer_start(&x->tm, PH_WRITE);
    rc = report_write_customers(c, x->outtmp, &x->users, &x->cfg->rules, &x->ranking,
                                (uint64_t)x->cfg->memory_per_rank / 16, err);
    if (rc == CS_OK && x->cfg->output_sessions)
        rc = report_write_sessions(c, x->outtmp, &x->spool, &x->cfg->rules,
                                   (uint64_t)x->cfg->memory_per_rank / 16, err);
    /* Closed before rank 0 moves the outputs (the collectives below come
     * first): on NFS an unlinked file still open stays in its directory
     * as .nfsNNNN, and the temporary directory could not be removed. */
    spool_close(&x->spool);
    timer_stop(&x->tm, PH_WRITE);
    cs_run_meta meta;
    if (rc == CS_OK)
        rc = run_fill_meta(x, &meta, t_start, err);
    if (rc == CS_OK && c->rank == 0 && x->ck.ndicts)
        rc = target_keys(x, err);
    if (rc == CS_OK && c->rank == 0)
        rc = report_write_summary(x->outtmp, x->cfg, &x->st, &x->ranking, &meta, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    if (c->rank == 0)
        fs_commit_output(x->outtmp, x->cfg->output_dir, report_outputs, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    if (c->rank == 0 && x->ranking.profile_conflicts > 0)   /* a warning: even with -q */
        fprintf(stderr, "clickseg run: note: the profile tables give %lld values differently "
                "for the same users; the table read last (in input order) wins "
                "(report.json ranking.profile_conflicts)\n",
                (long long)x->ranking.profile_conflicts);
    if (c->rank == 0 && !x->o->quiet) {
        const cs_totals *t = &x->st.tot;
        printf("clickseg run: %lld events, %lld sessions (%lld bot), %lld users, %lld late, "
               "%lld rejected; %d rank%s, %llu window%s, %.2f s; report in %s/report.json\n",
               (long long)t->events, (long long)t->sessions, (long long)t->bot_sessions,
               (long long)t->users, (long long)t->late_events, (long long)t->rejected_events,
               c->size, c->size == 1 ? "" : "s", (unsigned long long)x->plan.nwindows,
               x->plan.nwindows == 1 ? "" : "s", meta.wall_s, x->cfg->output_dir);
        if (x->o->verbose) {
            /* One write: mpirun --tag-output tags what each write starts. */
            char line[512];
            int at = snprintf(line, sizeof line, "phase times (slowest rank, fastest in brackets):");
            for (int p = 0; p < PH_N; p++)
                at += snprintf(line + at, sizeof line - (size_t)at, " %s %.3f s (%.3f)",
                               timer_phase_name(p), meta.phase_s[p], meta.phase_s_fastest[p]);
            fprintf(stderr, "%s; peak RSS %.1f MiB (largest rank)\n", line,
                    meta.peak_rss_kb_max / 1024.0);
        }
    }
    return CS_OK;
}

static void cleanup(run_ctx *x)
{
    for (int f = 0; x->readers && f < x->plan.nfiles; f++)
        archive_reader_close(x->readers[f]);
    free(x->readers);
    run_release_window_buffers(x, 0);
    free(x->carry);
    shuffle_free(&x->sh);
    sess_free(&x->sz);
    users_free(&x->users);
    stats_free(&x->st);
    rank_free(&x->ranking);
    tz_close(&x->tz);
    plan_free(&x->plan);
    free(x->dict_paths);
    ckpt_end(&x->ck);
}

/* Checkpoints and --state reach the run's state through these views. */
static int begin_long_run(run_ctx *x, cs_err *err)
{
    cs_run_state s = {&x->users, &x->st, &x->sz, &x->carry, &x->ncarry, &x->carry_cap,
                      x->cfg->output_sessions ? &x->spool : NULL, &x->maxts};
    int rc = ckpt_begin(&x->ck, x->c, x->cfg, x->o, &x->plan, &s, err);
    if (rc != CS_OK)
        return rc;
    /* Rank 0: the inputs' dictionaries, then the earlier runs' of a --state
     * chain (or those a checkpoint recorded), each once, into x->ck.dicts:
     * the targets' keys are looked up in all of them, report.h5 lists
     * them, and every snapshot from here on keeps them for the next run of
     * the chain. */
    if (x->c->rank == 0)
        ckpt_chain_dicts(&x->ck, (const char (*)[CS_DICT_PATH_LEN])x->dict_paths, x->ndicts,
                         err);
    return comm_agree(x->c, err);
}

int run_job(const cs_comm *c, const cs_config *cfg, const cs_run_opts *opts, cs_err *err)
{
    double t_start = timer_now();
    run_ctx x;
    memset(&x, 0, sizeof x);
    spool_init(&x.spool);
    x.lock_fd = x.ck_lock_fd = -1;
    x.c = c;
    x.cfg = cfg;
    x.o = opts;
    int rc = prolog(&x, err);
    if (rc == CS_OK && x.finished) {   /* ckpt_published: the outputs are there already */
        if (c->rank == 0) {
            ckpt_unlock_dir(cfg, x.ck_lock_fd);
            fs_unlock_output(cfg->output_dir, x.lock_fd);
        }
        cleanup(&x);
        return CS_OK;
    }
    if (rc == CS_OK)
        rc = begin_long_run(&x, err);
    cs_progress prog = {0};
    if (rc == CS_OK)
        progress_init(&prog, c, stderr, opts->progress, opts->quiet, opts->verbose, &x.plan, t_start);
    /* With --state one extra, empty window closes what the state keeps open. */
    uint64_t nw = x.plan.nwindows + ckpt_extra_windows(&x.ck);
    for (uint64_t w = 0; rc == CS_OK && w < nw; w++) {
        rc = run_one_window(&x, w, err);
        if (rc == CS_OK)
            rc = run_check_shares(&x, w, err);
        if (rc == CS_OK && w < x.plan.nwindows)
            rc = progress_window(&prog, c, w, x.users.n, x.ncarry, err);
        if (rc == CS_OK && w + 1 < nw)
            rc = ckpt_window_end(&x.ck, &x.plan, w, err);
    }
    progress_end(&prog);
    if (rc == CS_OK)
        rc = epilog(&x, t_start, err);
    if (rc == CS_OK)
        rc = ckpt_finish(&x.ck, err);
    spool_close(&x.spool);   /* before the directory it was made in goes */
    if (rc != CS_OK && c->rank == 0 && x.outtmp[0])
        fs_abandon_output(x.outtmp);
    if (c->rank == 0) {   /* after the outputs and the checkpoint are settled */
        ckpt_unlock_dir(cfg, x.ck_lock_fd);
        fs_unlock_output(cfg->output_dir, x.lock_fd);
    }
    cleanup(&x);
    return rc;
}
