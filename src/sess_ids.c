/* sess_ids.c — the distinct-id lists of sessions (see sess_ids.h): made
 * unique as they grow, counted when a session closes, saved into and
 * loaded from the pool of unfinished sessions, and what they hold counted
 * for the memory check. Called by sessionize.c. */
#include "sess_ids.h"

#include <stdlib.h>
#include <string.h>

#include "clickseg/sort.h"

/* Sorts and de-duplicates scratch list k; returns its distinct count. In
 * place: a scraper's list is millions of ids, and qsort would malloc a
 * copy of it. */
static uint64_t uniq(cs_sessionizer *s, int k)
{
    uint64_t n = s->nscratch[k], m = 0;
    uint64_t *v = s->scratch[k];
    sort_u64(v, n);
    for (uint64_t i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    s->nscratch[k] = m;
    return m;
}

/* A full list: made unique when long (a scraper's session of millions of
 * events then holds its distinct ids, not one per event: a session of 3
 * million events over 5,000 categories keeps 5,000 of them), grown when
 * that does not halve it. */
int sess_grow_ids(cs_sessionizer *s, int k, cs_err *err)
{
    uint64_t had = s->nscratch[k];
    if (had >= IDS_COMPACT && uniq(s, k) <= had / 2)
        return CS_OK;
    uint64_t cap = s->capscratch[k] ? 2 * s->capscratch[k] : 256;
    uint64_t *p = cs_realloc(s->scratch[k], cap * sizeof *p, err, "session id list");
    if (!p)
        return CS_ENOMEM;
    s->scratch[k] = p;
    s->capscratch[k] = cap;
    return CS_OK;
}

/* Number of distinct ids in scratch list k (all non-zero). Short lists are
 * compared pairwise; long ones (bots, heavy researchers) go through an
 * open-addressing set, where sorting would cost n log n per session. */
uint64_t sess_count_distinct(cs_sessionizer *s, int k, cs_err *err)
{
    uint64_t n = s->nscratch[k], d = 0;
    const uint64_t *v = s->scratch[k];
    if (n <= 2)   /* most sessions: a page or two */
        return n < 2 ? n : 1 + (v[0] != v[1]);
    if (n > IDS_COMPACT)   /* a long session: sorting in place needs no set twice its size */
        return uniq(s, k);
    if (n <= 32) {
        /* Every pair compared, no early exit: the loops' trip counts are
         * all the predictor has to learn, not where a repeat sits. */
        for (uint64_t i = 1; i < n; i++) {
            int seen = 0;
            for (uint64_t j = 0; j < i; j++)
                seen |= v[j] == v[i];
            d += !seen;
        }
        return d + 1;
    }
    uint64_t cap = 64;
    while (cap < 2 * n)
        cap <<= 1;
    if (cap > s->capset) {
        uint64_t *p = cs_realloc(s->set, cap * sizeof *p, err, "distinct-id set");
        if (!p)
            return uniq(s, k);   /* no memory for the set: sorting gives the same count */
        s->set = p;
        s->capset = cap;
    }
    memset(s->set, 0, cap * sizeof *s->set);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t h = cs_mix64(v[i]) & (cap - 1);
        while (s->set[h] && s->set[h] != v[i])
            h = (h + 1) & (cap - 1);
        d += !s->set[h];
        s->set[h] = v[i];
    }
    return d;
}

/* Gives back the lists and set a long session grew (sess_bytes counts
 * them while they are held). */
void sess_shrink_ids(cs_sessionizer *s)
{
    for (int k = 0; k < 3; k++)
        if (__builtin_expect(s->capscratch[k] > IDS_COMPACT, 0)) {
            free(s->scratch[k]);
            s->scratch[k] = NULL;
            s->capscratch[k] = 0;
        }
    if (__builtin_expect(s->capset > IDS_COMPACT, 0)) {
        free(s->set);
        s->set = NULL;
        s->capset = 0;
    }
}

/* A saved product list this long (a scraper's) is handed between the pool
 * and scratch, not copied: a copy would hold it twice, and scratch would
 * grow back to it by doubling. */
#define IDS_HANDOVER IDS_COMPACT

/* Moves the open session's saved id lists into scratch. */
int sess_load_ids(cs_sessionizer *s, cs_sess_state *st, cs_err *err)
{
    uint32_t n[3] = {st->nprod, st->ncat, st->nbrand};
    int take = n[0] >= IDS_HANDOVER;
    uint64_t off = 0;
    for (int k = 0; k < 3; k++) {
        s->nscratch[k] = s->last_id[k] = 0;
        for (uint32_t i = 0; i < n[k] && !(take && k == 0); i++)
            if (push_id(s, k, st->ids[off + i], err) != CS_OK)
                return CS_ENOMEM;
        off += n[k];
    }
    s->open_id_bytes -= off * sizeof *st->ids;
    if (take) {
        /* the categories and brands behind the products are copied out:
         * the whole block is room for products now */
        free(s->scratch[0]);
        s->scratch[0] = st->ids;
        s->nscratch[0] = n[0];
        s->capscratch[0] = off;
        s->last_id[0] = st->ids[n[0] - 1];
    } else {
        free(st->ids);
    }
    st->ids = NULL;
    return CS_OK;
}

/* Saves scratch (made unique) into the open session. */
int sess_save_ids(cs_sessionizer *s, cs_sess_state *st, cs_err *err)
{
    uint64_t n[3], total = 0;
    for (int k = 0; k < 3; k++)
        total += n[k] = uniq(s, k);
    int take = n[0] >= IDS_HANDOVER;
    if (take) {
        st->ids = cs_realloc(s->scratch[0], total * sizeof *st->ids, err, "open session ids");
        if (st->ids) {
            s->scratch[0] = NULL;
            s->nscratch[0] = s->capscratch[0] = s->last_id[0] = 0;
        }
    } else if (total) {
        st->ids = cs_malloc(total * sizeof *st->ids, err, "open session ids");
    } else {
        st->ids = NULL;
    }
    if (total && !st->ids)
        return CS_ENOMEM;
    uint64_t off = 0;
    for (int k = 0; k < 3; k++) {
        if (n[k] && !(take && k == 0))   /* ids and scratch[k] may be NULL when empty */
            memcpy(st->ids + off, s->scratch[k], n[k] * sizeof *st->ids);
        off += n[k];
    }
    s->open_id_bytes += total * sizeof *st->ids;
    st->nprod = (uint32_t)n[0];
    st->ncat = (uint32_t)n[1];
    st->nbrand = (uint32_t)n[2];
    return CS_OK;
}

uint64_t sess_id_bytes(const cs_sessionizer *s)
{
    /* While the part runs, a session carried over has its lists back in
     * scratch, where they grow by doubling: a realloc holds the old list
     * and one twice its size, so the longest one saved now counts twice
     * more. A walk of the pool, once a window, and only when ids are kept
     * at all. */
    uint64_t longest = 0;
    for (uint64_t i = 0; s->open_id_bytes && i < s->npool; i++) {
        const cs_sess_state *p = &s->pool[i];
        uint64_t n = (uint64_t)p->nprod + p->ncat + p->nbrand;
        longest = n > longest ? n : longest;
    }
    uint64_t b = s->open_id_bytes + 2 * longest * sizeof *s->set + s->capset * sizeof *s->set;
    for (int k = 0; k < 3; k++)
        b += s->capscratch[k] * sizeof *s->scratch[k];
    return b;
}

