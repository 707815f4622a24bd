/* run_window.c — one range of a window's rows in `clickseg run` (a part,
 * run_parts.c): read, its rows classified, shuffled to their users'
 * ranks, sorted and sessionized (see docs/run.md). Called by run_parts.c,
 * part after part. */
#include <stdlib.h>
#include <string.h>

#include "clickseg/comm.h"
#include "clickseg/sort.h"

#include "run_priv.h"

/* Bytes of the job's records: what the pack writes, the exchange moves
 * and the sort hands to sessionize. */
static size_t rec_width_of(const run_ctx *x)
{
    return x->sh.narrow ? sizeof(cs_event_narrow) : sizeof(cs_event);
}

/* The columns the job reads (bits 1u << COL_x): narrow records read no
 * ids; only source mode reads session ids. */
static unsigned wanted_columns(const run_ctx *x)
{
    unsigned m = 1u << COL_TS | 1u << COL_USER_ID | 1u << COL_EVENT_TYPE | 1u << COL_PRICE;
    if (!x->sh.narrow)
        m |= 1u << COL_PRODUCT_ID | 1u << COL_CATEGORY_ID | 1u << COL_BRAND_ID;
    if (x->sz.source_mode)
        m |= 1u << COL_SESSION_ID;
    return m;
}

/* Buffers for the rows a file's chunks cannot be viewed in place for:
 * allocated the first time such a file comes (a run over archives that
 * generate or import wrote never needs them). */
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
    memset(c, 0, sizeof *c);
    unsigned want = wanted_columns(x);
    static const size_t width[COL_NCOLUMNS] = {[COL_TS] = 8, [COL_USER_ID] = 8,
        [COL_EVENT_TYPE] = 1, [COL_PRODUCT_ID] = 8, [COL_CATEGORY_ID] = 4, [COL_BRAND_ID] = 4,
        [COL_PRICE] = 8, [COL_SESSION_ID] = 8};
    void **col[COL_NCOLUMNS] = {[COL_TS] = (void **)&c->ts, [COL_USER_ID] = (void **)&c->user_id,
        [COL_EVENT_TYPE] = (void **)&c->event_type, [COL_PRODUCT_ID] = (void **)&c->product_id,
        [COL_CATEGORY_ID] = (void **)&c->category_id, [COL_BRAND_ID] = (void **)&c->brand_id,
        [COL_PRICE] = (void **)&c->price, [COL_SESSION_ID] = (void **)&c->session_id};
    int rc = CS_OK;
    for (int k = 0; k < COL_NCOLUMNS; k++)
        if (want >> k & 1 && !(*col[k] = cs_malloc(n * width[k], err, "read buffer")))
            rc = CS_ENOMEM;
    x->col_cap = rc == CS_OK ? n : 0;
    return rc;
}

/* Segment rows [done, done + k) of the window as the column buffers hold
 * them (read there by archive_read_range). */
static int read_into_buffers(run_ctx *x, cs_archive_reader *r, uint64_t local, uint64_t k,
                             uint64_t done, uint64_t count, cs_err *err)
{
    int rc = ensure_columns(x, count, err);
    if (rc == CS_OK)
        rc = cs_reserve((void **)&x->segs.v, &x->segs.cap, x->segs.n + 1, sizeof *x->segs.v, err,
                        "read segments");
    if (rc != CS_OK)
        return rc;
    /* A column not wanted (NULL) is not read. */
    const cs_columns *c = &x->cols;
    cs_columns at = {c->ts + done, c->user_id + done, c->event_type + done,
                     c->product_id ? c->product_id + done : NULL,
                     c->category_id ? c->category_id + done : NULL,
                     c->brand_id ? c->brand_id + done : NULL, c->price + done,
                     c->session_id ? c->session_id + done : NULL};
    x->segs.v[x->segs.n++] = (cs_colseg){done, k, {at.ts, at.user_id, at.event_type,
        at.product_id, at.category_id, at.brand_id, at.price, at.session_id}};
    return archive_read_range(r, local, k, &at, err);
}

/* The piece of global rows [row, row + left) that lies in one plan file:
 * *f the file (its reader opened when it was not), *local the piece's
 * first row in it, *k its rows. read_rows and read_ahead cut ranges so. */
