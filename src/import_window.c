/* import_window.c — the windows of the external sort (import_ext.c plans
 * them): each rank reads its runs' slices of a window, sends each slice to
 * the rank owning its bucket (MPI_Alltoallv); owners sort what they get,
 * drop or count duplicates (carried from rank to rank and window to
 * window), and write their slice of the archive files, which stay open
 * from the window of their first event to that of their last. */
#include <stdlib.h>
#include <string.h>

#include "clickseg/period.h"
#include "import_impl.h"

typedef struct ext_pass {
    int write;                 /* 0: count what survives duplicates; 1: write */
    const uint64_t *pos;
    imp_event *send;
    uint64_t send_cap;
    void *recv;
    uint64_t recv_cap, nrecv;
    uint64_t *counts;          /* nranks */
    isort_carry carry;
    uint64_t dups;
    uint64_t done;             /* rows of the archive written before this window */
    uint64_t *pstart;          /* global row of each period's first event */
    int64_t *rows;             /* count pass: rows per period */
    int64_t *most;             /* write pass: rounds per period in this window */
    int open_k;                /* the period whose file is open, or -1 */
    cs_archive_writer *w;
} ext_pass;

/* Reads this rank's share of window w, one slice per bucket, in rank order. */
static int gather_window(imp_ctx *x, ext_pass *s, int w, cs_err *err)
{
    int P = x->c->size;
    size_t N = (size_t)x->nwindows * P;
    uint64_t total = 0;
    for (int r = 0; r < P; r++) {
        size_t bk = (size_t)w * P + r;
        s->counts[r] = 0;
        for (int j = 0; j < x->nruns; j++)
            s->counts[r] += s->pos[j * (N + 1) + bk + 1] - s->pos[j * (N + 1) + bk];
        total += s->counts[r];
    }
    if (total > s->send_cap) {
        imp_event *n = cs_realloc(s->send, total * sizeof *n, err, "window");
        if (!n)
            return CS_ENOMEM;
        s->send = n;
        s->send_cap = total;
    }
    uint64_t k = 0;
    for (int r = 0; r < P; r++)
        for (int j = 0; j < x->nruns; j++) {
            size_t bk = (size_t)w * P + r;
            uint64_t a = s->pos[j * (N + 1) + bk], n = s->pos[j * (N + 1) + bk + 1] - a;
            int rc = iext_read_run(x, j, a, n, s->send + k, err);
            if (rc != CS_OK)
                return rc;
            k += n;
        }
    return CS_OK;
}

/* Count pass: this rank's surviving events by period. */
static int count_window(imp_ctx *x, ext_pass *s, const imp_event *ev, uint64_t n, cs_err *err)
{
    cs_tz utc;
    if (tz_open(&utc, "UTC", err) != CS_OK)
        return err->code;
    int split = x->cfg->import_split, k = 0;
    for (uint64_t i = 0; i < n; i++) {
        int64_t key = split == IMPORT_SPLIT_NONE ? 0 : period_key(&utc, split, ev[i].ts);
        while (k < x->nperiods - 1 && x->per[k].key < key)
            k++;
        s->rows[k]++;
    }
    tz_close(&utc);
    return CS_OK;
}

/* Write pass: this rank's slice of each period the window touches. */
static int write_window(imp_ctx *x, ext_pass *s, const imp_event *ev, uint64_t n, cs_err *err)
{
    const cs_comm *c = x->c;
    uint64_t before = 0;
    int64_t T = (int64_t)n;
    if (comm_exscan_u64(c, n, &before, err) != CS_OK || comm_sum_i64(c, &T, 1, 1, err) != CS_OK)
        return err->code;
    uint64_t g = s->done + before, lo = s->done, hi = s->done + (uint64_t)T;
    int k0 = 0;
    while (k0 < x->nperiods && s->pstart[k0] + x->per[k0].rows <= lo)
        k0++;
    int k1 = k0;
    while (k1 < x->nperiods && s->pstart[k1] < hi)
        k1++;
    for (int k = k0; k < k1; k++) {
        uint64_t a = s->pstart[k] > g ? s->pstart[k] : g;
        uint64_t e = s->pstart[k] + x->per[k].rows, b = e < g + n ? e : g + n;
        s->most[k - k0] = b > a ? (int64_t)iwrite_rounds(x, &x->per[k], a - s->pstart[k], b - a) : 0;
    }
    if (comm_max_i64(c, s->most, (size_t)(k1 - k0), 1, err) != CS_OK)
        return err->code;
    int rc = CS_OK;
    for (int k = k0; k < k1; k++) {
        if (s->open_k != k) {
            int r = iwrite_open(x, &x->per[k], &s->w, err);
            if (!s->w)
                return r;   /* every rank fails the same collective create */
            s->open_k = k;
            rc = rc == CS_OK ? r : rc;
        }
        uint64_t a = s->pstart[k] > g ? s->pstart[k] : g;
        uint64_t e = s->pstart[k] + x->per[k].rows, b = e < g + n ? e : g + n;
        int r = iwrite_slice(x, s->w, &x->per[k], ev + (b > a ? a - g : 0), b > a ? b - a : 0,
                             b > a ? a - s->pstart[k] : 0, (uint64_t)s->most[k - k0], err);
        rc = rc == CS_OK ? r : rc;
        if (e <= hi) {   /* the period is complete */
            rc = iwrite_close(x, s->w, &x->per[k], rc, err);
            s->w = NULL;
            s->open_k = -1;
        }
    }
    s->done = hi;
    return rc;
}

