/* run.c — the job: prolog (plan), the window loop, epilog (reduce, write).
 * See run.h for the data flow; each phase is one function below. */
#include "clickseg/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clickseg/archive.h"
#include "clickseg/checkpoint.h"
#include "clickseg/event.h"
#include "clickseg/fsutil.h"
#include "clickseg/period.h"
#include "clickseg/plan.h"
#include "clickseg/rank.h"
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

typedef struct run_ctx {
    const cs_comm *c;
    const cs_config *cfg;
    const cs_run_opts *o;
    cs_plan plan;
    cs_timers tm;
    cs_users users;
    cs_sessionizer sz;
    cs_stats st;
    cs_tz tz;
    cs_shuffle sh;
    cs_columns cols;
    uint8_t *keep;
    uint64_t col_cap;
    cs_archive_reader **readers;   /* one per plan file, opened on first use */
    cs_event *work, *carry;
    uint64_t work_cap, ncarry, carry_cap;
    int64_t maxts;                 /* max ts of every row read so far, all ranks */
    cs_session *sess;
    uint64_t nsess, sess_cap;
    cs_ranking ranking;
    char outtmp[1200];
    char dict_path[1024];          /* rank 0: an input holding /dictionaries ("" none) */
    cs_ckpt ck;                    /* checkpoints, --resume, signals, --state */
    uint64_t passes;               /* window parts run (window_parts) */
    uint64_t shuffle_bytes;        /* records this rank sent to other ranks */
} run_ctx;

/* ---- the emit callback: one closed session ---- */

static int on_session(void *vctx, cs_user *u, const cs_session *s, cs_err *err)
{
    run_ctx *x = vctx;
    int seg = s->segment, bot = seg == x->cfg->rules.bot_segment;
    const int64_t *v = s->f.v;
    stats_add_session(&x->st, seg, bot, &s->f);
    u->sessions++;
    u->seg_sessions[seg]++;
    u->purchases += v[F_PURCHASES];
    u->revenue += v[F_REVENUE];
    u->refunds += v[F_REFUND_AMOUNT];
    u->purchase_sessions += !bot && v[F_PURCHASES] > 0;
    u->cart_abandons += v[F_CART_ADDS] > 0 && v[F_PURCHASES] == 0;
    u->cart_removes += v[F_CART_REMOVES];
    int64_t key = period_key(&x->tz, x->cfg->report_period, s->start_ts);
    int64_t *row = stats_period_row(&x->st, key, err);
    if (!row)
        return CS_ENOMEM;
    int64_t *r = row + (size_t)seg * PS_NFIELDS;
    r[PS_SESSIONS]++;
    r[PS_EVENTS] += v[F_EVENTS];
    r[PS_PURCHASE_SESSIONS] += v[F_PURCHASES] > 0;
    r[PS_REVENUE] += v[F_REVENUE];
    r[PS_REFUNDS] += v[F_REFUND_AMOUNT];
    /* A user's sessions close in time order, so periods only move forward. */
    if (u->last_period[seg] != (int32_t)key) {
        u->last_period[seg] = (int32_t)key;
        r[PS_USERS]++;
    }
    if (!x->cfg->output_sessions)
        return CS_OK;
    if (x->nsess == x->sess_cap) {
        uint64_t cap = x->sess_cap ? 2 * x->sess_cap : 4096;
        cs_session *p = cs_realloc(x->sess, cap * sizeof *p, err, "sessions table");
        if (!p)
            return CS_ENOMEM;
        x->sess = p;
        x->sess_cap = cap;
    }
    x->sess[x->nsess++] = *s;
    return CS_OK;
}

