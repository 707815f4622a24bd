/* import_sort.c — imported events into one time order across ranks (a
 * sample sort), and duplicates.
 *
 * The order is total: time, then every column, then the input position
 * (file, line, index in the line), so the archive is the same whatever
 * the number of ranks, and events that repeat each other exactly are
 * neighbours. */
#include <stdlib.h>
#include <string.h>

#include "import_impl.h"

#define CMP(a, b) do { if ((a) != (b)) return (a) < (b) ? -1 : 1; } while (0)

int isort_same_event(const imp_event *a, const imp_event *b)
{
    return a->ts == b->ts && a->user_id == b->user_id && a->type == b->type &&
           a->product_id == b->product_id && a->category == b->category &&
           a->brand == b->brand && a->price == b->price && a->session_id == b->session_id;
}

int isort_cmp(const void *pa, const void *pb)
{
    const imp_event *a = pa, *b = pb;
    CMP(a->ts, b->ts);
    CMP(a->user_id, b->user_id);
    CMP(a->type, b->type);
    CMP(a->product_id, b->product_id);
    CMP(a->category, b->category);
    CMP(a->brand, b->brand);
    CMP(a->price, b->price);
    CMP(a->session_id, b->session_id);
    CMP(a->file, b->file);
    CMP(a->line, b->line);
    CMP(a->sub, b->sub);
    return 0;
}

/* Sorts n events: a radix sort on the time (stable, 16-bit digits over
 * the span of the times), then the rare runs of equal times by the full
 * order. tmp holds n events. */
static void sort_local(imp_event *ev, uint64_t n, imp_event *tmp)
{
    if (n < 2)
        return;
    int64_t lo = ev[0].ts, hi = ev[0].ts;
    for (uint64_t i = 1; i < n; i++) {
        lo = ev[i].ts < lo ? ev[i].ts : lo;
        hi = ev[i].ts > hi ? ev[i].ts : hi;
    }
    uint64_t span = (uint64_t)(hi - lo);
    uint64_t *count = calloc(1 << 16, sizeof *count);
    if (!count) {   /* 512 KiB not to be had: the slower sort still sorts */
        qsort(ev, n, sizeof *ev, isort_cmp);
        return;
    }
    imp_event *src = ev, *dst = tmp;
    for (int shift = 0; shift < 64 && (span >> shift) > 0; shift += 16) {
        memset(count, 0, (1 << 16) * sizeof *count);
        for (uint64_t i = 0; i < n; i++)
            count[((uint64_t)(src[i].ts - lo) >> shift) & 0xffff]++;
        uint64_t sum = 0;
        for (int d = 0; d < 1 << 16; d++) {
            uint64_t k = count[d];
            count[d] = sum;
            sum += k;
        }
        for (uint64_t i = 0; i < n; i++)
            dst[count[((uint64_t)(src[i].ts - lo) >> shift) & 0xffff]++] = src[i];
        imp_event *t = src;
        src = dst;
        dst = t;
    }
    free(count);
    if (src != ev)
        memcpy(ev, src, n * sizeof *ev);
    for (uint64_t i = 0; i < n;) {
        uint64_t j = i + 1;
        while (j < n && ev[j].ts == ev[i].ts)
            j++;
        if (j - i > 1)
            qsort(ev + i, j - i, sizeof *ev, isort_cmp);
        i = j;
    }
}

