/* sessionize.h — cutting each user's ordered events into sessions and
 * computing their features.
 *
 * run hands over a rank's events of one window, sorted by (user, ts, row);
 * those older than the window's watermark (no event still to come can be
 * older) are processed. A user's unfinished session waits between windows
 * in the sessionizer's pool (a dense array of cs_sess_state, reached from
 * the user's entry through cs_user.open_slot: only the users active in the
 * last session.gap hold one, so the pool is small and the user entries
 * stay lean), and is closed as soon as no event still to come could extend
 * it, so the sessions are the same whatever the window size. Each closed
 * session goes to the caller's emit callback in the user's chronological
 * order. Pure C, no MPI. */
#ifndef CLICKSEG_SESSIONIZE_H
#define CLICKSEG_SESSIONIZE_H

#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/event.h"
#include "clickseg/features.h"
#include "clickseg/period.h"
#include "clickseg/rules.h"
#include "clickseg/timer.h"
#include "clickseg/users.h"

/* A session being built or an unfinished one carried across windows. */
typedef struct cs_sess_state {
    uint64_t user_id;              /* the owner (first: shuffle_route routes pool records) */
    uint64_t user_pos;             /* the owner's position in cs_users.slot (pool only) */
    int64_t start_ts, last_ts;
    uint64_t session_id;
    int64_t first_purchase_ts;     /* -1 until a purchase */
    int64_t views_before;          /* views before the first purchase so far */
    int64_t min_gap_us;            /* -1 until a second event */
    int64_t count[8];              /* events by type */
    int64_t revenue, refund_amount;
    /* distinct ids seen so far, each list sorted and unique (pool only;
     * the session being built keeps them in the sessionizer's scratch) */
    uint64_t *ids;                 /* products, then categories, then brands */
    uint32_t nprod, ncat, nbrand;
    int32_t active;
} cs_sess_state;

typedef struct cs_session {
    uint64_t user_id;
    int64_t start_ts, end_ts;
    int segment;
    cs_features f;
} cs_session;

/* Called for each closed session; a non-OK return stops the scan. */
typedef int (*sess_emit_fn)(void *ctx, cs_user *u, const cs_session *s, cs_err *err);

typedef struct cs_sessionizer {
    int64_t gap_us;          /* new session when the gap is strictly greater */
    int64_t max_duration_us; /* 0 = no limit */
    int source_mode;         /* cut on the archive's session_id instead of gaps */
    int split_period;        /* -1, or cut where this local period (enum cs_period) ends */
    /* Features worked out only when something reads them (sess_init sets
     * both): the distinct product, category and brand counts (an id list
     * per session, kept across windows for unfinished ones) and the local
     * entry hour and weekday. Left 0 otherwise. Run clears them when no
     * rule reads them and sessions.h5 is off; a checkpoint or state is
     * only resumed with the same rules and --sessions choice, so a
     * session never has part of its ids missing. */
    int need_ids;
    int need_entry_time;
    const cs_rules *rules;
    cs_tz *tz;
    sess_emit_fn emit;
    void *emit_ctx;
    /* scratch id lists of the session being built */
    uint64_t *scratch[3];
    uint64_t nscratch[3], capscratch[3];
    uint64_t last_id[3];      /* the id each list kept last (0 none) */
    uint64_t *set, capset;    /* scratch hash set for distinct counts */
    /* the session of the user being processed (stays in cache) */
    cs_sess_state cur;
    /* the unfinished sessions, one per user that has one, in no order:
     * pool[i] belongs to users->slot[pool[i].user_pos], whose open_slot
     * is i + 1. Removal moves the last entry into the hole. */
    cs_sess_state *pool;
    uint64_t npool, cappool;
    uint64_t open_id_bytes;   /* held by the pool's id lists */
    /* Closing a session (its features, segment and what the emit callback
     * adds) takes some 40 ns, too short to time each one without slowing
     * the run: one close in SESS_CLOSE_SAMPLE is timed (sess_init sets the
     * mask; sess_close_seconds). */
    cs_sampler close_timer;
} cs_sessionizer;

#define SESS_CLOSE_SAMPLE 256   /* a power of two */

void sess_init(cs_sessionizer *s);
void sess_free(cs_sessionizer *s);

/* Processes the events of ev[0..n) (sorted) before `watermark`; those at
 * or after it are appended, in order, to carry[*ncarry..) for the next
 * window (carry must have room for them all; NULL drops them). With
 * final = 1 the stream has ended and every session is closed. */
int sess_process(cs_sessionizer *s, cs_users *users, const cs_event *ev, uint64_t n,
                 int64_t watermark, int final, cs_event *carry, uint64_t *ncarry, cs_err *err);

/* The same on n records of `width` bytes: cs_event, or cs_event_narrow
 * when the sessions need no ids and no session_id (need_ids and
 * source_mode unset; otherwise CS_EINTERNAL); the carry receives cs_event
 * records either way. `runs` is the number of new users the user index
 * must have room for before the records' users are inserted: at least
 * those whose first event is before `watermark` (SORT counts them while
 * the records are in cache), no pass of its own. Run, sessionizing one
 * level-1 bucket at a time, passes more (see run_window.c). */
int sess_process_counted(cs_sessionizer *s, cs_users *users, const void *records, size_t width,
                         uint64_t n, uint64_t runs, int64_t watermark, int final,
                         cs_event *carry, uint64_t *ncarry, cs_err *err);

/* Closes the unfinished sessions that no event at or after `watermark` can
 * extend (or all of them when final). */
int sess_close_idle(cs_sessionizer *s, cs_users *users, int64_t watermark, int final,
                    cs_err *err);

/* Binds the pool to the user table after a checkpoint or state file was
 * loaded into both (each pool entry's id lists malloc'd, user entries'
 * open_slot 0): sets every entry's user_pos and its user's open_slot, and
 * counts the id lists. CS_EINPUT when an entry's user is not in the table
 * or holds two entries. */
int sess_reopen(cs_sessionizer *s, cs_users *users, cs_err *err);

/* Appends an unfinished session loaded from a checkpoint (st->ids, when
 * set, now belongs to the pool); sess_reopen binds it afterwards. */
int sess_pool_append(cs_sessionizer *s, const cs_sess_state *st, cs_err *err);

/* The time the sessions closed so far took to close (features, segment
 * and the emit callback), estimated from the sample (timer.h). */
double sess_close_seconds(const cs_sessionizer *s);

/* Bytes held for distinct-id counts: the pool's saved lists, the present
 * session's lists and set (as large as the longest session's distinct ids
 * until the next session begins), and what loading the longest saved list
 * again takes while a part runs. */
uint64_t sess_id_bytes(const cs_sessionizer *s);

/* Bytes held by the pool and the id lists (sess_id_bytes). */
uint64_t sess_bytes(const cs_sessionizer *s);

#endif
