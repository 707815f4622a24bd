/* dict.h — string dictionaries: the original text behind hashed ids.
 *
 * An importer that meets an id that is not a number (a session UUID, a
 * brand name, a SKU) hashes it with dict_hash to a stable 64-bit id and
 * puts (hash, text, label) here; import merges the ranks' dictionaries and
 * writes them to dictionaries.h5 so reports and users can show names.
 * One open-addressing table per dictionary, strings in one growing arena.
 * Pure C, no MPI. */
#ifndef CLICKSEG_DICT_H
#define CLICKSEG_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/error.h"

#define DICT_KEY_MAX 255     /* longer id text is rejected */
#define DICT_LABEL_MAX 255   /* longer labels are cut (at a UTF-8 boundary) */

typedef struct dict_entry {
    uint64_t hash;
    uint64_t off;            /* key at arena[off], label right after it */
    uint16_t klen, llen;
    uint32_t id32;           /* 32-bit dictionaries: the assigned id */
} dict_entry;

typedef struct cs_dict {
    dict_entry *e;
    uint64_t n, cap;
    uint32_t *slot;          /* entry index + 1, 0 = empty */
    uint64_t nslots;
    char *arena;
    uint64_t used, acap;
} cs_dict;

/* The stable id of a text: splitmix64's finaliser of its FNV-1a 64 hash,
 * with the top bit set (so it never equals a decimal id below 2^63). */
uint64_t dict_hash(const char *s, size_t n);

/* The default 32-bit id of a hash: 31 mixed bits with the top bit set
 * (never a decimal id below 2^31); `probe` > 0 gives the alternatives
 * tried when two texts collide. */
uint32_t dict_fold32(uint64_t hash, uint32_t probe);

void dict_init(cs_dict *d);
void dict_free(cs_dict *d);

/* Adds (hash, key, label) unless the hash is present. Two different keys
 * with one hash is CS_EINPUT naming both (a 64-bit collision: a 1 in 2^40
 * event for a billion keys). Of two labels for one key, the non-empty and
 * then the byte-wise smaller one is kept, so the result does not depend on
 * the order of insertion. CS_ENOMEM when memory runs out. */
int dict_put(cs_dict *d, uint64_t hash, const char *key, size_t klen, const char *label,
             size_t llen, cs_err *err);

/* Key and label text of entry i. */
static inline const char *dict_key(const cs_dict *d, uint64_t i)
{
    return d->arena + d->e[i].off;
}
static inline const char *dict_label(const cs_dict *d, uint64_t i)
{
    return d->arena + d->e[i].off + d->e[i].klen;
}

/* Index of the entry with this hash, or -1. */
int64_t dict_find(const cs_dict *d, uint64_t hash);

/* Sorts the entries by hash (and rebuilds the table). */
void dict_sort(cs_dict *d);

/* Serialises the entries for which pick(hash, arg) returns dest into
 * per-destination byte blocks: out[0..total) with counts[dest] bytes for
 * each of ndest destinations, in destination order. Caller frees *out. */
int dict_pack(const cs_dict *d, int ndest, int (*pick)(uint64_t hash, void *arg), void *arg,
              char **out, uint64_t *counts, cs_err *err);

/* Adds every entry of a packed block (as dict_pack wrote it). */
int dict_unpack(cs_dict *d, const char *buf, uint64_t bytes, cs_err *err);

#endif
