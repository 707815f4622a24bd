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

/* A compact sort key: the records move once, at the end. */
typedef struct skey {
    uint64_t ts;      /* ts - min ts */
    uint64_t user;
    uint64_t idx;
} skey;

/* One stable LSD pass on 16 bits of ts (field 0) or user (field 1);
 * returns 0 without moving anything when every key has the same digit. */
static int radix_pass(skey *src, skey *dst, uint64_t n, int field, int shift, uint64_t *count)
{
    memset(count, 0, (1 << 16) * sizeof *count);
    for (uint64_t i = 0; i < n; i++)
        count[((field ? src[i].user : src[i].ts) >> shift) & 0xffff]++;
    uint64_t sum = 0;
    for (int d = 0; d < 1 << 16; d++) {
        if (count[d] == n)
            return 0;
        uint64_t k = count[d];
        count[d] = sum;
        sum += k;
    }
    for (uint64_t i = 0; i < n; i++)
        dst[count[((field ? src[i].user : src[i].ts) >> shift) & 0xffff]++] = src[i];
    return 1;
}

/* Puts ev[a[j].idx] at position j for every j, in place (cycle by cycle). */
static void permute(imp_event *ev, skey *a, uint64_t n)
{
    const uint64_t done = UINT64_MAX;
    for (uint64_t i = 0; i < n; i++) {
        if (a[i].idx == done)
            continue;
        imp_event t = ev[i];
        for (uint64_t j = i;;) {
            uint64_t k = a[j].idx;
            a[j].idx = done;
            if (k == i) {
                ev[j] = t;
                break;
            }
            ev[j] = ev[k];
            j = k;
        }
    }
}

/* Sorts n events by the full order: a radix sort of (ts, user) keys (the
 * digits every key shares are skipped), one permutation of the records in
 * place, then the runs of equal (ts, user), short in any real log, by the
 * full comparison. 48 bytes of keys per event; qsort without them. */
void isort_local(imp_event *ev, uint64_t n)
{
    if (n < 2)
        return;
    skey *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint64_t *count = malloc((1 << 16) * sizeof *count);
    if (!a || !b || !count) {
        free(a);
        free(b);
        free(count);
        qsort(ev, n, sizeof *ev, isort_cmp);
        return;
    }
    int64_t lo = ev[0].ts;
    for (uint64_t i = 1; i < n; i++)
        lo = ev[i].ts < lo ? ev[i].ts : lo;
    for (uint64_t i = 0; i < n; i++)
        a[i] = (skey){ (uint64_t)(ev[i].ts - lo), ev[i].user_id, i };
    for (int field = 1; field >= 0; field--)   /* user first: it is the less significant */
        for (int shift = 0; shift < 64; shift += 16)
            if (radix_pass(a, b, n, field, shift, count)) {
                skey *t = a;
                a = b;
                b = t;
            }
    permute(ev, a, n);
    free(a);
    free(b);
    free(count);
    for (uint64_t i = 0; i < n;) {
        uint64_t j = i + 1;
        while (j < n && ev[j].ts == ev[i].ts && ev[j].user_id == ev[i].user_id)
            j++;
        if (j - i > 1)
            qsort(ev + i, j - i, sizeof *ev, isort_cmp);
        i = j;
    }
}

/* Rank 0: from every rank's samples (events at regular positions), the
 * nranks-1 splitters, sent to all. The final order is total, so the
 * splitters decide only how evenly the ranks share the events. */
static int pick_splitters(const cs_comm *c, const imp_event *ev, uint64_t n,
                          imp_event *split, cs_err *err)
{
    int k = c->size < 16 ? 64 : 4 * c->size;   /* samples per rank */
    imp_event *mine = cs_calloc((size_t)k, sizeof *mine, err, "sort samples");
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "sort samples");
    if (comm_agree(c, err) != CS_OK) {   /* before the collectives: no rank left waiting */
        free(mine);
        free(counts);
        return err->code;
    }
    int m = n < (uint64_t)k ? (int)n : k;
    for (int i = 0; i < m; i++)
        mine[i] = ev[(uint64_t)i * n / (uint64_t)m];
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

