/* shuffle.c — pack by owner and exchange (see shuffle.h). */
#include "clickseg/shuffle.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Records staged per (destination, bucket) cell in the pack: 16 (whole
 * lines out at a time) while the stage fits in the L2 cache; fewer with
 * very many ranks, so the stage stays about 3.5 MiB whatever the count. */
#define WC_MAX 16
#define STAGE_RECORDS 65536

/* Enough level-1 buckets for the receiver's level 2 to run in cache,
 * few enough (destination, bucket) cells for the pack's scatter to stream:
 * about 4096 cells, 64..256 buckets a destination. */
static int l1_bits_for(int nranks)
{
    int lg = 0;
    while ((1 << lg) < nranks)
        lg++;
    int b = 12 - lg;
    return b < 6 ? 6 : b > 8 ? 8 : b;
}

int shuffle_init(cs_shuffle *s, int nranks, int self, cs_err *err)
{
    memset(s, 0, sizeof *s);
    s->nranks = nranks;
    s->self = self;
    s->l1_bits = l1_bits_for(nranks);
    size_t cells = (size_t)nranks << s->l1_bits;
    s->shm.fd = -1;
    s->counts = cs_calloc((size_t)3 * nranks + 3 * cells, sizeof *s->counts, err,
                          "shuffle counts");
    if (!s->counts)
        return CS_ENOMEM;
    s->bcounts = s->counts + nranks;
    s->rbcounts = s->bcounts + cells;
    s->fill = s->rbcounts + cells;
    s->send_at = s->fill + cells;
    s->src_at = s->send_at + nranks;
    s->wc = cells * WC_MAX <= STAGE_RECORDS ? WC_MAX
            : STAGE_RECORDS / cells > 1 ? (int)(STAGE_RECORDS / cells) : 1;
    s->stage = cs_malloc(cells * (size_t)s->wc * sizeof(cs_event), err, "shuffle stage");
    s->nstage = cs_malloc(cells, err, "shuffle stage");
    if (!s->stage || !s->nstage) {
        shuffle_free(s);
        return CS_ENOMEM;
    }
    return CS_OK;
}

int shuffle_share_node(const cs_comm *c, cs_shuffle *s, int want, char *why, size_t whylen,
                       cs_err *err)
{
    return nodeshm_init(c, &s->shm, want, why, whylen, err);
}

/* The send buffer is the shared one's data when the node shares. */
static void free_send(cs_shuffle *s)
{
    if (s->shm.on)
        nodeshm_release(&s->shm);
    else
        free(s->send);
}

void shuffle_free(cs_shuffle *s)
{
    free(s->counts);
    free(s->stage);
    free(s->nstage);
    free(s->dest);
    free_send(s);
    nodeshm_free(&s->shm);
    free(s->recv);
    memset(s, 0, sizeof *s);
}

void shuffle_release(cs_shuffle *s, int keep_shared)
{
    free(s->dest);
    if (!keep_shared || !s->shm.on)
        free_send(s);
    free(s->recv);
    s->dest = NULL;
    s->send = s->recv = NULL;
    s->dest_cap = s->send_cap = s->recv_cap = 0;
    s->nsend = s->nrecv = 0;
}

/* Bytes a record takes: the job's choice, fixed before the first pack. */
static size_t rec_width(const cs_shuffle *s)
{
    return s->narrow ? sizeof(cs_event_narrow) : sizeof(cs_event);
}

/* Copies nbytes (a multiple of 8, both ends 8-byte aligned) of staged
 * records out. The send buffer is far larger than the caches and read next
 * by MPI or the sort, not by this loop: streaming stores skip reading each
 * destination line before writing it. */
static inline void flush(char *restrict to, const char *restrict from, size_t nbytes)
{
#ifdef __SSE2__
    /* 16 bytes a store; a 24-byte record may leave the destination 8 bytes
     * off a 16-byte boundary, which one 8-byte store at each end absorbs. */
    if ((uintptr_t)to & 15) {
        _mm_stream_si64((long long *)(void *)to,
                        _mm_cvtsi128_si64(_mm_loadl_epi64((const __m128i *)(const void *)from)));
        to += 8, from += 8, nbytes -= 8;
    }
    for (; nbytes >= 16; nbytes -= 16, to += 16, from += 16)
        _mm_stream_si128((__m128i *)(void *)to,
                         _mm_loadu_si128((const __m128i *)(const void *)from));
    if (nbytes)
        _mm_stream_si64((long long *)(void *)to,
                        _mm_cvtsi128_si64(_mm_loadl_epi64((const __m128i *)(const void *)from)));
#else
    memcpy(to, from, nbytes);
#endif
}

