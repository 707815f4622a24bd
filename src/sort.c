/* sort.c — bucket-then-sort of events (see sort.h).
 *
 * Buckets are small (about 2 records, mostly one user's, already in ts
 * order as they arrive in row order) so the second pass is an insertion
 * sort in cache; a bucket that is large (a heavy user) is usually already in
 * order, which insertion sort handles in one pass; a large unordered one
 * falls back to a merge sort. Both are stable: events of equal (user, ts)
 * keep their arrival order, which is their row order (event.h). */
#include "clickseg/sort.h"

#include <stdlib.h>
#include <string.h>

#define TARGET_BUCKET 2
#define MAX_BUCKET_BITS 24
#define INSERTION_MAX 256

static inline uint64_t bucket_key(uint64_t user)
{
    return cs_user_key(user);
}

int sort_event_less(const cs_event *a, const cs_event *b)
{
    if (a->user_id != b->user_id)
        return a->user_id < b->user_id;
    return ev_ts(a) < ev_ts(b);
}

/* The order above on records of either width (event.h: both start with
 * user_id and ts_type). The sort's loops below take the record width as a
 * parameter and are inlined into one copy per width (sort_one_bucket_24
 * and _48), where it is a constant. */
static inline int rec_less(const char *a, const char *b)
{
    uint64_t ua = rec_user_id(a), ub = rec_user_id(b);
    if (ua != ub)
        return ua < ub;
    return rec_ts(a) < rec_ts(b);
}

#define INLINE static inline __attribute__((always_inline))

/* Stable merge sort of ev[0..n) (records of w bytes) by rec_less, tmp
 * (room for n) as scratch: the fallback for a large unordered bucket,
 * where equal events must keep their order (they are in row order). */
static void merge_sort(char *ev, char *tmp, uint64_t n, size_t w)
{
    for (uint64_t width = 1; width < n; width *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * width) {
            uint64_t mid = lo + width < n ? lo + width : n;
            uint64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (rec_less(ev + j * w, ev + i * w))
                    memcpy(tmp + k++ * w, ev + j++ * w, w);
                else
                    memcpy(tmp + k++ * w, ev + i++ * w, w);
            }
            while (i < mid)
                memcpy(tmp + k++ * w, ev + i++ * w, w);
            while (j < hi)
                memcpy(tmp + k++ * w, ev + j++ * w, w);
        }
        memcpy(ev, tmp, n * w);
    }
}

/* Insertion sort; gives up (returns 0) after too many moves so a large
 * unordered bucket goes to the merge sort instead. */
INLINE int insertion(char *ev, uint64_t n, uint64_t budget, size_t w)
{
    uint64_t moves = 0;
    cs_event x;   /* room for either width, aligned for rec_less's loads */
    for (uint64_t i = 1; i < n; i++) {
        if (!rec_less(ev + i * w, ev + (i - 1) * w))
            continue;
        memcpy(&x, ev + i * w, w);
        uint64_t j = i;
        while (j > 0 && rec_less((const char *)&x, ev + (j - 1) * w)) {
            memcpy(ev + j * w, ev + (j - 1) * w, w);
            j--;
            if (++moves > budget) {
                memcpy(ev + j * w, &x, w);   /* keep every record: the merge sort finishes */
                return 0;
            }
        }
        memcpy(ev + j * w, &x, w);
    }
    return 1;
}

/* A large bucket the insertion sort gave up on: merge sorted (rare). */
static __attribute__((noinline)) void sort_bucket_merge(char *ev, uint64_t n, size_t w)
{
    char *tmp = malloc(n * w);
    if (tmp)
        merge_sort(ev, tmp, n, w);
    else
        insertion(ev, n, UINT64_MAX, w);   /* no scratch: slow, still right */
    free(tmp);
}

INLINE void sort_bucket(char *ev, uint64_t n, size_t w)
{
    if (n < 2)
        return;
    uint64_t budget = n <= INSERTION_MAX ? UINT64_MAX : 4 * n;
    if (!insertion(ev, n, budget, w))
        sort_bucket_merge(ev, n, w);
}