static int file_piece(run_ctx *x, uint64_t row, uint64_t left, int *f, uint64_t *local,
                      uint64_t *k, cs_err *err)
{
    *f = plan_file_of(&x->plan, row);
    const cs_plan_file *pf = &x->plan.files[*f];
    if (!x->readers[*f]) {
        int rc = archive_reader_open(pf->path, &x->readers[*f], err);
        if (rc != CS_OK)
            return rc;
    }
    *local = row - pf->row0;
    *k = pf->rows - *local < left ? pf->rows - *local : left;
    return CS_OK;
}

/* Global rows [start, start+count) as segments: chunks viewed in place
 * where the file allows (archive_view_range), read into the column buffers
 * where not; the range may cross files. Readers of files wholly before
 * `start` are closed. */
static int read_rows(run_ctx *x, uint64_t start, uint64_t count, cs_err *err)
{
    int rc = shuffle_route_begin(&x->sh, count, err);   /* classify routes every row */
    uint64_t done = 0;
    unsigned want = wanted_columns(x);
    x->segs.n = 0;
    /* Only files wholly before the range: the segments of a file this
     * range reads point into its reader's mapping until the pack. */
    for (int k = 0; count && k < plan_file_of(&x->plan, start); k++)
        if (x->readers[k]) {
            archive_reader_close(x->readers[k]);
            x->readers[k] = NULL;
        }
    while (rc == CS_OK && done < count) {
        int f;
        uint64_t local, k;
        if ((rc = file_piece(x, start + done, count - done, &f, &local, &k, err)) != CS_OK)
            break;
        rc = archive_view_range(x->readers[f], local, k, want, done, &x->segs, err);
        if (rc == ARCHIVE_VIEW_FALLBACK)
            rc = read_into_buffers(x, x->readers[f], local, k, done, count, err);
        done += k;
    }
    return rc;
}

/* Parts read ahead. Two measured no better than one at 10^8 events on a
 * virtual disk whose reads cost the guest's CPU (docs/benchmark.md). */
#define READ_AHEAD_PARTS 1

/* Asks the kernel to read this rank's next parts ahead (archive_willneed):
 * the parts after part `part` of window w, then those of the next windows,
 * taken to be cut into as many parts as this one (window_parts may cut
 * them otherwise once they run; the hint then covers a little more or less
 * than they read). Measured at 10^8 events, 2 ranks, page cache dropped
 * before each run: docs/benchmark.md#cold-page-cache. A file that will
 * not open is left to read_rows to report. */
static void read_ahead(run_ctx *x, uint64_t w, uint64_t part, uint64_t nparts)
{
    unsigned want = wanted_columns(x);
    for (int a = 0; a < READ_AHEAD_PARTS; a++) {
        if (++part == nparts) {
            part = 0;
            w++;
        }
        if (w >= x->plan.nwindows)
            return;
        uint64_t start, count;
        plan_part_range(&x->plan, w, part, nparts, x->c->rank, x->c->size, &start, &count);
        while (count) {
            int f;
            uint64_t local, k;
            cs_err ignored;
            if (file_piece(x, start, count, &f, &local, &k, &ignored) != CS_OK)
                return;
            archive_willneed(x->readers[f], local, k, want);
            start += k;
            count -= k;
        }
    }
}

/* One segment's rows: rejected (event_type outside 0..7, ts < 0 or after
 * CS_TS_MAX, |price| over CS_PRICE_MAX), late against *run (the largest ts
 * of the rows before, from earlier windows and this rank's part so far) or
 * routed (shuffle_cell, counted in the shuffle's bcounts). Advances *run,
 * *local_max (every valid row) and *low (the least ts routed). */
