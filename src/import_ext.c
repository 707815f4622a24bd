/* import_ext.c — the external sort of `clickseg import`: imports whose
 * events do not fit in memory_per_rank.
 *
 *   parsing: when a rank's buffer holds run_cap events, it is sorted (the
 *            total order of import_sort.c) and appended to the rank's run
 *            file DIR.tmp.PID/.runs-RANK as a sorted run; parsing goes on
 *   then:    if any rank spilled, every rank spills the rest too; samples
 *            of every run (every s-th event) go to rank 0, which cuts the
 *            total order into windows (each rank sends at most win_cap
 *            events in a window, and the window holds at most nranks x
 *            win_cap) and each window into one bucket per rank
 *   windows: each rank finds the buckets' bounds in its runs (binary search
 *            on disk); then import_window.c goes through the windows
 *
 * The archive is the one the in-memory path writes: same events, same
 * order, same files, whatever memory_per_rank and the number of ranks.
 * Files need their row counts when created: with import.duplicates =
 * "drop" a first pass over the windows counts what survives. Peak memory
 * per rank: run_cap events while parsing (record and sort keys), win_cap
 * while merging (sent, received, sort keys), both from memory_per_rank. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/period.h"
#include "import_impl.h"

/* Of memory_per_rank, the share event buffers may take; the rest is for
 * the dictionaries, I/O buffers, MPI and HDF5. */
#define EVENT_SHARE 0.75
/* Bytes an event costs: while parsing (record 72, sort keys 48, and the
 * in-memory path's exchange at 144), and in a window (sent 72, received 72,
 * sort keys 48). */
#define PARSE_BYTES 150
#define WINDOW_BYTES 200
#define MIN_EVENTS 4096
/* Windows are planned from samples: leave room for their error. */
#define WINDOW_FILL 0.85

typedef struct imp_run {
    uint64_t off, n;      /* first record in the run file, events */
} imp_run;

typedef struct imp_tally {
    int64_t key;
    uint64_t rows;
    int64_t tmin, tmax;
} imp_tally;

/* A bound of the buckets: events before `e` (or all, when inf). */
typedef struct ext_bound {
    imp_event e;
    int32_t inf, pad;
} ext_bound;

/* A sample of a run: the event, its rank and the events it stands for. */
typedef struct ext_sample {
    imp_event e;
    uint64_t weight;
    int32_t rank, pad;
} ext_sample;

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

void iext_init(imp_ctx *x)
{
    double budget = (double)x->cfg->memory_per_rank * EVENT_SHARE;
    x->run_cap = max_u64(MIN_EVENTS, (uint64_t)(budget / PARSE_BYTES));
    x->win_cap = max_u64(MIN_EVENTS, (uint64_t)(budget / WINDOW_BYTES));
    x->run_fd = -1;
}

void iext_drop_runs(imp_ctx *x)
{
    if (x->run_fd >= 0) {
        close(x->run_fd);
        unlink(x->run_path);
        x->run_fd = -1;
    }
}

void iext_cleanup(imp_ctx *x)
{
    iext_drop_runs(x);
    free(x->runs);
    free(x->tally);
    free(x->line_base);
    x->runs = NULL;
    x->tally = NULL;
    x->line_base = NULL;
}

/* Adds n events of period key to the tally (sorted by key). */
static int tally_add(imp_ctx *x, const imp_tally *t, cs_err *err)
{
    int lo = 0, hi = x->ntally;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (x->tally[mid].key < t->key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < x->ntally && x->tally[lo].key == t->key) {
        imp_tally *o = &x->tally[lo];
        o->rows += t->rows;
        o->tmin = t->tmin < o->tmin ? t->tmin : o->tmin;
        o->tmax = t->tmax > o->tmax ? t->tmax : o->tmax;
        return CS_OK;
    }
    if (x->ntally == x->tally_cap) {
        int cap = x->tally_cap ? 2 * x->tally_cap : 64;
        imp_tally *n = cs_realloc(x->tally, (size_t)cap * sizeof *n, err, "period tally");
        if (!n)
            return CS_ENOMEM;
        x->tally = n;
        x->tally_cap = cap;
    }
    memmove(&x->tally[lo + 1], &x->tally[lo], (size_t)(x->ntally - lo) * sizeof *x->tally);
    x->tally[lo] = *t;
    x->ntally++;
    return CS_OK;
}