static inline uint64_t digit(uint64_t key, int shift, uint64_t mask)
{
    return (key >> shift) & mask;
}

uint64_t sort_l1_bucket(uint64_t user_id, int l1_bits)
{
    return cs_user_key(user_id) >> (64 - l1_bits);
}

void sort_count_buckets(const cs_event *ev, uint64_t n, int l1_bits, uint64_t *bucket_n)
{
    memset(bucket_n, 0, ((size_t)1 << l1_bits) * sizeof *bucket_n);
    for (uint64_t i = 0; i < n; i++)
        bucket_n[sort_l1_bucket(ev[i].user_id, l1_bits)]++;
}

/* Users in sorted out[0..m) whose first record is before `later` (the
 * runs sessionize will process), counted while the bucket is in cache. */
INLINE uint64_t early_users(const char *out, uint64_t m, int64_t later, size_t w)
{
    if (m == 0)
        return 0;
    /* No branch on the data: a user starts at every change of id. */
    uint64_t u = rec_ts(out) < later;
    for (uint64_t i = 1; i < m; i++)
        u += (uint64_t)((rec_user_id(out + i * w) != rec_user_id(out + (i - 1) * w)) &
                        (rec_ts(out + i * w) < later));
    return u;
}

/* One piece of a level-1 bucket: len records of `width` bytes at p. */
typedef struct piece {
    const char *p;
    uint64_t len;
    size_t width;
} piece;

/* Copies piece records [0, len) to out (records of w bytes) in order. */
INLINE void copy_piece(char *restrict out, const piece *pc, size_t w)
{
    if (pc->len)   /* an empty run may have no buffer at all */
        rec_convert_n(out, w, pc->p, pc->width, pc->len);
}

/* Level 2 of one level-1 bucket: the bucket's pieces (one per run, in run
 * order) scattered stably by the next b2 key bits straight into out
 * (records of w bytes, converted from each piece's width), then each
 * sub-bucket sorted in cache. cnt has 2^b2 + 1 entries. */
INLINE void sort_one_bucket(const piece *pc, int nruns, char *out, size_t w, uint64_t m,
                            int shift, int b2, uint64_t *cnt, uint32_t *dig, int64_t later,
                            uint64_t *nl, uint64_t *nu)
{
    uint64_t nb = 1ULL << b2, mask = nb - 1, late = 0;
    if (b2 == 0 || m < 2 * TARGET_BUCKET) {
        uint64_t at = 0;
        for (int r = 0; r < nruns; r++) {
            for (uint64_t i = 0; i < pc[r].len; i++)
                late += rec_ts(pc[r].p + i * pc[r].width) >= later;
            copy_piece(out + at * w, &pc[r], w);
            at += pc[r].len;
        }
        sort_bucket(out, m, w);
        *nl += late;
        *nu += early_users(out, m, later, w);
        return;
    }
    /* Each record's digit is kept (in cache) between the two passes: the
     * key's mix is worked out once. */
    memset(cnt, 0, (nb + 1) * sizeof *cnt);
    uint64_t j = 0;
    for (int r = 0; r < nruns; r++) {
        const char *p = pc[r].p;
        size_t pw = pc[r].width;
        for (uint64_t i = 0; i < pc[r].len; i++, p += pw) {
            uint32_t d = (uint32_t)digit(cs_user_key(rec_user_id(p)), shift, mask);
            dig[j++] = d;
            cnt[d + 1]++;
            late += rec_ts(p) >= later;
        }
    }
    for (uint64_t k = 1; k <= nb; k++)
        cnt[k] += cnt[k - 1];
    j = 0;
    for (int r = 0; r < nruns; r++) {
        const char *p = pc[r].p;
        if (pc[r].width == w) {
            for (uint64_t i = 0; i < pc[r].len; i++, p += w)
                memcpy(out + cnt[dig[j++]]++ * w, p, w);
        } else {
            size_t pw = pc[r].width;
            for (uint64_t i = 0; i < pc[r].len; i++, p += pw)
                rec_convert(out + cnt[dig[j++]]++ * w, w, p, pw);
        }
    }
    /* Most sub-buckets hold one user or none: only larger ones are sorted. */
    uint64_t s2 = 0;
    for (uint64_t k = 0; k < nb; k++) {
        if (cnt[k] - s2 > 1)
            sort_bucket(out + s2 * w, cnt[k] - s2, w);
        s2 = cnt[k];
    }
    *nu += early_users(out, m, later, w);   /* a user never spans two sub-buckets */
    *nl += late;
}