/* The scatter of kept rows into their cells' stages and out to the send
 * buffer; inlined once per record layout so each loop builds its records
 * with plain stores. */
static inline __attribute__((always_inline)) void
pack_rows(cs_shuffle *s, const cs_colseg *seg, int narrow)
{
    /* Local copies: the stores into records must not make the compiler
     * reload every column pointer for every row. */
    const cs_colview *cols = &seg->c;
    const cs_u64u *restrict user = cols->user_id, *restrict prod = cols->product_id;
    const cs_u64u *restrict sess = cols->session_id;
    const cs_i64u *restrict ts = cols->ts, *restrict price = cols->price;
    const cs_u32u *restrict cat = cols->category_id, *restrict brand = cols->brand_id;
    const uint8_t *restrict type = cols->event_type;
    const uint32_t *restrict dest = s->dest + seg->row0;
    char *restrict stage = s->stage, *restrict send = s->send;
    uint8_t *restrict nst = s->nstage;
    uint64_t *restrict fill = s->fill;
    const int wc = s->wc;
    const size_t w = narrow ? sizeof(cs_event_narrow) : sizeof(cs_event);
    for (uint64_t i = 0; i < seg->n; i++) {
        uint32_t d = dest[i];
        if (d == SHUFFLE_DROP)
            continue;
        char *slot = stage + ((size_t)d * wc + nst[d]) * w;
        if (narrow)
            *(cs_event_narrow *)(void *)slot = (cs_event_narrow){
                .user_id = user[i], .ts_type = ev_ts_type(ts[i], type[i]), .price = price[i]};
        else
            *(cs_event *)(void *)slot = (cs_event){
                .user_id = user[i], .ts_type = ev_ts_type(ts[i], type[i]),
                .product_id = prod[i], .session_id = sess ? sess[i] : 0, .price = price[i],
                .category_id = cat[i], .brand_id = brand[i]};
        if (++nst[d] == wc) {
            flush(send + fill[d] * w, slot - (size_t)(wc - 1) * w, (size_t)wc * w);
            fill[d] += (uint64_t)wc;
            nst[d] = 0;
        }
    }
}

int shuffle_route_begin(cs_shuffle *s, uint64_t n, cs_err *err)
{
    if (cs_reserve((void **)&s->dest, &s->dest_cap, n, sizeof *s->dest, err, "shuffle routes"))
        return CS_ENOMEM;
    memset(s->bcounts, 0, ((size_t)s->nranks << s->l1_bits) * sizeof *s->bcounts);
    return CS_OK;
}

void shuffle_route_counts(const cs_shuffle *s, int64_t *to)
{
    size_t nb = (size_t)1 << s->l1_bits;
    for (int r = 0; r < s->nranks; r++) {
        to[r] = 0;
        for (size_t k = 0; k < nb; k++)
            to[r] += (int64_t)s->bcounts[(size_t)r * nb + k];
    }
}

int shuffle_pack(cs_shuffle *s, const cs_colseg *segs, uint64_t nsegs, uint64_t n, cs_err *err)
{
    int nr = s->nranks, l1 = s->l1_bits;
    size_t cells = (size_t)nr << l1, w = rec_width(s);
    if (s->shm.on) {
        s->send = nodeshm_reserve(&s->shm, n * w, err);
        if (!s->send)
            return CS_ENOMEM;
    } else if (cs_reserve(&s->send, &s->send_cap, n, w, err, "shuffle send buffer")) {
        return CS_ENOMEM;
    }
    uint64_t at = 0;
    for (size_t k = 0; k < cells; k++) {
        s->fill[k] = at;
        at += s->bcounts[k];
    }
    for (int r = 0; r < nr; r++)
        s->counts[r] = (r + 1 < nr ? s->fill[(size_t)(r + 1) << l1] : at) - s->fill[(size_t)r << l1];
    s->nsend = at;
    /* Records are built in a small per-cell stage (in cache) and copied out
     * wc at a time: hundreds of scattered output streams then write whole
     * cache lines instead of reading each line before filling it. The
     * segments come in row order, which each destination keeps. */
    memset(s->nstage, 0, cells);
    for (uint64_t g = 0; g < nsegs; g++) {
        if (s->narrow)
            pack_rows(s, &segs[g], 1);
        else
            pack_rows(s, &segs[g], 0);
    }
#ifdef __SSE2__
    _mm_sfence();   /* the streamed stores are visible before MPI reads the buffer */
#endif
    for (size_t k = 0; k < cells; k++) {
        if (s->nstage[k])   /* a rank with no rows may have no send buffer yet */
            memcpy((char *)s->send + s->fill[k] * w, (char *)s->stage + k * (size_t)s->wc * w,
                   s->nstage[k] * w);
        s->fill[k] += s->nstage[k];
    }
    return CS_OK;
}