/* ---- prolog ---- */

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
    cs_file_info *info = rc == CS_OK ? cs_calloc((size_t)pl.n, sizeof *info, err, "file list") : NULL;
    if (rc == CS_OK && !info)
        rc = CS_ENOMEM;
    for (int i = 0; rc == CS_OK && i < pl.n; i++)
        rc = archive_scan(pl.path[i], &info[i], err);
    if (rc == CS_OK)
        rc = plan_build(info, pl.n, cfg->memory_per_rank, x->o->window_rows_per_rank,
                        x->c->size, &x->plan, err);
    int aside = 0;   /* files without events: profile tables, dictionaries */
    for (int i = 0; rc == CS_OK && i < pl.n; i++) {
        aside += !info[i].has_events;
        if (info[i].has_dictionaries && !x->dict_path[0])
            snprintf(x->dict_path, sizeof x->dict_path, "%s", info[i].path);
    }
    if (rc == CS_OK && x->plan.nfiles == 0)
        rc = aside == pl.n
                 ? cs_err_set(err, CS_EINPUT, "the inputs hold only profile tables (/customers) or "
                              "dictionaries, no events")
                 : cs_err_set(err, CS_EINPUT, "the inputs hold no events: %d file(s), every "
                              "/events empty", pl.n);
    free(info);
    fs_pathlist_free(&pl);
    return rc;
}

/* Collective: every node must hold its ranks' budgets (memory_per_rank, or
 * what --window-events implies), else the kernel would kill a rank mid-run. */
static int check_memory(run_ctx *x, cs_err *err)
{
    uint64_t w = x->o->window_rows_per_rank;
    int64_t per_rank = x->cfg->memory_per_rank;
    if (w)
        per_rank = w > (uint64_t)(INT64_MAX / CS_BYTES_PER_EVENT) ? INT64_MAX
                   : (int64_t)w * CS_BYTES_PER_EVENT;
    cs_sysmem m;
    sysmem_query(&m);
    if (sysmem_check_budget(per_rank, x->c->node_size, x->c->node, w ? CS_BYTES_PER_EVENT : 0,
                            &m, err) != CS_OK) {
        if (w)
            cs_err_wrap(err, "out of memory: --window-events %llu (%d bytes an event)",
                        (unsigned long long)w, CS_BYTES_PER_EVENT);
        else
            cs_err_wrap(err, "out of memory: memory_per_rank");
    }
    return comm_agree(x->c, err);
}

