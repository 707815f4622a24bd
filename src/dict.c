/* dict.c — string dictionaries behind hashed ids (see dict.h). */
#include "clickseg/dict.h"

#include <stdlib.h>
#include <string.h>

#include "clickseg/event.h"

#define TOP64 (1ULL << 63)

uint64_t dict_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return cs_mix64(h) | TOP64;
}

uint32_t dict_fold32(uint64_t hash, uint32_t probe)
{
    return (uint32_t)(cs_mix64(hash + probe * 0x9e3779b97f4a7c15ULL) >> 33) | 0x80000000u;
}

void dict_init(cs_dict *d)
{
    memset(d, 0, sizeof *d);
}

void dict_free(cs_dict *d)
{
    free(d->e);
    free(d->slot);
    free(d->arena);
    memset(d, 0, sizeof *d);
}

/* Slot of hash h: where it is, or the empty slot where it would go. */
static uint64_t slot_of(const cs_dict *d, uint64_t h)
{
    uint64_t mask = d->nslots - 1, i = cs_mix64(h) & mask;
    while (d->slot[i] && d->e[d->slot[i] - 1].hash != h)
        i = (i + 1) & mask;
    return i;
}

/* Rebuilds the slot table with nslots slots (a power of two). */
static int rehash(cs_dict *d, uint64_t nslots, cs_err *err)
{
    uint32_t *s = cs_calloc(nslots, sizeof *s, err, "dictionary");
    if (!s)
        return CS_ENOMEM;
    free(d->slot);
    d->slot = s;
    d->nslots = nslots;
    for (uint64_t k = 0; k < d->n; k++)
        d->slot[slot_of(d, d->e[k].hash)] = (uint32_t)(k + 1);
    return CS_OK;
}

/* Appends key and label to the arena; their offset in *off. */
static int arena_add(cs_dict *d, const char *key, size_t klen, const char *label, size_t llen,
                     uint64_t *off, cs_err *err)
{
    if (d->used + klen + llen > d->acap) {
        uint64_t cap = d->acap ? d->acap : 1 << 16;
        while (cap < d->used + klen + llen)
            cap *= 2;
        char *a = cs_realloc(d->arena, cap, err, "dictionary text");
        if (!a)
            return CS_ENOMEM;
        d->arena = a;
        d->acap = cap;
    }
    memcpy(d->arena + d->used, key, klen);
    memcpy(d->arena + d->used + klen, label, llen);
    *off = d->used;
    d->used += klen + llen;
    return CS_OK;
}

/* Label length cut to DICT_LABEL_MAX bytes without splitting a UTF-8 character. */
static size_t cut_label(const char *label, size_t llen)
{
    if (llen <= DICT_LABEL_MAX)
        return llen;
    llen = DICT_LABEL_MAX;
    while (llen > 0 && ((unsigned char)label[llen] & 0xc0) == 0x80)
        llen--;
    return llen;
}

/* 1 when label b should replace label a: non-empty wins, then the smaller. */
static int better_label(const char *a, size_t al, const char *b, size_t bl)
{
    if (bl == 0)
        return 0;
    if (al == 0)
        return 1;
    size_t m = al < bl ? al : bl;
    int c = memcmp(b, a, m);
    return c < 0 || (c == 0 && bl < al);
}

int dict_put(cs_dict *d, uint64_t hash, const char *key, size_t klen, const char *label,
             size_t llen, cs_err *err)
{
    if (klen > DICT_KEY_MAX)
        return cs_err_set(err, CS_EINPUT, "id text of %zu bytes (at most %d)", klen, DICT_KEY_MAX);
    llen = cut_label(label, llen);
    if ((d->n + 1) * 2 > d->nslots && rehash(d, d->nslots ? 2 * d->nslots : 1024, err) != CS_OK)
        return CS_ENOMEM;
    uint64_t i = slot_of(d, hash);
    if (d->slot[i]) {
        dict_entry *e = &d->e[d->slot[i] - 1];
        if (e->klen != klen || memcmp(dict_key(d, d->slot[i] - 1), key, klen) != 0)
            return cs_err_set(err, CS_EINPUT, "ids '%.*s' and '%.*s' hash to the same 64-bit "
                              "value %llu; they cannot be told apart", (int)klen, key,
                              (int)e->klen, dict_key(d, d->slot[i] - 1),
                              (unsigned long long)hash);
        if (!better_label(dict_label(d, d->slot[i] - 1), e->llen, label, llen))
            return CS_OK;
        uint64_t off;
        if (arena_add(d, key, klen, label, llen, &off, err) != CS_OK)
            return CS_ENOMEM;
        e = &d->e[d->slot[i] - 1];
        e->off = off;
        e->llen = (uint16_t)llen;
        return CS_OK;
    }
    if (d->n == UINT32_MAX - 1)
        return cs_err_set(err, CS_ENOMEM, "a dictionary of more than 4 billion ids");
    if (d->n == d->cap) {
        uint64_t cap = d->cap ? 2 * d->cap : 1024;
        dict_entry *ne = cs_realloc(d->e, cap * sizeof *ne, err, "dictionary");
        if (!ne)
            return CS_ENOMEM;
        d->e = ne;
        d->cap = cap;
    }
    uint64_t off;
    if (arena_add(d, key, klen, label, llen, &off, err) != CS_OK)
        return CS_ENOMEM;
    d->e[d->n] = (dict_entry){ hash, off, (uint16_t)klen, (uint16_t)llen, 0 };
    d->slot[i] = (uint32_t)(++d->n);
    return CS_OK;
}

