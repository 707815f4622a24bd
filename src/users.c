/* users.c — dense user array plus a compact open-addressing index (see users.h). */
#include "clickseg/users.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "clickseg/event.h"

static void init_entry(cs_users *t, cs_user *u, uint64_t id)
{
    memset(u, 0, sizeof *u);
    u->user_id = id;
    u->used = 1;
    u->first_ts = INT64_MAX;
    u->last_ts = INT64_MIN;
    for (int s = 0; s < CS_HOT_SEGMENTS; s++)
        u->seg[s].last_period = -1;
    for (int s = 0; s < t->nmore; s++)
        *users_seg(t, u, CS_HOT_SEGMENTS + s) = (cs_user_seg){0, -1};
}

/* The entries live in a mapping of their own, grown with mremap: a large
 * table moves by remapping its pages, never copied, and never leaves a
 * copy behind. On the malloc heap (run keeps blocks under 64 MiB there,
 * main.c) the table was copied out at 64 MiB and the old copy stayed
 * resident, uncounted by memory_per_rank: peak RSS 1.3x the budget at
 * 224M on one rank. Pages are line (and page) aligned. */
static int remap(void **mem, size_t *map_len, size_t bytes, cs_err *err)
{
    const size_t page = 4096;
    size_t len = (bytes + page - 1) & ~(page - 1);
    void *m = *mem ? mremap(*mem, *map_len, len, MREMAP_MAYMOVE)
                   : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return cs_err_set(err, CS_ENOMEM, "out of memory growing the user table to %zu bytes; "
                          "lower memory_per_rank or use more ranks", len);
    *mem = m;
    *map_len = len;
    return CS_OK;
}

/* The entries and, under more than CS_HOT_SEGMENTS segments, their further
 * segments' counters, grown together. */
static int resize_slots(cs_users *t, uint64_t cap, cs_err *err)
{
    size_t old = t->map_len;
    if (remap(&t->slot_mem, &t->map_len, (size_t)cap * sizeof(cs_user), err) != CS_OK)
        return CS_ENOMEM;
    t->slot = t->slot_mem;
    /* The new entries fill up as users arrive, within the window: their
     * pages allocated in one call cost less than a fault each (measured at
     * 10^8 events, 2 ranks: 0.06 s of 3.1; RSS + 14 MiB, the growth step
     * the budget already counts). */
    if (t->map_len > old)
        (void)madvise((char *)t->slot_mem + old, t->map_len - old, MADV_POPULATE_WRITE);
    if (t->nmore) {
        void *m = t->more_seg;
        if (remap(&m, &t->more_len, (size_t)cap * (size_t)t->nmore * sizeof(cs_user_seg), err) !=
            CS_OK)
            return CS_ENOMEM;
        t->more_seg = m;
    }
    t->cap = cap;
    return CS_OK;
}

int users_init(cs_users *t, uint64_t expect, int nseg, cs_err *err)
{
    memset(t, 0, sizeof *t);
    t->nmore = nseg > CS_HOT_SEGMENTS ? nseg - CS_HOT_SEGMENTS : 0;
    uint64_t icap = 1024;
    while (icap < expect * 2)
        icap <<= 1;
    t->index = cs_calloc(icap, sizeof *t->index, err, "user index");
    if (!t->index || resize_slots(t, expect > 16 ? expect : 16, err) != CS_OK) {
        users_free(t);
        return CS_ENOMEM;
    }
    t->icap = icap;
    return CS_OK;
}

void users_free(cs_users *t)
{
    if (t->slot_mem)
        munmap(t->slot_mem, t->map_len);
    if (t->more_seg)
        munmap(t->more_seg, t->more_len);
    free(t->index);
    free(t->rank);
    memset(t, 0, sizeof *t);
}

/* Home cell: the top bits of cs_user_key, the order SORT hands users over
 * in, so sessionize's lookups move forwards through the index. */