static int prolog(run_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    static const char *const outputs[] = {"report.json", "report.h5", "report.html",
                                          "customers.h5", "sessions.h5", "segments.csv",
                                          "periods.csv", "totals.csv", "targets.csv",
                                          "prospects.csv", "tiers.csv", "rfm_segments.csv",
                                          "profiles.csv", NULL};
    timer_start(&x->tm, PH_PLAN);
    if (check_memory(x, err) != CS_OK)
        return err->code;
    if (c->rank == 0 && plan_inputs(x, err) == CS_OK)
        fs_begin_output(x->cfg->output_dir, outputs, x->o->force, x->outtmp, sizeof x->outtmp, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    int rc = plan_bcast(c, &x->plan, err);
    if (rc == CS_OK)
        rc = comm_bcast(c, x->outtmp, sizeof x->outtmp, err);
    if (rc == CS_OK)
        rc = tz_open(&x->tz, x->cfg->report_timezone, err);
    if (rc == CS_OK)
        rc = users_init(&x->users, 1024, err);
    if (rc == CS_OK)
        rc = shuffle_init(&x->sh, c->size, c->rank, err);
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
    x->sz.emit = on_session;
    x->sz.emit_ctx = x;
    x->maxts = INT64_MIN;
    timer_stop(&x->tm, PH_PLAN);
    return comm_agree(c, err);
}

/* ---- the window loop ---- */

static int ensure_columns(run_ctx *x, uint64_t n, cs_err *err)
{
    if (n <= x->col_cap)
        return CS_OK;
    /* Parts differ by a few rows from rank to rank and window to window:
     * growing to the exact count would map fresh (kernel-zeroed) pages
     * for every column again and again. */
    n += n / 16;
    cs_columns *c = &x->cols;
    free(c->ts); free(c->user_id); free(c->event_type); free(c->product_id);
    free(c->category_id); free(c->brand_id); free(c->price); free(c->session_id);
    free(x->keep);
    c->ts = cs_malloc(n * 8, err, "read buffer");
    c->user_id = cs_malloc(n * 8, err, "read buffer");
    c->product_id = cs_malloc(n * 8, err, "read buffer");
    /* Only source mode reads the archive's session ids. */
    c->session_id = x->sz.source_mode ? cs_malloc(n * 8, err, "read buffer") : NULL;
    c->price = cs_malloc(n * 8, err, "read buffer");
    c->category_id = cs_malloc(n * 4, err, "read buffer");
    c->brand_id = cs_malloc(n * 4, err, "read buffer");
    c->event_type = cs_malloc(n, err, "read buffer");
    x->keep = cs_malloc(n, err, "read buffer");
    x->col_cap = n;
    if (!(c->ts && c->user_id && c->product_id && (c->session_id || !x->sz.source_mode) &&
          c->price && c->category_id &&
          c->brand_id && c->event_type && x->keep)) {
        x->col_cap = 0;
        return CS_ENOMEM;
    }
    return CS_OK;
}

/* Reads global rows [start, start+count) into the column buffers; the range
 * may cross files. Readers of files wholly before `start` are closed. */
static int read_rows(run_ctx *x, uint64_t start, uint64_t count, cs_err *err)
{
    int rc = ensure_columns(x, count, err);
    uint64_t done = 0;
    while (rc == CS_OK && done < count) {
        uint64_t row = start + done;
        int f = plan_file_of(&x->plan, row);
        const cs_plan_file *pf = &x->plan.files[f];
        for (int k = 0; k < f; k++)
            if (x->readers[k]) {
                archive_reader_close(x->readers[k]);
                x->readers[k] = NULL;
            }
        if (!x->readers[f] && (rc = archive_reader_open(pf->path, &x->readers[f], err)) != CS_OK)
            break;
        uint64_t local = row - pf->row0, k = pf->rows - local;
        if (k > count - done)
            k = count - done;
        cs_columns at = {x->cols.ts + done, x->cols.user_id + done, x->cols.event_type + done,
                         x->cols.product_id + done, x->cols.category_id + done,
                         x->cols.brand_id + done, x->cols.price + done,
                         x->cols.session_id ? x->cols.session_id + done : NULL};
        rc = archive_read_range(x->readers[f], local, k, &at, err);
        done += k;
    }
    return rc;
}

/* Marks each row used, rejected (event_type outside 0..7, ts < 0 or after
 * CS_TS_MAX) or late (see docs/run.md: a row is late
 * when its ts is more than max_lateness older than the largest ts of any
 * earlier row in archive order), and advances the global running max. */
static int classify(run_ctx *x, uint64_t n, cs_err *err)
{
    const int64_t L = x->cfg->session_max_lateness_us;
    int64_t local_max = INT64_MIN, before;
    for (uint64_t i = 0; i < n; i++) {
        int bad = x->cols.event_type[i] >= EV_NTYPES || x->cols.ts[i] < 0 || x->cols.ts[i] > CS_TS_MAX;
        x->keep[i] = !bad;
        if (!bad && x->cols.ts[i] > local_max)
            local_max = x->cols.ts[i];
    }
    int rc = comm_exscan_max_i64(x->c, local_max, &before, err);
    if (rc != CS_OK)
        return rc;
    int64_t run = before > x->maxts ? before : x->maxts;
    for (uint64_t i = 0; i < n; i++) {
        if (!x->keep[i]) {
            x->st.tot.rejected_events++;
            continue;
        }
        int64_t ts = x->cols.ts[i];
        if (run != INT64_MIN && ts < run - L) {
            x->keep[i] = 0;
            x->st.tot.late_events++;
        } else if (ts > run) {
            run = ts;
        }
    }
    int64_t m = local_max > x->maxts ? local_max : x->maxts;
    rc = comm_max_i64(x->c, &m, 1, 1, err);
    x->maxts = m;
    x->st.tot.rows_read += (int64_t)n;
    return rc;
}

/* Counts the carry's records per level-1 bucket and makes sure they are
 * grouped by bucket: a carry left by the previous window is (it is in
 * sorted order), one restored from a checkpoint on another rank count is
 * not. Regrouping is a stable scatter, so each user's records keep their
 * order. */
static int group_carry(run_ctx *x, int l1, uint64_t *carry_n, cs_err *err)
{
    int grouped = 1;
    uint64_t prev = 0;
    memset(carry_n, 0, ((size_t)1 << l1) * sizeof *carry_n);
    for (uint64_t i = 0; i < x->ncarry; i++) {
        uint64_t b = sort_l1_bucket(x->carry[i].user_id, l1);
        grouped &= b >= prev;
        prev = b;
        carry_n[b]++;
    }
    if (grouped)
        return CS_OK;
    uint64_t cap = x->carry_cap > x->ncarry ? x->carry_cap : x->ncarry;
    cs_event *g = cs_malloc((cap + 1) * sizeof *g, err, "late-arrival carry");
    uint64_t *at = cs_calloc((size_t)1 << l1, sizeof *at, err, "sort runs");
    if (!g || !at) {
        free(g);
        free(at);
        return CS_ENOMEM;
    }
    for (size_t k = 1; k < (size_t)1 << l1; k++)
        at[k] = at[k - 1] + carry_n[k - 1];
    for (uint64_t i = 0; i < x->ncarry; i++)
        g[at[sort_l1_bucket(x->carry[i].user_id, l1)]++] = x->carry[i];
    free(at);
    free(x->carry);
    x->carry = g;
    x->carry_cap = cap;
    return CS_OK;
}

/* The carried records (already in sorted order, so bucket-grouped) and
 * every source's records, sorted into the work buffer: the carry first,
 * then the sources in rank order, which is row order (sort.h). Sessionize
 * then moves those at or after the watermark back into the carry. */
static int merge_sort_split(run_ctx *x, int64_t watermark, uint64_t *nproc, uint64_t *nusers,
                            cs_err *err)
{
    uint64_t n = x->ncarry + shuffle_owned(&x->sh);
    if (n > x->work_cap) {
        uint64_t cap = n + n / 16;   /* headroom, as the read buffers */
        cs_event *w = cs_realloc(x->work, cap * sizeof *w, err, "sort buffer");
        if (!w)
            return CS_ENOMEM;
        x->work = w;
        x->work_cap = cap;
    }
    int l1 = x->sh.l1_bits;
    cs_sort_run *runs = cs_calloc((size_t)x->c->size + 1, sizeof *runs, err, "sort runs");
    uint64_t *carry_n = cs_calloc((size_t)1 << l1, sizeof *carry_n, err, "sort runs");
    if (!runs || !carry_n) {
        free(runs);
        free(carry_n);
        return CS_ENOMEM;
    }
    if (group_carry(x, l1, carry_n, err) != CS_OK) {
        free(runs);
        free(carry_n);
        return CS_ENOMEM;
    }
    runs[0].ev = x->carry;
    runs[0].bucket_n = carry_n;
    shuffle_runs(&x->sh, runs + 1);
    uint64_t later = 0;
    int rc = sort_runs_into(runs, x->c->size + 1, l1, x->work, watermark, &later, nusers, err);
    free(runs);
    free(carry_n);
    if (rc != CS_OK)
        return rc;
    if (later > x->carry_cap) {
        cs_event *cbuf = cs_realloc(x->carry, later * sizeof *cbuf, err, "late-arrival carry");
        if (!cbuf)
            return CS_ENOMEM;
        x->carry = cbuf;
        x->carry_cap = later;
    }
    /* Sessionize moves the later events (a suffix of each user's run) to
     * the carry as it passes them: no pass of its own over the window. */
    x->ncarry = 0;
    *nproc = n;
    return CS_OK;
}

/* Frees the per-window buffers; the next window allocates them again at
 * its own size. */
static void release_window_buffers(run_ctx *x)
{
    cs_columns *c = &x->cols;
    free(c->ts); free(c->user_id); free(c->event_type); free(c->product_id);
    free(c->category_id); free(c->brand_id); free(c->price); free(c->session_id);
    free(x->keep);
    memset(c, 0, sizeof *c);
    x->keep = NULL;
    x->col_cap = 0;
    free(x->work);
    x->work = NULL;
    x->work_cap = 0;
    shuffle_release(&x->sh);
}

/* Collective: into how many consecutive parts window w must be cut so that
 * one part's in-flight events fit in what the lasting state leaves of
 * memory_per_rank (the same count on every rank). The lasting state (user
 * table, the pool of unfinished sessions, the epilog's per-user arrays) grows with the users
 * a rank has seen; once it takes more than 7/8 of the budget, the run
 * stops with the figures to fix it. With --window-events the windows are
 * what the user asked for. */
static int window_parts(run_ctx *x, uint64_t w, uint64_t *nparts, cs_err *err)
{
    *nparts = 1;
    if (x->o->window_rows_per_rank)
        return CS_OK;
    uint64_t start, count;
    plan_rank_range(&x->plan, w, x->c->rank, x->c->size, &start, &count);
    int64_t budget = x->cfg->memory_per_rank;
    /* The table may grow once more during the window (by 1/8, the index
     * by doubling): count that step in now. */
    uint64_t lasting = users_bytes(&x->users) + x->users.cap / 8 * sizeof(cs_user) +
                       x->users.icap * sizeof(cs_user_ref) + sess_bytes(&x->sz) +
                       x->users.n * CS_EPILOG_BYTES_PER_USER;
    int64_t need = 1;
    if (lasting > (uint64_t)budget / 8 * 7) {
        cs_err_set(err, CS_ENOMEM, "out of memory: rank %d holds %llu users in %.0f MiB, more "
                   "than 7/8 of memory_per_rank (%.0f MiB); raise memory_per_rank (this rank "
                   "needs at least %.0f MiB by now) or run with more ranks (each holds about "
                   "1/N of the users); a checkpoint lets the run resume with either",
                   x->c->rank, (unsigned long long)x->users.n, lasting / 1048576.0,
                   budget / 1048576.0, lasting * 8.0 / 7 / 1048576.0 * 1.25);
    } else {
        uint64_t fit = ((uint64_t)budget - lasting) / CS_BYTES_PER_EVENT;
        need = (int64_t)((count + x->ncarry + fit - 1) / fit);
    }
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    int rc = comm_max_i64(x->c, &need, 1, 1, err);
    *nparts = need > 1 ? (uint64_t)need : 1;
    /* Smaller parts than before: give the larger buffers back. */
    if (rc == CS_OK && *nparts > 1 && x->col_cap > count / *nparts + count / *nparts / 8 + 1)
        release_window_buffers(x);
    return rc;
}

/* One part of a window: read, classify, shuffle, sort, sessionize. The
 * last part of the last window is final: every session closes. */
static int one_part(run_ctx *x, uint64_t w, uint64_t part, uint64_t nparts, int final,
                    cs_err *err)
{
    uint64_t start, count, nproc = 0, nusers = 0;
    plan_part_range(&x->plan, w, part, nparts, x->c->rank, x->c->size, &start, &count);
    timer_start(&x->tm, PH_READ);
    read_rows(x, start, count, err);
    timer_stop(&x->tm, PH_READ);
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    timer_start(&x->tm, PH_SHUFFLE);
    int rc = classify(x, count, err);
    if (rc == CS_OK && shuffle_pack(&x->sh, &x->cols, x->keep, count, err) != CS_OK)
        rc = err->code;
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    x->shuffle_bytes += (x->sh.nsend - x->sh.counts[x->c->rank]) * sizeof(cs_event);
    rc = shuffle_exchange(x->c, &x->sh, err);
    timer_stop(&x->tm, PH_SHUFFLE);
    int64_t L = x->cfg->session_max_lateness_us;
    int64_t wm = final ? INT64_MAX : x->maxts == INT64_MIN ? INT64_MIN : x->maxts - L;
    timer_start(&x->tm, PH_SORT);
    if (rc == CS_OK)
        rc = merge_sort_split(x, wm, &nproc, &nusers, err);
    timer_stop(&x->tm, PH_SORT);
    timer_start(&x->tm, PH_SESSIONIZE);
    if (rc == CS_OK)
        rc = sess_process_counted(&x->sz, &x->users, x->work, nproc, nusers, wm, final, x->carry,
                                  &x->ncarry, err);
    if (rc == CS_OK)
        rc = sess_close_idle(&x->sz, &x->users, wm, final, err);
    timer_stop(&x->tm, PH_SESSIONIZE);
    return comm_agree(x->c, err);
}

static int one_window(run_ctx *x, uint64_t w, cs_err *err)
{
    int last = w + 1 == x->plan.nwindows + ckpt_extra_windows(&x->ck);
    uint64_t nparts = 1;
    int rc = window_parts(x, w, &nparts, err);
    x->passes += nparts;
    for (uint64_t p = 0; rc == CS_OK && p < nparts; p++)
        rc = one_part(x, w, p, nparts, last && p + 1 == nparts, err);
    return rc;
}

/* ---- epilog ---- */

static int64_t peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_maxrss;
}