static void sort_one_bucket_24(const piece *pc, int nruns, char *out, uint64_t m, int shift,
                               int b2, uint64_t *cnt, uint32_t *dig, int64_t later,
                               uint64_t *nl, uint64_t *nu)
{
    sort_one_bucket(pc, nruns, out, sizeof(cs_event_narrow), m, shift, b2, cnt, dig, later,
                    nl, nu);
}

static void sort_one_bucket_48(const piece *pc, int nruns, char *out, uint64_t m, int shift,
                               int b2, uint64_t *cnt, uint32_t *dig, int64_t later,
                               uint64_t *nl, uint64_t *nu)
{
    sort_one_bucket(pc, nruns, out, sizeof(cs_event), m, shift, b2, cnt, dig, later, nl, nu);
}

/* The most records one level-1 bucket holds, over all runs. */
uint64_t sort_largest_bucket(const cs_sort_run *runs, int nruns, int l1_bits)
{
    uint64_t big = 0;
    for (uint64_t k = 0; k < 1ULL << l1_bits; k++) {
        uint64_t m = 0;
        for (int r = 0; r < nruns; r++)
            m += runs[r].bucket_n[k];
        big = m > big ? m : big;
    }
    return big;
}

/* Both entry points: each bucket is sorted into out (advancing when
 * `advance`, else into the same scratch) and, when fn is set, handed over. */
static int sort_runs_core(const cs_sort_run *runs, int nruns, int l1_bits, void *out_buf,
                          size_t w, int advance, int64_t later, sort_bucket_fn fn, void *ctx,
                          uint64_t *nlater, uint64_t *nusers, cs_err *err)
{
    uint64_t n = 0, n1 = 1ULL << l1_bits;
    for (int r = 0; r < nruns; r++)
        for (uint64_t k = 0; k < n1; k++)
            n += runs[r].bucket_n[k];
    if (n == 0)
        return CS_OK;
    /* Enough level-2 bits that a sub-bucket holds about TARGET_BUCKET. */
    int bits = 0;
    while (bits < MAX_BUCKET_BITS && (n >> bits) > TARGET_BUCKET)
        bits++;
    int b2 = bits > l1_bits ? bits - l1_bits : 0;
    uint64_t big = sort_largest_bucket(runs, nruns, l1_bits);
    char *out = out_buf;
    uint64_t *cnt = cs_calloc((1ULL << b2) + 1, sizeof *cnt, err, "sort buckets");
    uint32_t *dig = cs_malloc((big + 1) * sizeof *dig, err, "sort digits");
    piece *pc = cs_calloc((size_t)nruns + 1, sizeof *pc, err, "sort runs");
    int rc = cnt && dig && pc ? CS_OK : CS_ENOMEM;
    for (int r = 0; rc == CS_OK && r < nruns; r++) {
        pc[r].p = runs[r].ev;
        pc[r].width = runs[r].narrow ? sizeof(cs_event_narrow) : sizeof(cs_event);
    }
    for (uint64_t k = 0; rc == CS_OK && k < n1; k++) {
        uint64_t m = 0, nl = 0, nu = 0;
        for (int r = 0; r < nruns; r++) {
            if (pc[r].len)   /* past bucket k - 1's records (an empty run may be NULL) */
                pc[r].p += pc[r].len * pc[r].width;
            pc[r].len = runs[r].bucket_n[k];
            m += pc[r].len;
        }
        if (!m)
            continue;
        if (w == sizeof(cs_event))
            sort_one_bucket_48(pc, nruns, out, m, 64 - l1_bits - b2, b2, cnt, dig, later, &nl,
                               &nu);
        else
            sort_one_bucket_24(pc, nruns, out, m, 64 - l1_bits - b2, b2, cnt, dig, later, &nl,
                               &nu);
        *nlater += nl;
        *nusers += nu;
        if (fn)
            rc = fn(ctx, out, w, m, nl, nu, err);
        if (advance)
            out += m * w;
    }
    free(cnt);
    free(dig);
    free(pc);
    return rc;
}