/* One pass over the windows: exchange, sort, duplicates, then count or write. */
static int run_pass(imp_ctx *x, ext_pass *s, cs_err *err)
{
    const cs_comm *c = x->c;
    /* each step's failure is in err; comm_agree makes it every rank's */
    for (int w = 0; w < x->nwindows; w++) {
        imp_tick(x, (double)w / x->nwindows);
        double t = comm_wtime();
        gather_window(x, s, w, err);
        if (comm_agree(c, err) != CS_OK)
            break;
        comm_alltoallv(c, s->send, s->counts, sizeof(imp_event), &s->recv, &s->recv_cap,
                            &s->nrecv, err);
        if (comm_agree(c, err) != CS_OK)
            break;
        imp_event *ev = s->recv;
        isort_local(ev, s->nrecv);
        x->spill_window = (uint32_t)w;
        isort_dedupe_slice(x, ev, &s->nrecv, &s->carry, s->write, &s->dups, err);
        if (comm_agree(c, err) != CS_OK)
            break;
        x->t_sort += comm_wtime() - t;
        t = comm_wtime();
        if (s->write)
            write_window(x, s, ev, s->nrecv, err);
        else
            count_window(x, s, ev, s->nrecv, err);
        x->t_write += comm_wtime() - t;
        if (comm_agree(c, err) != CS_OK)
            break;
    }
    if (s->w) {   /* after an error: the open file is closed by every rank */
        cs_err cerr;
        cs_err_clear(&cerr);
        cerr.code = err->code ? err->code : CS_EIO;
        archive_close(c, s->w, 0, 0, &cerr);
        s->w = NULL;
    }
    return err->code;
}

static void pass_free(ext_pass *s)
{
    free(s->send);
    free(s->recv);
    free(s->counts);
    free(s->pstart);
    free(s->rows);
    free(s->most);
}

static int pass_init(imp_ctx *x, ext_pass *s, const uint64_t *pos, int write, cs_err *err)
{
    memset(s, 0, sizeof *s);
    s->write = write;
    s->pos = pos;
    s->open_k = -1;
    size_t n = (size_t)x->nperiods + 1;
    s->counts = cs_calloc((size_t)x->c->size, sizeof *s->counts, err, "window");
    s->pstart = cs_calloc(n, sizeof *s->pstart, err, "window");
    s->rows = cs_calloc(n, sizeof *s->rows, err, "window");
    s->most = cs_calloc(n, sizeof *s->most, err, "window");
    if (!s->counts || !s->pstart || !s->rows || !s->most)
        return CS_ENOMEM;
    for (int k = 1; k < x->nperiods; k++)
        s->pstart[k] = s->pstart[k - 1] + x->per[k - 1].rows;
    return CS_OK;
}

/* With duplicates dropped: the rows each period keeps. */
int iwin_count_pass(imp_ctx *x, const uint64_t *pos, cs_err *err)
{
    ext_pass s;
    int rc = pass_init(x, &s, pos, 0, err);
    if (comm_agree(x->c, err) == CS_OK && run_pass(x, &s, err) == CS_OK &&
        comm_sum_i64(x->c, s.rows, (size_t)x->nperiods, 1, err) == CS_OK)
        for (int k = 0; k < x->nperiods; k++)
            x->per[k].rows = (uint64_t)s.rows[k];
    rc = err->code;
    pass_free(&s);
    return rc;
}

int iwin_write_pass(imp_ctx *x, const uint64_t *pos, cs_err *err)
{
    ext_pass s;
    int rc = pass_init(x, &s, pos, 1, err);
    if (rc == CS_OK && x->cfg->import_duplicates == IMPORT_DUP_DROP) {
        snprintf(x->spill_path + strlen(x->spill_path) - 5, 6, ".dups");
        if (!(x->spill = fopen(x->spill_path, "wb")))
            rc = cs_err_set(err, CS_EIO, "%s: cannot create", x->spill_path);
    }
    if (comm_agree(x->c, err) == CS_OK)
        run_pass(x, &s, err);
    rc = err->code;
    if (x->spill && fclose(x->spill) != 0 && rc == CS_OK)
        rc = cs_err_set(err, CS_EIO, "%s: cannot write", x->spill_path);
    x->spill = NULL;
    int64_t d[2] = { (int64_t)s.dups, x->cfg->import_duplicates == IMPORT_DUP_DROP ?
                                      (int64_t)s.dups : 0 };
    pass_free(&s);
    if (comm_agree(x->c, err) != CS_OK || comm_sum_i64(x->c, d, 2, 1, err) != CS_OK ||
        comm_sum_i64(x->c, x->type_counts, 8, 1, err) != CS_OK)
        return err->code;
    x->duplicates = (uint64_t)d[0];
    x->dropped = (uint64_t)d[1];
    return CS_OK;
}