/* Per-segment user counts and the user total, from this rank's table. */
static void count_users(run_ctx *x)
{
    for (uint64_t i = 0; i < x->users.n; i++) {
        const cs_user *u = &x->users.slot[i];
        if (!u->used)
            continue;
        x->st.tot.users++;
        for (int s = 0; s < x->st.nseg; s++)
            x->st.seg[s].users += u->seg_sessions[s] > 0;
    }
}

static int fill_meta(run_ctx *x, cs_run_meta *m, double t_start, cs_err *err)
{
    memset(m, 0, sizeof *m);
    m->ranks = x->c->size;
    m->files = x->plan.nfiles;
    m->windows = x->plan.nwindows;
    m->passes = x->passes;
    m->window_rows = x->plan.window_rows;
    m->total_rows = x->plan.total_rows;
    m->config_hash = config_hash(x->cfg);
    snprintf(m->inputs, sizeof m->inputs, "%s", x->o->inputs_desc);
    snprintf(m->currency, sizeof m->currency, "%s", x->plan.currency);
    int64_t v[PH_N + 1];
    for (int p = 0; p < PH_N; p++)
        v[p] = (int64_t)(x->tm.total[p] * 1e6);
    v[PH_N] = peak_rss_kb();
    m->peak_rss_kb_rank0 = v[PH_N];
    int rc = comm_max_i64(x->c, v, PH_N + 1, 0, err);
    int64_t sent = (int64_t)x->shuffle_bytes;
    if (rc == CS_OK)
        rc = comm_sum_i64(x->c, &sent, 1, 0, err);
    m->shuffle_bytes = (uint64_t)sent;
    for (int p = 0; p < PH_N; p++)
        m->phase_s[p] = (double)v[p] / 1e6;
    m->peak_rss_kb_max = v[PH_N];
    m->wall_s = timer_now() - t_start;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m->started_utc, sizeof m->started_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return rc;
}