int sort_runs_into(const cs_sort_run *runs, int nruns, int l1_bits, cs_event *out,
                   int64_t later, uint64_t *nlater, uint64_t *nusers, cs_err *err)
{
    uint64_t nl = 0, nu = 0;
    int rc = sort_runs_core(runs, nruns, l1_bits, out, sizeof *out, 1, later, NULL, NULL, &nl,
                            &nu, err);
    if (nlater)
        *nlater = rc == CS_OK ? nl : 0;
    if (nusers)
        *nusers = rc == CS_OK ? nu : 0;
    return rc;
}

int sort_runs_each(const cs_sort_run *runs, int nruns, int l1_bits, void *scratch,
                   size_t width, int64_t later, sort_bucket_fn fn, void *ctx, cs_err *err)
{
    if (width != sizeof(cs_event) && width != sizeof(cs_event_narrow))
        return cs_err_set(err, CS_EINTERNAL, "sort: records of %zu bytes", width);
    uint64_t nl = 0, nu = 0;
    return sort_runs_core(runs, nruns, l1_bits, scratch, width, 0, later, fn, ctx, &nl, &nu,
                          err);
}

int sort_events(cs_event *ev, cs_event *tmp, uint64_t n, cs_err *err)
{
    enum { L1 = 8 };
    uint64_t *bn = cs_calloc((size_t)1 << L1, sizeof *bn, err, "sort buckets");
    uint64_t *at = cs_calloc((size_t)1 << L1, sizeof *at, err, "sort buckets");
    int rc = bn && at ? CS_OK : CS_ENOMEM;
    if (rc == CS_OK) {
        sort_count_buckets(ev, n, L1, bn);
        for (int k = 1; k < 1 << L1; k++)
            at[k] = at[k - 1] + bn[k - 1];
        for (uint64_t i = 0; i < n; i++)
            tmp[at[sort_l1_bucket(ev[i].user_id, L1)]++] = ev[i];
        cs_sort_run run = {tmp, bn, 0};
        rc = sort_runs_into(&run, 1, L1, ev, INT64_MAX, NULL, NULL, err);
    }
    free(bn);
    free(at);
    return rc;
}

/* Stable LSD radix sort of src[0..n) by the key's bits [0, bits), 8 bits
 * a pass, dst (room for n) as scratch; passes over digits every key shares
 * are skipped. The result ends in src or dst: returned. cnt has room for
 * 8 * 256 counters. */