/* First index in ev[0..n) not ordered before key. */
static uint64_t lower_bound(const imp_event *ev, uint64_t n, const imp_event *key)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (isort_cmp(&ev[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Rank 0: from every rank's regular samples, the nranks-1 splitters. */
static int pick_splitters(const cs_comm *c, const imp_event *ev, uint64_t n,
                          imp_event *split, cs_err *err)
{
    int k = c->size < 16 ? 64 : 4 * c->size;   /* samples per rank */
    imp_event *mine = cs_calloc((size_t)k, sizeof *mine, err, "sort samples");
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "sort samples");
    if (!mine || !counts) {
        free(mine);
        free(counts);
        return CS_ENOMEM;
    }
    int m = n < (uint64_t)k ? (int)n : k;
    for (int i = 0; i < m; i++)
        mine[i] = ev[(uint64_t)(i + 1) * n / (uint64_t)(m + 1)];
    void *all = NULL;
    int rc = comm_gatherv(c, mine, (uint64_t)m * sizeof *mine, &all, counts, err);
    if (rc == CS_OK && c->rank == 0) {
        uint64_t total = 0;
        for (int r = 0; r < c->size; r++)
            total += counts[r] / sizeof *mine;
        imp_event *s = all;
        qsort(s, total, sizeof *s, isort_cmp);
        for (int r = 1; r < c->size; r++)
            split[r - 1] = total ? s[(uint64_t)r * total / (uint64_t)c->size] : (imp_event){ 0 };
    }
    free(all);
    free(mine);
    free(counts);
    if (rc == CS_OK)
        rc = comm_bcast(c, split, (size_t)(c->size - 1) * sizeof *split, err);
    return rc;
}

int isort_global(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    imp_parser *p = &x->p;
    uint64_t n = p->nev;
    imp_event *tmp = cs_malloc((n ? n : 1) * sizeof *tmp, err, "sort buffer");
    if (comm_agree(c, err) != CS_OK) {
        free(tmp);
        return err->code;
    }
    sort_local(p->ev, n, tmp);
    if (c->size == 1) {
        free(tmp);
        return CS_OK;
    }
    imp_event *split = cs_calloc((size_t)c->size, sizeof *split, err, "splitters");
    uint64_t *sendcounts = cs_calloc((size_t)c->size, sizeof *sendcounts, err, "sort counts");
    int rc = split && sendcounts ? CS_OK : CS_ENOMEM;
    if (comm_agree(c, err) == CS_OK)
        rc = pick_splitters(c, p->ev, n, split, err);
    if (rc == CS_OK) {
        uint64_t prev = 0;
        for (int r = 0; r < c->size; r++) {
            uint64_t b = r + 1 < c->size ? lower_bound(p->ev, n, &split[r]) : n;
            sendcounts[r] = b - prev;
            prev = b;
        }
        /* The receive buffer reuses the sort scratch (its capacity is n). */
        void *recv = tmp;
        uint64_t recvcap = n ? n : 1, nrecv = 0;
        rc = comm_alltoallv(c, p->ev, sendcounts, sizeof *p->ev, &recv, &recvcap, &nrecv, err);
        tmp = recv;
        if (rc == CS_OK) {
            /* The old events become the scratch of the final sort. */
            imp_event *old = p->ev;
            uint64_t oldcap = p->cap;
            p->ev = recv;
            p->cap = recvcap;
            p->nev = nrecv;
            tmp = old;
            if (oldcap < nrecv) {
                free(tmp);
                tmp = cs_malloc(nrecv * sizeof *tmp, err, "sort buffer");
                rc = tmp ? CS_OK : CS_ENOMEM;
            }
            if (rc == CS_OK)
                sort_local(p->ev, p->nev, tmp);
        }
    }
    free(tmp);
    free(split);
    free(sendcounts);
    return comm_agree(c, err) != CS_OK ? err->code : rc;
}

/* Sends each rank's event count and last event to every rank. */
static int share_ends(const cs_comm *c, const imp_parser *p, imp_event *last, uint64_t *cnt,
                      cs_err *err)
{
    struct { uint64_t n; imp_event last; } mine = { p->nev, { 0 } }, *all = NULL;
    if (p->nev)
        mine.last = p->ev[p->nev - 1];
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "ends");
    int rc = counts ? CS_OK : CS_ENOMEM;
    if (comm_agree(c, err) != CS_OK) {
        free(counts);
        return err->code;
    }
    rc = comm_gatherv(c, &mine, sizeof mine, (void **)&all, counts, err);
    if (rc == CS_OK && c->rank == 0)
        for (int r = 0; r < c->size; r++) {
            cnt[r] = all[r].n;
            last[r] = all[r].last;
        }
    free(all);
    free(counts);
    if (rc == CS_OK)
        rc = comm_bcast(c, cnt, (size_t)c->size * sizeof *cnt, err);
    if (rc == CS_OK)
        rc = comm_bcast(c, last, (size_t)c->size * sizeof *last, err);
    return rc;
}

int isort_dedupe(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    imp_parser *p = &x->p;
    int drop = x->cfg->import_duplicates == IMPORT_DUP_DROP;
    imp_event *last = cs_calloc((size_t)c->size, sizeof *last, err, "ends");
    uint64_t *cnt = cs_calloc((size_t)c->size, sizeof *cnt, err, "ends");
    int rc = last && cnt ? CS_OK : CS_ENOMEM;
    if (comm_agree(c, err) == CS_OK)
        rc = share_ends(c, p, last, cnt, err);
    /* The event before this rank's first: the last of the nearest
     * non-empty rank before. */
    const imp_event *prev = NULL;
    for (int r = c->rank - 1; rc == CS_OK && r >= 0 && !prev; r--)
        if (cnt[r])
            prev = &last[r];
    imp_event before = { 0 };
    if (prev)
        before = *prev;
    if (rc == CS_OK && drop) {
        snprintf(x->spill_path + strlen(x->spill_path) - 5, 6, ".dups");
        if (!(x->spill = fopen(x->spill_path, "wb")))
            rc = cs_err_set(err, CS_EIO, "%s: cannot create", x->spill_path);
    }
    uint64_t dups = 0, out = 0;
    for (uint64_t i = 0; rc == CS_OK && i < p->nev; i++) {
        const imp_event *e = &p->ev[i];
        int dup = (i == 0 ? prev != NULL : 1) && isort_same_event(e, &before);
        if (dup) {
            dups++;
            if (drop) {
                char detail[1100];
                snprintf(detail, sizeof detail, "the same event as %s line %llu",
                         x->files[before.file].path, (unsigned long long)before.line);
                rc = iwrite_spill(x, e->file, e->line, 1, R_DUPLICATE, detail, "", 0, err);
                continue;
            }
        }
        before = *e;
        p->ev[out++] = *e;
    }
    if (rc == CS_OK)
        p->nev = out;
    if (x->spill && fclose(x->spill) != 0 && rc == CS_OK)
        rc = cs_err_set(err, CS_EIO, "%s: cannot write", x->spill_path);
    x->spill = NULL;
    free(last);
    free(cnt);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    int64_t d[2] = { (int64_t)dups, drop ? (int64_t)dups : 0 };
    rc = comm_sum_i64(c, d, 2, 1, err);
    x->duplicates = (uint64_t)d[0];
    x->dropped = (uint64_t)d[1];
    return rc;
}