/* Every row must be accounted for: used, rejected or late. */
static int check_conservation(const cs_stats *st, cs_err *err)
{
    const cs_totals *t = &st->tot;
    if (t->rows_read != t->events + t->late_events + t->rejected_events)
        return cs_err_set(err, CS_EINTERNAL, "row accounting does not add up: %lld rows read, "
                          "%lld used + %lld late + %lld rejected", (long long)t->rows_read,
                          (long long)t->events, (long long)t->late_events,
                          (long long)t->rejected_events);
    return CS_OK;
}

/* Rank 0: the user text behind the targets' and prospects' ids. */
static int target_keys(run_ctx *x, cs_err *err)
{
    cs_ranking *r = &x->ranking;
    uint64_t n = r->ntargets + r->nprospects;
    uint64_t *ids = cs_malloc((n + 1) * sizeof *ids, err, "target ids");
    if (!ids)
        return CS_ENOMEM;
    for (uint64_t i = 0; i < r->ntargets; i++)
        ids[i] = r->targets[i].user_id;
    for (uint64_t i = 0; i < r->nprospects; i++)
        ids[r->ntargets + i] = r->prospects[i].user_id;
    char **keys = NULL;
    int rc = userkeys_lookup(x->dict_path, ids, n, &keys, err);
    free(ids);
    if (rc != CS_OK || !keys)
        return rc;
    /* One lookup, two lists: the prospects' keys are the tail. */
    r->target_keys = cs_calloc(r->ntargets + 1, sizeof *r->target_keys, err, "target keys");
    r->prospect_keys = cs_calloc(r->nprospects + 1, sizeof *r->prospect_keys, err, "target keys");
    if (!r->target_keys || !r->prospect_keys) {
        userkeys_free(keys, n);
        return CS_ENOMEM;
    }
    memcpy(r->target_keys, keys, r->ntargets * sizeof *keys);
    memcpy(r->prospect_keys, keys + r->ntargets, r->nprospects * sizeof *keys);
    free(keys);
    return CS_OK;
}