/* The rank an event goes to: the number of splitters not after it. */
static uint32_t dest_of(const imp_event *e, const imp_event *split, int nsplit)
{
    int lo = 0, hi = nsplit;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (isort_cmp(&split[mid], e) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/* Groups ev by destination in place (counts[r] events for rank r, in rank
 * order): an American-flag permutation; d holds each event's destination.
 * next and stop are scratch of nranks values each. */
static void group_by_dest(imp_event *ev, uint32_t *d, const uint64_t *counts, int nranks,
                          uint64_t *next, uint64_t *stop)
{
    uint64_t at = 0;
    for (int r = 0; r < nranks; r++) {
        next[r] = at;
        at += counts[r];
        stop[r] = at;
    }
    for (int r = 0; r < nranks; r++)
        while (next[r] < stop[r]) {
            uint64_t i = next[r];
            uint32_t dr = d[i];
            if (dr == (uint32_t)r) {
                next[r]++;
                continue;
            }
            uint64_t j = next[dr]++;   /* the next open slot of its destination */
            imp_event te = ev[i];
            ev[i] = ev[j];
            ev[j] = te;
            d[i] = d[j];
            d[j] = dr;
        }
}

int isort_global(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    imp_parser *p = &x->p;
    uint64_t n = p->nev;
    if (c->size == 1) {
        isort_local(p->ev, n);
        return CS_OK;
    }
    imp_event *split = cs_calloc((size_t)c->size, sizeof *split, err, "splitters");
    uint64_t *counts = cs_calloc(3 * (size_t)c->size, sizeof *counts, err, "sort counts");
    uint32_t *d = cs_malloc((n ? n : 1) * sizeof *d, err, "destinations");
    /* A failed allocation has set err: every rank takes the agreed code,
     * so a healthy one does not go on alone. */
    int rc = comm_agree(c, err);
    if (rc == CS_OK)
        rc = pick_splitters(c, p->ev, n, split, err);
    if ((rc = comm_agree(c, err)) == CS_OK) {
        for (uint64_t i = 0; i < n; i++)
            counts[d[i] = dest_of(&p->ev[i], split, c->size - 1)]++;
        group_by_dest(p->ev, d, counts, c->size, counts + c->size, counts + 2 * c->size);
        free(d);
        d = NULL;
        void *recv = NULL;
        uint64_t recvcap = 0, nrecv = 0;
        rc = comm_alltoallv(c, p->ev, counts, sizeof *p->ev, &recv, &recvcap, &nrecv, err);
        if (rc == CS_OK) {
            free(p->ev);
            p->ev = recv;
            p->cap = recvcap;
            p->nev = nrecv;
            isort_local(p->ev, p->nev);
        } else {
            free(recv);
        }
    }
    free(d);
    free(split);
    free(counts);
    return comm_agree(c, err) != CS_OK ? err->code : rc;
}

/* What each rank tells the others about its slice: its count, its last
 * event, the first event of the slice equal to that last one, and whether
 * the whole slice equals it. */
typedef struct slice_end {
    uint64_t n;
    int32_t whole, pad;
    imp_event last, first;
} slice_end;

/* Every rank gets every rank's slice_end. */
static int share_ends(const cs_comm *c, const imp_event *ev, uint64_t n, slice_end *ends,
                      cs_err *err)
{
    slice_end mine = { n, 0, 0, { 0 }, { 0 } }, *all = NULL;
    if (n) {
        uint64_t t = n - 1;
        while (t > 0 && isort_same_event(&ev[t - 1], &ev[n - 1]))
            t--;
        mine.last = ev[n - 1];
        mine.first = ev[t];
        mine.whole = t == 0;
    }
    uint64_t *counts = cs_calloc((size_t)c->size, sizeof *counts, err, "ends");
    if (comm_agree(c, err) != CS_OK) {
        free(counts);
        return err->code;
    }
    int rc = comm_gatherv(c, &mine, sizeof mine, (void **)&all, counts, err);
    if (rc == CS_OK && c->rank == 0)
        memcpy(ends, all, (size_t)c->size * sizeof *ends);
    free(all);
    free(counts);
    if (rc == CS_OK)
        rc = comm_bcast(c, ends, (size_t)c->size * sizeof *ends, err);
    return rc;
}

int isort_dedupe_slice(imp_ctx *x, imp_event *ev, uint64_t *n, isort_carry *carry, int spill,
                       uint64_t *dups, cs_err *err)
{
    const cs_comm *c = x->c;
    int drop = x->cfg->import_duplicates == IMPORT_DUP_DROP;
    slice_end *ends = cs_calloc((size_t)c->size, sizeof *ends, err, "ends");
    if (comm_agree(c, err) != CS_OK || share_ends(c, ev, *n, ends, err) != CS_OK) {
        free(ends);
        return err->code;
    }
    /* Walk the ranks in order: what precedes this rank's slice, and what
     * follows the whole stretch. A slice made only of one repeated event
     * passes on the first of that event from before it. */
    isort_carry run = *carry, prev = { 0 };
    for (int r = 0; r < c->size; r++) {
        if (r == c->rank)
            prev = run;
        if (!ends[r].n)
            continue;
        int cont = ends[r].whole && run.has && isort_same_event(&run.last, &ends[r].last);
        run.first = cont ? run.first : ends[r].first;
        run.last = ends[r].last;
        run.has = 1;
    }
    free(ends);
    *carry = run;
    /* `before` is the first of the events equal to the one before: the one
     * a dropped duplicate is named after. */
    imp_event before = prev.first;
    uint64_t out = 0, nd = 0;
    int rc = CS_OK;
    for (uint64_t i = 0; rc == CS_OK && i < *n; i++) {
        const imp_event *e = &ev[i];
        if ((i > 0 || prev.has) && isort_same_event(e, &before)) {
            nd++;
            if (drop) {
                if (spill) {
                    char detail[1100];
                    snprintf(detail, sizeof detail, "the same event as %s line %llu",
                             x->files[before.file].path, (unsigned long long)before.line);
                    rc = iwrite_spill(x, e->file, e->line, 1, R_DUPLICATE, detail, "", 0, err);
                }
                continue;
            }
        } else {
            before = *e;
        }
        ev[out++] = *e;
    }
    *n = out;
    *dups += nd;
    return rc;
}

int isort_dedupe(imp_ctx *x, cs_err *err)
{
    const cs_comm *c = x->c;
    imp_parser *p = &x->p;
    int drop = x->cfg->import_duplicates == IMPORT_DUP_DROP;
    int rc = CS_OK;
    if (drop) {
        snprintf(x->spill_path + strlen(x->spill_path) - 5, 6, ".dups");
        if (!(x->spill = fopen(x->spill_path, "wb")))
            rc = cs_err_set(err, CS_EIO, "%s: cannot create", x->spill_path);
    }
    isort_carry carry = { 0 };
    uint64_t dups = 0;
    x->spill_window = 0;
    if (comm_agree(c, err) == CS_OK)
        rc = isort_dedupe_slice(x, p->ev, &p->nev, &carry, 1, &dups, err);
    if (x->spill && fclose(x->spill) != 0 && rc == CS_OK)
        rc = cs_err_set(err, CS_EIO, "%s: cannot write", x->spill_path);
    x->spill = NULL;
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    int64_t d[2] = { (int64_t)dups, drop ? (int64_t)dups : 0 };
    rc = comm_sum_i64(c, d, 2, 1, err);
    x->duplicates = (uint64_t)d[0];
    x->dropped = (uint64_t)d[1];
    return rc;
}