static cs_user_ref *probe(cs_user_ref *index, uint64_t icap, uint64_t id)
{
    int bits = __builtin_ctzll(icap);
    uint64_t i = cs_user_key(id) >> (64 - bits);
    while (index[i].pos && index[i].user_id != id)
        i = (i + 1) & (icap - 1);
    return &index[i];
}

/* Rehashes into an index of icap cells (a larger power of two). */
static int grow_index_to(cs_users *t, uint64_t icap, cs_err *err)
{
    cs_user_ref *ni = cs_calloc(icap, sizeof *ni, err, "user index");
    if (!ni)
        return CS_ENOMEM;
    for (uint64_t i = 0; i < t->icap; i++)
        if (t->index[i].pos)
            *probe(ni, icap, t->index[i].user_id) = t->index[i];
    free(t->index);
    t->index = ni;
    t->icap = icap;
    return CS_OK;
}

static int grow_index(cs_users *t, cs_err *err)
{
    return grow_index_to(t, t->icap * 2, err);
}

static int grow_slots(cs_users *t, cs_err *err)
{
    /* Large tables grow by 1/8: the table is most of a rank's lasting
     * memory (a doubling could overshoot memory_per_rank in one step), and
     * mremap moves a large table by remapping pages, not by copying. */
    uint64_t cap = t->cap + (t->cap < (1u << 16) ? t->cap : t->cap / 8);
    /* The new tail stays untouched (entries are initialised on insert):
     * its pages are first written, and only then mapped, by the inserts. */
    return resize_slots(t, cap, err);
}

int users_reserve_index(cs_users *t, uint64_t more, cs_err *err)
{
    /* One step to the size needed: the first window reserves for most of
     * the users at once, and each doubling on the way would allocate (and
     * have the kernel zero) an index of its own. */
    uint64_t icap = t->icap;
    while ((t->n + more) * 10 > icap * 7)
        icap *= 2;
    return icap == t->icap ? CS_OK : grow_index_to(t, icap, err);
}

cs_user *users_get(cs_users *t, uint64_t user_id, cs_err *err)
{
    if ((t->n + 1) * 10 > t->icap * 7 && grow_index(t, err) != CS_OK)
        return NULL;
    cs_user_ref *r = probe(t->index, t->icap, user_id);
    if (r->pos)
        return &t->slot[r->pos - 1];
    if (t->n == t->cap && grow_slots(t, err) != CS_OK)
        return NULL;
    cs_user *u = &t->slot[t->n++];
    init_entry(t, u, user_id);
    r->user_id = user_id;
    r->pos = t->n;
    return u;
}

void users_prefetch(const cs_users *t, uint64_t user_id)
{
    int bits = __builtin_ctzll(t->icap);
    __builtin_prefetch(&t->index[cs_user_key(user_id) >> (64 - bits)], 0, 1);
}

cs_user *users_find(const cs_users *t, uint64_t user_id)
{
    if (!t->icap)
        return NULL;
    cs_user_ref *r = probe(t->index, t->icap, user_id);
    return r->pos ? &t->slot[r->pos - 1] : NULL;
}

int users_rank_alloc(cs_users *t, cs_err *err)
{
    free(t->rank);
    t->rank = cs_malloc((t->n + 1) * sizeof *t->rank, err, "customer rankings");
    if (!t->rank)
        return CS_ENOMEM;
    for (uint64_t i = 0; i < t->n; i++) {
        t->rank[i] = (cs_user_rank){0};
        memset(t->rank[i].profile, CS_PROFILE_UNKNOWN, sizeof t->rank[i].profile);
    }
    return CS_OK;
}

uint64_t users_bytes(const cs_users *t)
{
    return t->cap * (sizeof *t->slot + (uint64_t)t->nmore * sizeof *t->more_seg) +
           t->icap * sizeof *t->index + (t->rank ? t->n * sizeof *t->rank : 0);
}