/* The periods of ev[0..n) (sorted by time) into the tally. */
static int tally_events(imp_ctx *x, const imp_event *ev, uint64_t n, cs_err *err)
{
    int split = x->cfg->import_split;
    cs_tz utc;
    if (tz_open(&utc, "UTC", err) != CS_OK)
        return err->code;
    int rc = CS_OK;
    imp_tally cur = { 0 };
    for (uint64_t i = 0; rc == CS_OK && i < n; i++) {
        int64_t k = split == IMPORT_SPLIT_NONE ? 0 : period_key(&utc, split, ev[i].ts);
        if (cur.rows && cur.key == k) {
            cur.rows++;
            cur.tmax = ev[i].ts;
            continue;
        }
        if (cur.rows)
            rc = tally_add(x, &cur, err);
        cur = (imp_tally){ k, 1, ev[i].ts, ev[i].ts };
    }
    if (rc == CS_OK && cur.rows)
        rc = tally_add(x, &cur, err);
    tz_close(&utc);
    return rc;
}

/* Sorts this rank's buffer and appends it to the run file as a run. */
static int spill_run(imp_ctx *x, cs_err *err)
{
    imp_parser *p = &x->p;
    double t = comm_wtime();
    if (x->run_fd < 0) {
        snprintf(x->run_path, sizeof x->run_path, "%s/.runs-%d", x->tmp, x->c->rank);
        x->run_fd = open(x->run_path, O_CREAT | O_RDWR | O_TRUNC, 0600);
        if (x->run_fd < 0)
            return cs_err_set(err, CS_EIO, "%s: cannot create: %s", x->run_path, strerror(errno));
        /* Read back through run_fd only: unlinked now, its space goes back
         * when the process ends however it ends (a time limit's SIGTERM, a
         * SIGKILL), not left as gigabytes in an abandoned DIR.tmp.PID. */
        unlink(x->run_path);
    }
    if (x->nruns == x->runs_cap) {
        int cap = x->runs_cap ? 2 * x->runs_cap : 16;
        imp_run *n = cs_realloc(x->runs, (size_t)cap * sizeof *n, err, "sorted runs");
        if (!n)
            return CS_ENOMEM;
        x->runs = n;
        x->runs_cap = cap;
    }
    isort_local(p->ev, p->nev);
    int rc = tally_events(x, p->ev, p->nev, err);
    if (rc != CS_OK)
        return rc;
    uint64_t off = x->nruns ? x->runs[x->nruns - 1].off + x->runs[x->nruns - 1].n : 0;
    const char *b = (const char *)p->ev;
    size_t left = p->nev * sizeof *p->ev;
    off_t at = (off_t)(off * sizeof *p->ev);
    while (left > 0) {
        ssize_t w = pwrite(x->run_fd, b, left > (1u << 30) ? 1u << 30 : left, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return cs_err_set(err, CS_EIO, "%s: cannot write a sorted run of the external sort "
                              "(%.1f MiB written so far; the import needs about 72 bytes an "
                              "event of room in the output's file system while it runs): %s",
                              x->final, (double)at / 1048576.0,
                              w < 0 ? strerror(errno) : "nothing written");
        b += w;
        at += w;
        left -= (size_t)w;
    }
    x->runs[x->nruns++] = (imp_run){ off, p->nev };
    p->nev = 0;
    x->t_spill += comm_wtime() - t;
    return CS_OK;
}

int iext_add(imp_ctx *x, cs_err *err)
{
    return x->p.nev >= x->run_cap ? spill_run(x, err) : CS_OK;
}

int iext_finish_parse(imp_ctx *x, cs_err *err)
{
    int64_t any = x->nruns > 0;
    if (comm_max_i64(x->c, &any, 1, 1, err) != CS_OK)
        return err->code;
    x->external = any > 0;
    int rc = CS_OK;
    if (x->external) {
        if (x->p.nev)
            rc = spill_run(x, err);
        free(x->p.ev);
        x->p.ev = NULL;
        x->p.cap = x->p.nev = 0;
    }
    return comm_agree(x->c, err) != CS_OK ? err->code : rc;
}

int iext_read_run(imp_ctx *x, int j, uint64_t start, uint64_t n, imp_event *dst, cs_err *err)
{
    char *b = (char *)dst;
    size_t left = n * sizeof *dst;
    off_t at = (off_t)((x->runs[j].off + start) * sizeof *dst);
    while (left > 0) {
        ssize_t r = pread(x->run_fd, b, left > (1u << 30) ? 1u << 30 : left, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return cs_err_set(err, CS_EIO, "%s: cannot read back a sorted run: %s", x->run_path,
                              r < 0 ? strerror(errno) : "file shorter than written");
        b += r;
        at += r;
        left -= (size_t)r;
    }
    for (uint64_t i = 0; i < n; i++)
        dst[i].line += x->line_base[dst[i].file];
    return CS_OK;
}

/* ---- periods ---- */

/* Every rank gets the periods of all parsed events (x->per, rows before
 * duplicates are dropped). */
static int plan_periods(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "periods");
    void *all = NULL;
    /* A failed allocation has set err: every rank takes the agreed code,
     * so a healthy one does not go on alone. */
    int rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = comm_gatherv(c, x->tally, (uint64_t)x->ntally * sizeof *x->tally, &all, counts, err);
    if (rc == CS_OK && c->rank == 0) {
        uint64_t tot = 0;
        for (int r = 0; r < c->size; r++)
            tot += counts[r] / sizeof(imp_tally);
        imp_tally *t = all;
        x->ntally = 0;   /* rank 0's own tally is in `all`: rebuild it as the union */
        for (uint64_t i = 0; rc == CS_OK && i < tot; i++)
            rc = tally_add(x, &t[i], err);
    }
    free(all);
    free(counts);
    int n = x->ntally;
    if (comm_agree(c, err) != CS_OK || comm_bcast(c, &n, sizeof n, err) != CS_OK)
        return err->code;
    x->per = cs_calloc((size_t)n + 1, sizeof *x->per, err, "periods");
    imp_tally *t = c->rank == 0 ? x->tally : cs_calloc((size_t)n + 1, sizeof *t, err, "periods");
    rc = x->per && t ? CS_OK : CS_ENOMEM;
    if (comm_agree(c, err) != CS_OK || comm_bcast(c, t, (size_t)n * sizeof *t, err) != CS_OK) {
        if (t != x->tally)
            free(t);
        return err->code;
    }
    for (int k = 0; k < n; k++) {
        imp_period *per = &x->per[k];
        per->key = t[k].key;
        per->rows = t[k].rows;
        per->ts_min = t[k].tmin;
        per->ts_max = t[k].tmax;
        char label[32] = "";
        if (x->cfg->import_split != IMPORT_SPLIT_NONE)
            period_label(x->cfg->import_split, per->key, label, sizeof label);
        snprintf(per->name, sizeof per->name, "events%s%s.h5", label[0] ? "-" : "", label);
    }
    x->nperiods = n;
    if (t != x->tally)
        free(t);
    return CS_OK;
}

/* ---- windows ---- */

static int cmp_sample(const void *a, const void *b)
{
    return isort_cmp(&((const ext_sample *)a)->e, &((const ext_sample *)b)->e);
}

/* Rank 0: cuts the sorted samples into windows and buckets; fills
 * b[1..nwin*P-1] (b[0] is the start, b[nwin*P] the end: never read). */
static int cut_windows(imp_ctx *x, const ext_sample *s, uint64_t ns, ext_bound **out, int *nwin,
                       cs_err *err)
{
    int P = x->c->size, W = 0, cap = 0;
    uint64_t lim = (uint64_t)((double)x->win_cap * WINDOW_FILL);
    uint64_t *cnt = cs_calloc((size_t)P, sizeof *cnt, err, "windows");
    uint64_t *ends = NULL;   /* sample index where each window ends */
    int rc = cnt ? CS_OK : CS_ENOMEM;
    uint64_t T = 0;
    for (uint64_t i = 0; rc == CS_OK && i <= ns; i++) {
        int last = i == ns;
        if (!last && !(T > 0 && (cnt[s[i].rank] + s[i].weight > lim ||
                                 T + s[i].weight > (uint64_t)P * lim))) {
            cnt[s[i].rank] += s[i].weight;
            T += s[i].weight;
            continue;
        }
        if (W == cap) {
            cap = cap ? 2 * cap : 64;
            uint64_t *n = cs_realloc(ends, (size_t)cap * sizeof *n, err, "windows");
            if (!n) {
                rc = CS_ENOMEM;
                break;
            }
            ends = n;
        }
        ends[W++] = i;
        memset(cnt, 0, (size_t)P * sizeof *cnt);
        T = 0;
        if (!last)
            i--;   /* the sample starts the next window */
    }
    ext_bound *b = rc == CS_OK ? cs_calloc((size_t)W * P + 1, sizeof *b, err, "windows") : NULL;
    if (rc == CS_OK && !b)
        rc = CS_ENOMEM;
    for (int w = 0; rc == CS_OK && w < W; w++) {
        uint64_t lo = w ? ends[w - 1] : 0, hi = ends[w], tot = 0, acc = 0, i = lo;
        for (uint64_t k = lo; k < hi; k++)
            tot += s[k].weight;
        for (int r = 1; r <= P; r++) {
            ext_bound *bd = &b[(size_t)w * P + r];
            if (r == P) {   /* the window's end */
                bd->inf = hi == ns;
                if (hi < ns)
                    bd->e = s[hi].e;
                continue;
            }
            while (i < hi && acc * P < tot * (uint64_t)r)
                acc += s[i++].weight;
            bd->inf = i == ns;
            if (i < ns)
                bd->e = s[i].e;
        }
    }
    free(cnt);
    free(ends);
    *out = b;
    *nwin = W;
    return rc;
}

/* Every rank gets the bucket bounds: nwin windows of one bucket per rank. */
static int plan_windows(imp_ctx *x, ext_bound **bounds, cs_err *err)
{
    const cs_comm *c = x->c;
    int64_t runs = x->nruns;
    if (comm_sum_i64(c, &runs, 1, 1, err) != CS_OK)
        return err->code;
    x->runs_all = runs;
    uint64_t stride = max_u64(1, x->win_cap / (16 * (uint64_t)(runs > 0 ? runs : 1)));
    uint64_t nmine = 0;
    for (int j = 0; j < x->nruns; j++)
        nmine += (x->runs[j].n + stride - 1) / stride;
    ext_sample *mine = cs_calloc(nmine + 1, sizeof *mine, err, "sort samples");
    int rc = mine ? CS_OK : CS_ENOMEM;
    uint64_t k = 0;
    for (int j = 0; rc == CS_OK && j < x->nruns; j++)
        for (uint64_t pos = 0; rc == CS_OK && pos < x->runs[j].n; pos += stride, k++) {
            rc = iext_read_run(x, j, pos, 1, &mine[k].e, err);
            mine[k].rank = c->rank;
            mine[k].weight = x->runs[j].n - pos < stride ? x->runs[j].n - pos : stride;
        }
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "sort samples");
    if (rc == CS_OK && !counts)
        rc = CS_ENOMEM;
    void *all = NULL;
    rc = comm_agree(c, err);   /* every rank's rc: a healthy one must not go on alone */
    if (rc == CS_OK)
        rc = comm_gatherv(c, mine, nmine * sizeof *mine, &all, counts, err);
    free(mine);
    ext_bound *b = NULL;
    int W = 0;
    if (rc == CS_OK && c->rank == 0) {
        uint64_t ns = 0;
        for (int r = 0; r < c->size; r++)
            ns += counts[r] / sizeof(ext_sample);
        qsort(all, ns, sizeof(ext_sample), cmp_sample);
        rc = cut_windows(x, all, ns, &b, &W, err);
    }
    free(all);
    free(counts);
    if (comm_agree(c, err) != CS_OK || comm_bcast(c, &W, sizeof W, err) != CS_OK) {
        free(b);
        return err->code;
    }
    size_t nb = (size_t)W * c->size + 1;
    if (c->rank != 0 && !(b = cs_calloc(nb, sizeof *b, err, "windows")))
        rc = CS_ENOMEM;
    if (comm_agree(c, err) != CS_OK || comm_bcast(c, b, nb * sizeof *b, err) != CS_OK) {
        free(b);
        return err->code;
    }
    x->nwindows = W;
    *bounds = b;
    return CS_OK;
}

