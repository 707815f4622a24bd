/* users.h — the per-rank table of the users a rank owns.
 *
 * Entries live densely in one array (slot[0..n), in insertion order; the
 * tail up to cap is zeroed, used = 0) that grows by doubling, so a pointer
 * to an entry is valid only until the next insert. A separate open-address
 * index (linear probing on mix64(user_id), 16-byte cells) finds them: the
 * probe touches compact memory, and only the users that exist are paged in. Each entry carries the user's
 * running totals, per-segment session counts and the state of the user's
 * unfinished session (cs_sess_state, owned by sessionize). Plain data, so a
 * checkpoint can save it. Called by sessionize and run. Pure C, no MPI. */
#ifndef CLICKSEG_USERS_H
#define CLICKSEG_USERS_H

#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/rules.h"

/* The unfinished session of a user, carried across windows. */
typedef struct cs_sess_state {
    int active;
    int64_t start_ts, last_ts;
    uint64_t session_id;
    int64_t first_purchase_ts;    /* -1 until a purchase */
    int64_t views_before;          /* views before the first purchase so far */
    int64_t min_gap_us;            /* -1 until a second event */
    int64_t count[8];              /* events by type */
    int64_t revenue, refund_amount;
    /* distinct ids seen so far, each list sorted and unique */
    uint64_t *ids;                 /* products, then categories, then brands */
    uint32_t nprod, ncat, nbrand;
} cs_sess_state;

#define CS_MAX_PROFILE_COLS 8
#define CS_PROFILE_UNKNOWN 255   /* no profile row, or no value */

typedef struct cs_user {
    uint64_t user_id;
    int64_t events, sessions, purchase_sessions, purchases;
    int64_t revenue, refunds;
    int64_t first_ts, last_ts;
    int64_t cart_abandons;         /* sessions with a cart add and no purchase */
    int64_t cart_removes;          /* remove_from_cart events */
    /* filled by rank_customers at the end of the run */
    int32_t score, prospect_score;
    uint8_t r_score, f_score, m_score, intent, risk, tier, rfm;
    uint8_t profile[CS_MAX_PROFILE_COLS];
    uint32_t seg_sessions[CS_MAX_SEGMENTS];
    int32_t last_period[CS_MAX_SEGMENTS]; /* period index last counted per segment, -1 none */
    cs_sess_state open;
    uint8_t used;
} cs_user;

typedef struct cs_user_ref {
    uint64_t user_id;
    uint64_t pos;        /* index into slot + 1; 0 = empty cell */
} cs_user_ref;

typedef struct cs_users {
    cs_user *slot;       /* dense: slot[0..n) used, slot[n..cap) zero */
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

/* The entry of user_id or NULL. */
cs_user *users_find(const cs_users *t, uint64_t user_id);

/* Bytes held by the table and its index (the open sessions' id lists are
 * counted by the sessionizer: cs_sessionizer.open_id_bytes). */
uint64_t users_bytes(const cs_users *t);

#endif
