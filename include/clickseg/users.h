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
#define CS_PROFILE_NAME_MAX 47   /* characters of a profile column's name (archive_scan checks) */
#define CS_PROFILE_UNKNOWN 255   /* no profile row, or no value */

/* Field order follows use: the first line holds what sessionize (per
 * window) updates, the second what run's on_session (per closed session)
 * adds, ending with the first CS_HOT_SEGMENTS segments' two counters side
 * by side. Rules have at most four segments as shipped, so an entry is all
 * a window touches of a user; more segments' counters live in a second
 * array (cs_users.more_seg), the ranking's per-user results in a third
 * (cs_users.rank, filled at the end of the run). */
#define CS_HOT_SEGMENTS 4
#define CS_MORE_SEGMENTS (CS_MAX_SEGMENTS - CS_HOT_SEGMENTS)

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
    cs_user_seg seg[CS_HOT_SEGMENTS];   /* segments past these: users_seg */
} cs_user;

/* Entries sit on cache-line boundaries (users.c aligns the table), so a
 * window touches whole lines of an entry: the table is reached line by
 * line from memory, and each line a user costs is read and written back
 * every window the user has events in. Two lines, not four as when the
 * ranking's fields and twelve segments lived here: half the pages to
 * fault in as users arrive (measured at 10^8 events, 2 ranks: the faults
 * under users_get were 0.28 s of a rank's 3.8 s) and to write back. */
_Static_assert(sizeof(cs_user) == 128, "cs_user is two cache lines");

/* What rank_customers works out for a user (and reads profiles into):
 * written once at the end of the run, so it stays out of the entries the
 * windows walk. */
typedef struct cs_user_rank {
    int32_t score, prospect_score;
    uint8_t r_score, f_score, m_score, intent, risk, tier, rfm;
    uint8_t profile[CS_MAX_PROFILE_COLS];
    uint8_t reserved[1];
} cs_user_rank;

_Static_assert(sizeof(cs_user_rank) == 24, "cs_user_rank packs into 24 bytes");

/* Bytes from the start of an entry that sessionize and on_session touch
 * under rules of nseg segments (whole lines: what to prefetch). */
static inline size_t users_hot_bytes(int nseg)
{
    (void)nseg;   /* past CS_HOT_SEGMENTS, the rest sit in more_seg */
    return sizeof(cs_user);
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
    int nmore;           /* segments past CS_HOT_SEGMENTS: 0..CS_MORE_SEGMENTS */
    cs_user_seg *more_seg;   /* nmore a user, by position (NULL when nmore is 0) */
    size_t more_len;     /* the length of more_seg's mapping */
    cs_user_rank *rank;  /* n, by position, from users_rank_alloc (NULL until then) */
} cs_users;

/* A table for users counted in nseg segments (rules.nsegments). */
int users_init(cs_users *t, uint64_t expect, int nseg, cs_err *err);
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

/* Segment s's counters of user u (an entry of t). */
static inline cs_user_seg *users_seg(cs_users *t, cs_user *u, int s)
{
    return s < CS_HOT_SEGMENTS ? &u->seg[s]
           : &t->more_seg[(size_t)(u - t->slot) * (size_t)t->nmore + (size_t)(s - CS_HOT_SEGMENTS)];
}

/* Sessions of user u (an entry of t) in segment s. */
static inline uint32_t users_seg_sessions(const cs_users *t, const cs_user *u, int s)
{
    return s < CS_HOT_SEGMENTS ? u->seg[s].sessions
           : t->more_seg[(size_t)(u - t->slot) * (size_t)t->nmore + (size_t)(s - CS_HOT_SEGMENTS)]
                 .sessions;
}

/* Bytes a user takes in the table: its entry and its further segments. */
static inline size_t users_entry_bytes(const cs_users *t)
{
    return sizeof(cs_user) + (size_t)t->nmore * sizeof(cs_user_seg);
}

/* Gives every user a cleared cs_user_rank (profile values unknown), in
 * t->rank; the ranking calls it once the table holds every user. */
int users_rank_alloc(cs_users *t, cs_err *err);

/* Bytes held by the table and its index (the unfinished sessions are
 * counted by the sessionizer: sess_bytes). */
uint64_t users_bytes(const cs_users *t);

#endif