static void route_segment(run_ctx *x, const cs_colseg *sg, int64_t *run, int64_t *local_max,
                          int64_t *low, uint64_t *rejected, uint64_t *late)
{
    const int64_t L = x->cfg->session_max_lateness_us;
    const cs_i64u *restrict ts = sg->c.ts;
    const cs_u64u *restrict user = sg->c.user_id;
    const uint8_t *restrict type = sg->c.event_type;
    const cs_i64u *restrict price = sg->c.price;
    uint32_t *restrict dest = x->sh.dest + sg->row0;
    uint64_t *restrict cnt = x->sh.bcounts;
    int64_t r = *run, mx = *local_max, lo = *low;
    uint64_t nbad = 0, nlate = 0;
    for (uint64_t i = 0; i < sg->n; i++) {
        int64_t t = ts[i];
        if (type[i] >= EV_NTYPES || t < 0 || t > CS_TS_MAX || !cs_price_ok(price[i])) {
            nbad++;
            dest[i] = SHUFFLE_DROP;
            continue;
        }
        mx = t > mx ? t : mx;
        if (r != INT64_MIN && t < r - L) {
            nlate++;
            dest[i] = SHUFFLE_DROP;
            continue;
        }
        r = t > r ? t : r;
        lo = t < lo ? t : lo;
        uint32_t d = shuffle_cell(&x->sh, user[i]);
        dest[i] = d;
        cnt[d]++;
    }
    *run = r, *local_max = mx, *low = lo;
    *rejected += nbad, *late += nlate;
}

/* Routed rows of the part older than limit - max_lateness become late:
 * rows that only the earlier ranks' part of the window makes late. */
static uint64_t drop_late_rows(run_ctx *x, int64_t limit)
{
    const int64_t L = x->cfg->session_max_lateness_us;
    uint64_t late = 0;
    for (uint64_t g = 0; g < x->segs.n; g++) {
        const cs_colseg *sg = &x->segs.v[g];
        uint32_t *dest = x->sh.dest + sg->row0;
        for (uint64_t i = 0; i < sg->n; i++)
            if (dest[i] != SHUFFLE_DROP && sg->c.ts[i] < limit - L) {
                x->sh.bcounts[dest[i]]--;
                dest[i] = SHUFFLE_DROP;
                late++;
            }
    }
    return late;
}

/* Marks each row used (routed to its user's owner: shuffle_cell),
 * rejected or late (see docs/run.md: a row is late when its ts is more
 * than max_lateness older than the largest ts of any earlier row in
 * archive order), and advances the global running max. One pass over the
 * rows decides and routes, against the rows before on this rank; the
 * earlier ranks' rows of the window (their largest ts, from an exclusive
 * scan) make more rows late only when this part holds rows older than
 * that, which a second pass then drops (rare: archives are in time
 * order). Fused so, the pass reads ts and the type once instead of three
 * times and no per-row keep flags are written and read back (measured at
 * 10^8 events, 2 ranks: the shuffle phase 0.89-0.91 -> 0.85-0.89 s). */