int64_t dict_find(const cs_dict *d, uint64_t hash)
{
    if (!d->nslots)
        return -1;
    uint64_t i = slot_of(d, hash);
    return d->slot[i] ? (int64_t)d->slot[i] - 1 : -1;
}

static int cmp_entry(const void *a, const void *b)
{
    uint64_t x = ((const dict_entry *)a)->hash, y = ((const dict_entry *)b)->hash;
    return x < y ? -1 : x > y;
}

void dict_sort(cs_dict *d)
{
    if (d->n > 1)
        qsort(d->e, d->n, sizeof *d->e, cmp_entry);
    if (d->nslots) {
        memset(d->slot, 0, d->nslots * sizeof *d->slot);
        for (uint64_t k = 0; k < d->n; k++)
            d->slot[slot_of(d, d->e[k].hash)] = (uint32_t)(k + 1);
    }
}

/* Packed entry: hash (8 bytes), klen (2), llen (2), key, label. */
#define PACK_HDR 12

int dict_pack(const cs_dict *d, int ndest, int (*pick)(uint64_t hash, void *arg), void *arg,
              char **out, uint64_t *counts, cs_err *err)
{
    uint64_t *pos = cs_calloc((size_t)ndest + 1, sizeof *pos, err, "dictionary exchange");
    if (!pos)
        return CS_ENOMEM;
    memset(counts, 0, (size_t)ndest * sizeof *counts);
    for (uint64_t i = 0; i < d->n; i++)
        counts[pick(d->e[i].hash, arg)] += PACK_HDR + d->e[i].klen + d->e[i].llen;
    for (int r = 0; r < ndest; r++)
        pos[r + 1] = pos[r] + counts[r];
    *out = cs_malloc(pos[ndest] ? pos[ndest] : 1, err, "dictionary exchange");
    if (!*out) {
        free(pos);
        return CS_ENOMEM;
    }
    for (uint64_t i = 0; i < d->n; i++) {
        const dict_entry *e = &d->e[i];
        char *p = *out + pos[pick(e->hash, arg)];
        memcpy(p, &e->hash, 8);
        memcpy(p + 8, &e->klen, 2);
        memcpy(p + 10, &e->llen, 2);
        memcpy(p + PACK_HDR, d->arena + e->off, (size_t)e->klen + e->llen);
        pos[pick(e->hash, arg)] += PACK_HDR + e->klen + e->llen;
    }
    free(pos);
    return CS_OK;
}

int dict_unpack(cs_dict *d, const char *buf, uint64_t bytes, cs_err *err)
{
    uint64_t i = 0;
    while (i + PACK_HDR <= bytes) {
        uint64_t h;
        uint16_t kl, ll;
        memcpy(&h, buf + i, 8);
        memcpy(&kl, buf + i + 8, 2);
        memcpy(&ll, buf + i + 10, 2);
        if (i + PACK_HDR + kl + ll > bytes)
            break;
        int rc = dict_put(d, h, buf + i + PACK_HDR, kl, buf + i + PACK_HDR + kl, ll, err);
        if (rc != CS_OK)
            return rc;
        i += PACK_HDR + (uint64_t)kl + ll;
    }
    if (i != bytes)
        return cs_err_set(err, CS_EINTERNAL, "dictionary exchange: %llu stray bytes",
                          (unsigned long long)(bytes - i));
    return CS_OK;
}