static int epilog(run_ctx *x, double t_start, cs_err *err)
{
    const cs_comm *c = x->c;
    release_window_buffers(x);   /* the customers table needs the room */
    timer_start(&x->tm, PH_REDUCE);
    count_users(x);
    int rc = stats_reduce(c, &x->st, err);
    if (rc == CS_OK && c->rank == 0)
        rc = check_conservation(&x->st, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    rc = rank_customers(c, x->cfg, &x->plan, &x->users, x->maxts, &x->ranking, err);
    timer_stop(&x->tm, PH_REDUCE);
    if (rc != CS_OK)
        return rc;
    timer_start(&x->tm, PH_WRITE);
    rc = report_write_customers(c, x->outtmp, &x->users, &x->cfg->rules, &x->ranking, err);
    if (rc == CS_OK && x->cfg->output_sessions)
        rc = report_write_sessions(c, x->outtmp, x->sess, x->nsess, &x->cfg->rules, err);
    timer_stop(&x->tm, PH_WRITE);
    cs_run_meta meta;
    if (rc == CS_OK)
        rc = fill_meta(x, &meta, t_start, err);
    if (rc == CS_OK && c->rank == 0 && x->dict_path[0])
        rc = target_keys(x, err);
    if (rc == CS_OK && c->rank == 0)
        rc = report_write_summary(x->outtmp, x->cfg, &x->st, &x->ranking, &meta, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    if (c->rank == 0)
        fs_commit_output(x->outtmp, x->cfg->output_dir, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    if (c->rank == 0 && !x->o->quiet) {
        const cs_totals *t = &x->st.tot;
        printf("clickseg run: %lld events, %lld sessions (%lld bot), %lld users, %lld late, "
               "%lld rejected; %d ranks, %llu windows, %.2f s; report in %s/report.json\n",
               (long long)t->events, (long long)t->sessions, (long long)t->bot_sessions,
               (long long)t->users, (long long)t->late_events, (long long)t->rejected_events,
               c->size, (unsigned long long)x->plan.nwindows, meta.wall_s, x->cfg->output_dir);
        if (x->o->verbose) {
            fprintf(stderr, "phase times (slowest rank):");
            for (int p = 0; p < PH_N; p++)
                fprintf(stderr, " %s %.3f s", timer_phase_name(p), meta.phase_s[p]);
            fprintf(stderr, "; peak RSS %.1f MiB (largest rank)\n", meta.peak_rss_kb_max / 1024.0);
        }
    }
    return CS_OK;
}

static void cleanup(run_ctx *x)
{
    for (int f = 0; x->readers && f < x->plan.nfiles; f++)
        archive_reader_close(x->readers[f]);
    free(x->readers);
    cs_columns *c = &x->cols;
    free(c->ts); free(c->user_id); free(c->event_type); free(c->product_id);
    free(c->category_id); free(c->brand_id); free(c->price); free(c->session_id);
    free(x->keep);
    free(x->work); free(x->carry); free(x->sess);
    shuffle_free(&x->sh);
    sess_free(&x->sz);
    users_free(&x->users);
    stats_free(&x->st);
    rank_free(&x->ranking);
    tz_close(&x->tz);
    plan_free(&x->plan);
    ckpt_end(&x->ck);
}

/* Checkpoints and --state reach the run's state through these views. */
static int begin_long_run(run_ctx *x, cs_err *err)
{
    cs_run_state s = {&x->users, &x->st, &x->sz, &x->carry, &x->ncarry, &x->carry_cap,
                      x->cfg->output_sessions ? &x->sess : NULL, &x->nsess, &x->sess_cap,
                      &x->maxts};
    return ckpt_begin(&x->ck, x->c, x->cfg, x->o, &x->plan, &s, err);
}

int run_job(const cs_comm *c, const cs_config *cfg, const cs_run_opts *opts, cs_err *err)
{
    double t_start = timer_now();
    run_ctx x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.cfg = cfg;
    x.o = opts;
    int rc = prolog(&x, err);
    if (rc == CS_OK)
        rc = begin_long_run(&x, err);
    cs_progress prog = {0};
    if (rc == CS_OK)
        progress_init(&prog, c, stderr, opts->progress, opts->quiet, opts->verbose, &x.plan, t_start);
    /* With --state one extra, empty window closes what the state keeps open. */
    uint64_t nw = x.plan.nwindows + ckpt_extra_windows(&x.ck);
    for (uint64_t w = 0; rc == CS_OK && w < nw; w++) {
        rc = one_window(&x, w, err);
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
    if (rc != CS_OK && c->rank == 0 && x.outtmp[0])
        fs_abandon_output(x.outtmp);
    cleanup(&x);
    return rc;
}