static cs_kv *lsd_kv(cs_kv *src, cs_kv *dst, uint64_t n, int bits, uint64_t *cnt)
{
    int passes = (bits + 7) / 8;
    memset(cnt, 0, (size_t)passes * 256 * sizeof *cnt);
    for (uint64_t i = 0; i < n; i++)
        for (int p = 0; p < passes; p++)
            cnt[(size_t)p * 256 + ((src[i].key >> (8 * p)) & 255)]++;
    for (int p = 0; p < passes; p++) {
        uint64_t *c = cnt + (size_t)p * 256, at = 0;
        int trivial = 0;
        for (int d = 0; d < 256; d++) {
            uint64_t k = c[d];
            trivial |= k == n;   /* every key has this digit: nothing to move */
            c[d] = at;
            at += k;
        }
        if (trivial)
            continue;
        for (uint64_t i = 0; i < n; i++)
            dst[c[(src[i].key >> (8 * p)) & 255]++] = src[i];
        cs_kv *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* One stable counting pass by the top 8 bits (out of cache: the one pass
 * over memory), then each of the 256 buckets sorted by the other 56 bits
 * while it sits in the L2 cache (about 7500 keys a bucket for the 1.9
 * million users of a rank at 10^8 events). Keys that are not spread (many
 * sharing their top byte) still sort right, only without that locality.
 * Measured on 1.9 million user keys: 75-90 ms with four 16-bit LSD passes
 * (each over all of memory), see docs/benchmark.md. */
int sort_kv(cs_kv *kv, cs_kv *tmp, uint64_t n, cs_err *err)
{
    uint64_t *cnt = cs_calloc(257 + 8 * 256, sizeof *cnt, err, "radix counters");
    if (!cnt)
        return CS_ENOMEM;
    uint64_t *top = cnt, *inner = cnt + 257;
    for (uint64_t i = 0; i < n; i++)
        top[(kv[i].key >> 56) + 1]++;
    for (int d = 1; d <= 256; d++)
        top[d] += top[d - 1];
    uint64_t *at = inner;   /* the bucket starts, as cursors (inner is free until then) */
    memcpy(at, top, 256 * sizeof *at);
    for (uint64_t i = 0; i < n; i++)
        tmp[at[kv[i].key >> 56]++] = kv[i];
    for (int d = 0; d < 256; d++) {
        uint64_t lo = top[d], m = top[d + 1] - lo;
        if (m == 0)
            continue;
        cs_kv *out = lsd_kv(tmp + lo, kv + lo, m, 56, inner);
        if (out != kv + lo)
            memcpy(kv + lo, out, m * sizeof *kv);
    }
    free(cnt);
    return CS_OK;
}

/* ---- sort_u64: introsort of plain integers ---- */

static void u64_insertion(uint64_t *v, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
        uint64_t x = v[i], j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void u64_sift(uint64_t *v, uint64_t n, uint64_t i)
{
    uint64_t x = v[i];
    for (uint64_t c; (c = 2 * i + 1) < n; i = c) {
        if (c + 1 < n && v[c + 1] > v[c])
            c++;
        if (v[c] <= x)
            break;
        v[i] = v[c];
    }
    v[i] = x;
}

/* The depth limit's way out: n log n whatever the input. */
static void u64_heapsort(uint64_t *v, uint64_t n)
{
    for (uint64_t i = n / 2; i-- > 0;)
        u64_sift(v, n, i);
    for (uint64_t m = n; m-- > 1;) {
        uint64_t t = v[0];
        v[0] = v[m];
        v[m] = t;
        u64_sift(v, m, 0);
    }
}

static inline uint64_t u64_median3(uint64_t a, uint64_t b, uint64_t c)
{
    if (a > b) {
        uint64_t t = a;
        a = b;
        b = t;
    }
    return c < a ? a : c > b ? b : c;
}

void sort_u64(uint64_t *v, uint64_t n)
{
    int depth = 2;
    for (uint64_t m = n; m > 1; m >>= 1)
        depth += 2;
    /* The smaller side is sorted by recursion, the larger by the loop: the
     * stack holds at most log2(n) frames. */
    while (n > 32) {
        if (depth-- == 0) {
            u64_heapsort(v, n);
            return;
        }
        uint64_t p = u64_median3(v[0], v[n / 2], v[n - 1]);
        /* Hoare's partition: runs of ids equal to the pivot split evenly. */
        uint64_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < p)
                i++;
            while (v[j] > p)
                j--;
            if (i >= j)
                break;
            uint64_t t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
        uint64_t left = j + 1;   /* v[0..left) <= p <= v[left..n) */
        if (left < n - left) {
            sort_u64(v, left);
            v += left;
            n -= left;
        } else {
            sort_u64(v + left, n - left);
            n = left;
        }
    }
    u64_insertion(v, n);
}