/* pos[j * (N+1) + i]: events of run j before bound i (N = buckets), found
 * by binary search in the run file. */
static int find_bounds(imp_ctx *x, const ext_bound *b, uint64_t **out, cs_err *err)
{
    size_t N = (size_t)x->nwindows * x->c->size;
    uint64_t *pos = cs_calloc((size_t)x->nruns * (N + 1) + 1, sizeof *pos, err, "run bounds");
    *out = pos;
    if (!pos)
        return CS_ENOMEM;
    for (int j = 0; j < x->nruns; j++) {
        uint64_t *pj = pos + (size_t)j * (N + 1), lo = 0;
        pj[N] = x->runs[j].n;
        for (size_t i = 1; i < N; i++) {
            uint64_t hi = x->runs[j].n;
            while (!b[i].inf && lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;
                imp_event e;
                int rc = iext_read_run(x, j, mid, 1, &e, err);
                if (rc != CS_OK)
                    return rc;
                if (isort_cmp(&e, &b[i].e) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            pj[i] = b[i].inf ? x->runs[j].n : lo;
            lo = pj[i];
        }
    }
    return CS_OK;
}

int iext_build(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    ext_bound *b = NULL;
    uint64_t *pos = NULL;
    double t = comm_wtime();
    int64_t bytes = 0;
    for (int j = 0; j < x->nruns; j++)
        bytes += (int64_t)(x->runs[j].n * sizeof(imp_event));
    if (comm_sum_i64(c, &bytes, 1, 1, err) != CS_OK)
        return err->code;
    x->spill_bytes = bytes;
    int rc = plan_periods(x, err);
    if (rc == CS_OK && comm_agree(c, err) == CS_OK)
        rc = plan_windows(x, &b, err);
    if (rc == CS_OK)
        rc = find_bounds(x, b, &pos, err);
    free(b);
    if (comm_agree(c, err) == CS_OK && x->cfg->import_duplicates == IMPORT_DUP_DROP)
        iwin_count_pass(x, pos, err);
    x->t_sort += comm_wtime() - t;
    if (err->code == CS_OK && iwrite_reserve(x, err) == CS_OK && idict_write(x, err) == CS_OK) {
        iwrite_buffers(x, err);
        imp_step(x, "sorting and writing (%d window%s)", x->nwindows, x->nwindows == 1 ? "" : "s");
        if (comm_agree(c, err) == CS_OK)
            iwin_write_pass(x, pos, err);
    }
    free(pos);
    rc = err->code;
    iext_cleanup(x);   /* the run file goes before the directory moves into place */
    return rc;
}