int shuffle_exchange(const cs_comm *c, cs_shuffle *s, cs_err *err)
{
    int rc = comm_alltoall_u64(c, s->bcounts, s->rbcounts, (size_t)1 << s->l1_bits, err);
    if (rc != CS_OK)
        return rc;
    if (s->shm.on) {
        /* Nothing moves: each rank learns where its block starts in every
         * other rank's buffer and maps the buffers at their sizes. */
        uint64_t at = 0;
        for (int r = 0; r < s->nranks; r++) {
            s->send_at[r] = at;
            at += s->counts[r];
        }
        rc = comm_alltoall_u64(c, s->send_at, s->src_at, 1, err);
        if (rc == CS_OK)
            rc = nodeshm_publish(c, &s->shm, err);
        size_t nb = (size_t)1 << s->l1_bits;
        s->nrecv = 0;
        for (int r = 0; r < s->nranks; r++)
            for (size_t k = 0; r != s->self && k < nb; k++)
                s->nrecv += s->rbcounts[(size_t)r * nb + k];
        return rc;
    }
    /* A rank's own records stay in the send buffer: the sort reads them
     * there (shuffle_runs). */
    return comm_alltoallv_others(c, s->send, s->counts, rec_width(s), &s->recv,
                                 &s->recv_cap, &s->nrecv, err);
}

void shuffle_runs(const cs_shuffle *s, cs_sort_run *runs)
{
    size_t nb = (size_t)1 << s->l1_bits, w = rec_width(s);
    const char *recv = s->recv, *mine = s->send;
    for (int r = 0; r < s->self; r++)
        mine += s->counts[r] * w;
    for (int r = 0; r < s->nranks; r++) {
        const uint64_t *bn = s->rbcounts + (size_t)r * nb;
        runs[r].bucket_n = bn;
        runs[r].narrow = s->narrow;
        if (r == s->self) {
            runs[r].ev = mine;
            continue;
        }
        if (s->shm.on) {
            runs[r].ev = nodeshm_peer(&s->shm, r) + s->src_at[r] * w;
            continue;
        }
        runs[r].ev = recv;
        for (size_t k = 0; k < nb; k++)
            recv += bn[k] * w;
    }
}

uint64_t shuffle_owned(const cs_shuffle *s)
{
    return s->nrecv + s->counts[s->self];
}

int shuffle_route(const cs_comm *c, const void *recs, uint64_t n, size_t size,
                  const uint64_t *extra, const uint64_t *nx, void **out, uint64_t *nout,
                  uint64_t **xout, uint64_t *nxout, cs_err *err)
{
    int R = c->size;
    uint64_t *cnt = cs_calloc((size_t)R * 4, sizeof *cnt, err, "redistribution counts");
    int *dest = cs_malloc((n + 1) * sizeof *dest, err, "redistribution");
    uint64_t totx = 0;
    for (uint64_t i = 0; extra && i < n; i++)
        totx += nx[i];
    char *send = cs_malloc(n * size + 1, err, "redistribution");
    uint64_t *xsend = extra ? cs_malloc((totx + 1) * 8, err, "redistribution") : NULL;
    int rc = cnt && dest && send && (!extra || xsend) ? CS_OK : CS_ENOMEM;
    if (rc == CS_OK) {
        uint64_t *xc = cnt + R, *at = cnt + 2 * R, *xat = cnt + 3 * R;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t uid;
            memcpy(&uid, (const char *)recs + i * size, 8);
            dest[i] = cs_owner(uid, R);
            cnt[dest[i]]++;
            xc[dest[i]] += extra ? nx[i] : 0;
        }
        for (int r = 1; r < R; r++) {
            at[r] = at[r - 1] + cnt[r - 1];
            xat[r] = xat[r - 1] + xc[r - 1];
        }
        const uint64_t *xp = extra;
        for (uint64_t i = 0; i < n; i++) {
            int d = dest[i];
            memcpy(send + at[d]++ * size, (const char *)recs + i * size, size);
            if (extra) {
                memcpy(xsend + xat[d], xp, nx[i] * 8);
                xat[d] += nx[i];
                xp += nx[i];
            }
        }
    }
    *out = NULL;
    if (xout)
        *xout = NULL;
    rc = comm_agree(c, err);
    if (rc == CS_OK) {
        uint64_t cap = 0, xcap = 0;
        rc = comm_alltoallv(c, send, cnt, size, out, &cap, nout, err);
        if (extra && rc == CS_OK)
            rc = comm_alltoallv(c, xsend, cnt + R, 8, (void **)xout, &xcap, nxout, err);
        rc = comm_agree(c, err);
    }
    free(cnt); free(dest); free(send); free(xsend);
    return rc;
}