static int classify(run_ctx *x, uint64_t n, cs_err *err)
{
    const int64_t L = x->cfg->session_max_lateness_us;
    int64_t local_max = INT64_MIN, before, run = x->maxts, low = INT64_MAX;
    uint64_t rejected = 0, late = 0;
    for (uint64_t g = 0; g < x->segs.n; g++)
        route_segment(x, &x->segs.v[g], &run, &local_max, &low, &rejected, &late);
    int rc = comm_exscan_max_i64(x->c, local_max, &before, err);
    if (rc != CS_OK)
        return rc;
    /* Valid ts are >= 0, so before - L cannot overflow. */
    if (before != INT64_MIN && low != INT64_MAX && low < before - L)
        late += drop_late_rows(x, before);
    x->st.tot.rejected_events += (int64_t)rejected;
    x->st.tot.late_events += (int64_t)late;
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

/* One level-1 bucket, sorted and still in cache: sessionized at once. Its
 * records at or after the watermark (a suffix of each user's run) go to
 * the next carry as sessionize passes them. */
static int sessionize_bucket(void *vx, const void *ev, size_t width, uint64_t m,
                             uint64_t nlate, uint64_t nusers, cs_err *err)
{
    run_ctx *x = vx;
    timer_stop(&x->tm, PH_SORT);
    timer_start(&x->tm, PH_SESSIONIZE);
    int rc = cs_reserve((void **)&x->carry_next, &x->carry_next_cap, x->ncarry_next + nlate,
                        sizeof *x->carry_next, err, "late-arrival carry");
    /* The index homes users by their key's top bits, and buckets come in
     * key order: the bucket's users land in its 1/2^l1 share of the index,
     * beside that share of the users the table held before this part, so
     * the index needs room as if every bucket brought as many (the users
     * this part already added live in other shares). Sized so at once, it
     * never grows in the middle of an ordered insert, where every key so
     * far would pile into the first cells. */
    uint64_t want = x->users_before + (nusers << x->sh.l1_bits);
    uint64_t room = want > x->users.n ? want - x->users.n : 0;
    if (rc == CS_OK)
        rc = sess_process_counted(&x->sz, &x->users, ev, width, m, room, x->wm, x->final,
                                  x->carry_next, &x->ncarry_next, err);
    timer_stop(&x->tm, PH_SESSIONIZE);
    timer_start(&x->tm, PH_SORT);
    return rc;
}

/* The carried records (bucket-grouped) and every source's records, sorted
 * bucket by bucket: the carry first, then the sources in rank order, which
 * is row order (sort.h); each bucket is sessionized as soon as it is
 * sorted. The new carry then replaces the old. */
static int sort_sessionize(run_ctx *x, cs_err *err)
{
    int l1 = x->sh.l1_bits;
    cs_sort_run *runs = cs_calloc((size_t)x->c->size + 1, sizeof *runs, err, "sort runs");
    uint64_t *carry_n = cs_calloc((size_t)1 << l1, sizeof *carry_n, err, "sort runs");
    int rc = runs && carry_n ? group_carry(x, l1, carry_n, err) : CS_ENOMEM;
    if (rc == CS_OK) {
        runs[0].ev = x->carry;
        runs[0].bucket_n = carry_n;
        shuffle_runs(&x->sh, runs + 1);
        rc = cs_reserve(&x->work, &x->work_cap, sort_largest_bucket(runs, x->c->size + 1, l1),
                        rec_width_of(x), err, "sort buffer");
    }
    x->ncarry_next = 0;
    x->users_before = x->users.n;
    if (rc == CS_OK)
        rc = sort_runs_each(runs, x->c->size + 1, l1, x->work, rec_width_of(x), x->wm,
                            sessionize_bucket, x, err);
    free(runs);
    free(carry_n);
    if (rc != CS_OK)
        return rc;
    cs_event *t = x->carry;
    x->carry = x->carry_next;
    x->carry_next = t;
    uint64_t tc = x->carry_cap;
    x->carry_cap = x->carry_next_cap;
    x->carry_next_cap = tc;
    x->ncarry = x->ncarry_next;
    x->ncarry_next = 0;
    return CS_OK;
}

/* Frees the per-window buffers; the next window allocates them again at
 * its own size (a shared send buffer, with keep_shared, is cut to that
 * size instead: shuffle_release). */
void run_release_window_buffers(run_ctx *x, int keep_shared)
{
    cs_columns *c = &x->cols;
    free(c->ts); free(c->user_id); free(c->event_type); free(c->product_id);
    free(c->category_id); free(c->brand_id); free(c->price); free(c->session_id);
    free(x->segs.v);
    memset(c, 0, sizeof *c);
    memset(&x->segs, 0, sizeof x->segs);
    x->col_cap = 0;
    free(x->work);
    x->work = NULL;
    x->work_cap = 0;
    free(x->carry_next);   /* holds nothing between windows */
    x->carry_next = NULL;
    x->carry_next_cap = 0;
    shuffle_release(&x->sh, keep_shared);
}

/* Rank r's share of global rows [ga, gb). */
static void rank_share(uint64_t ga, uint64_t gb, int r, int n, uint64_t *start, uint64_t *count)
{
    uint64_t m = gb - ga;
    *start = ga + m * (uint64_t)r / (uint64_t)n;
    *count = ga + m * (uint64_t)(r + 1) / (uint64_t)n - *start;
}

/* Collective, after classify: 1 on every rank when some rank would receive
 * more than a quarter past x->part_fit events. Parts are sized by the rows
 * a rank reads, but a rank receives its users' events: with one heavy
 * user (a bot with much of the traffic) its owner receives several ranks'
 * worth, and its memory would grow past the budget with it. */
static int too_skewed(run_ctx *x, int *skewed, cs_err *err)
{
    int n = x->c->size;
    *skewed = 0;
    /* the same on every rank: --window-events, or one rank */
    if (x->o->window_rows_per_rank || n == 1)
        return err->code;
    int64_t *to = err->code ? NULL : cs_calloc((size_t)n, sizeof *to, err, "receive counts");
    if (to)
        shuffle_route_counts(&x->sh, to);
    /* err holds classify's failure, if any: every rank stops here then */
    int rc = comm_agree(x->c, err);
    if (rc == CS_OK)
        rc = comm_sum_i64(x->c, to, (size_t)n, 1, err);
    int64_t over = rc == CS_OK && (uint64_t)to[x->c->rank] > x->part_fit + x->part_fit / 4;
    if (rc == CS_OK)
        rc = comm_max_i64(x->c, &over, 1, 1, err);
    *skewed = rc == CS_OK && over;
    free(to);
    return rc;
}

/* Global rows [ga, gb) of a window, split among the ranks: read,
 * classify, shuffle, sort, sessionize. `final` (the last rows of the last
 * window): every session closes. When some rank would receive too much
 * (too_skewed), what classify counted is undone and each half is done in
 * turn, so a rank's memory follows the budget, not the skew; the results
 * are the same, as they are for any cut into parts. `ahead` names the
 * window part whose successor to read ahead (NULL: none). */
int run_one_range(run_ctx *x, uint64_t ga, uint64_t gb, int final, const part_ref *ahead,
                     cs_err *err)
{
    uint64_t start, count;
    rank_share(ga, gb, x->c->rank, x->c->size, &start, &count);
    timer_start(&x->tm, PH_READ);
    if (read_rows(x, start, count, err) == CS_OK && ahead)
        read_ahead(x, ahead->w, ahead->part, ahead->nparts);
    timer_stop(&x->tm, PH_READ);
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    timer_start(&x->tm, PH_SHUFFLE);
    cs_totals was = x->st.tot;
    int64_t maxts = x->maxts;
    int skewed = 0;
    int rc = classify(x, count, err);
    if (gb - ga > 2 * (uint64_t)x->c->size)
        rc = too_skewed(x, &skewed, err);
    if (rc == CS_OK && skewed) {
        for (int f = 0; f < x->plan.nfiles; f++)
            archive_release_views(x->readers[f]);
        x->segs.n = 0;
        x->st.tot = was;
        x->maxts = maxts;
        timer_stop(&x->tm, PH_SHUFFLE);
        x->passes++;
        uint64_t mid = ga + (gb - ga) / 2;
        rc = run_one_range(x, ga, mid, 0, NULL, err);
        return rc == CS_OK ? run_one_range(x, mid, gb, final, NULL, err) : rc;
    }
    if (rc == CS_OK &&
        shuffle_pack(&x->sh, x->segs.v, x->segs.n, count, err) != CS_OK)
        rc = err->code;
    /* The rows are packed: the views of the archive are done with. */
    for (int f = 0; f < x->plan.nfiles; f++)
        archive_release_views(x->readers[f]);
    x->segs.n = 0;
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    x->shuffle_bytes += (x->sh.nsend - x->sh.counts[x->c->rank]) * rec_width_of(x);
    rc = shuffle_exchange(x->c, &x->sh, err);
    timer_stop(&x->tm, PH_SHUFFLE);
    int64_t L = x->cfg->session_max_lateness_us;
    x->wm = final ? INT64_MAX : x->maxts == INT64_MIN ? INT64_MIN : x->maxts - L;
    x->final = final;
    timer_start(&x->tm, PH_SORT);
    if (rc == CS_OK)
        rc = sort_sessionize(x, err);
    timer_stop(&x->tm, PH_SORT);
    timer_start(&x->tm, PH_SESSIONIZE);
    if (rc == CS_OK)
        rc = sess_close_idle(&x->sz, &x->users, x->wm, final, err);
    timer_stop(&x->tm, PH_SESSIONIZE);
    return comm_agree(x->c, err);
}
