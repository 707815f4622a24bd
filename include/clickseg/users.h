/* users.h — the per-rank table of the users a rank owns.
 *
 * Entries live densely in one array (slot[0..n), in insertion order; the
 * tail up to cap is unset: walk slot[0..n)) that grows (by doubling, by
 * 1/8 once large), so a pointer
 * to an entry is valid only until the next insert, while its position
 * (index into slot) stays valid for the whole run. A separate open-address
 * index (linear probing on mix64(user_id), 16-byte cells) finds them: the
 * probe touches compact memory, and only the users that exist are paged in.
 * Each entry carries the user's running totals and per-segment session
 * counts; the state of a user's unfinished session lives in the
 * sessionizer's pool (cs_sessionizer.pool), reached through open_slot, so
 * the entries stay small. Plain data, so a checkpoint can save it. Called
 * by sessionize and run. Pure C, no MPI. */
#ifndef CLICKSEG_USERS_H
#define CLICKSEG_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/rules.h"

#define CS_MAX_PROFILE_COLS 8
#define CS_PROFILE_UNKNOWN 255   /* no profile row, or no value */

/* Field order follows use: the first lines hold what sessionize (per
 * window) and run's on_session (per closed session) update, then each
 * segment's two counters side by side (segments are few: with up to four,
 * as the shipped rules have, everything a window touches is the first two
 * lines), and the fields only the epilog writes come last. */
typedef struct cs_user_seg {
    uint32_t sessions;             /* the user's sessions in the segment */
    int32_t last_period;           /* period index last counted, -1 none */
} cs_user_seg;

typedef struct cs_user {
    uint64_t user_id;              /* first: shuffle_route routes records by it */
    uint32_t open_slot;            /* the unfinished session: sessionizer pool index + 1; 0 none */
    uint32_t used;
    int64_t events, first_ts, last_ts;
    int64_t sessions, purchase_sessions, purchases;
    int64_t revenue, refunds;
    int64_t cart_abandons;         /* sessions with a cart add and no purchase */
    int64_t cart_removes;          /* remove_from_cart events */
    cs_user_seg seg[CS_MAX_SEGMENTS];
    /* filled by rank_customers at the end of the run */
    int32_t score, prospect_score;
    uint8_t r_score, f_score, m_score, intent, risk, tier, rfm;
    uint8_t profile[CS_MAX_PROFILE_COLS];
    uint8_t reserved[9];           /* to 256 bytes: four whole cache lines */
} cs_user;

/* Entries sit on cache-line boundaries (users.c aligns the table), so a
 * window touches whole lines of an entry: the table is reached line by
 * line from memory, and each line a user costs is read and written back
 * every window the user has events in. */
_Static_assert(sizeof(cs_user) == 256, "cs_user is four cache lines");
_Static_assert(offsetof(cs_user, seg) + 4 * sizeof(cs_user_seg) <= 128,
               "four segments are counted within the first two lines");

/* Bytes from the start of an entry that sessionize and on_session touch
 * under rules of nseg segments (whole lines: what to prefetch). */
static inline size_t users_hot_bytes(int nseg)
{
    size_t b = offsetof(cs_user, seg) + (size_t)nseg * sizeof(cs_user_seg);
    return (b + 63) & ~(size_t)63;
}

typedef struct cs_user_ref {
    uint64_t user_id;
    uint64_t pos;        /* index into slot + 1; 0 = empty cell */
} cs_user_ref;

typedef struct cs_users {
    cs_user *slot;       /* dense: slot[0..n) used, slot[n..cap) unset; 64-byte aligned */
    void *slot_mem;      /* the mapping slot lies in (users.c) */
    size_t map_len;      /* its length */
    uint64_t cap, n;
    cs_user_ref *index;
    uint64_t icap;       /* power of two */
} cs_users;

int users_init(cs_users *t, uint64_t expect, cs_err *err);
void users_free(cs_users *t);

/* Makes room in the index for `more` new users without growing it.
 * Sessionize reserves for a window's users before inserting them in
 * cs_user_key order: an index growing in the middle of such an ordered
 * insert would pile every key into its first cells (their top bits are all
 * alike). The entries themselves grow as needed (positions stay valid). */
int users_reserve_index(cs_users *t, uint64_t more, cs_err *err);

/* The entry of user_id, inserted (zeroed, first/last ts unset) when new;
 * NULL with CS_ENOMEM when the table cannot grow. */
cs_user *users_get(cs_users *t, uint64_t user_id, cs_err *err);

/* Starts fetching the index cell where user_id's lookup begins: sessionize
 * calls it a few users ahead, so the probe finds the cell in cache. */
void users_prefetch(const cs_users *t, uint64_t user_id);

/* The entry of user_id or NULL. */
cs_user *users_find(const cs_users *t, uint64_t user_id);

/* Bytes held by the table and its index (the unfinished sessions are
 * counted by the sessionizer: sess_bytes). */
uint64_t users_bytes(const cs_users *t);

#endif
