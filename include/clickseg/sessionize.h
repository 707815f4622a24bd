/* sessionize.h — cutting each user's ordered events into sessions and
 * computing their features.
 *
 * run hands over a rank's events of one window, sorted by (user, ts, row);
 * those older than the window's watermark (no event still to come can be
 * older) are processed. A user's unfinished session lives in the user table
 * (cs_user.open) between windows, and is closed as soon as no event still
 * to come could extend it, so the sessions are the same whatever the window
 * size. Each closed session goes to the caller's emit callback in the
 * user's chronological order. Pure C, no MPI. */
#ifndef CLICKSEG_SESSIONIZE_H
#define CLICKSEG_SESSIONIZE_H

#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/event.h"
#include "clickseg/features.h"
#include "clickseg/period.h"
#include "clickseg/rules.h"
#include "clickseg/users.h"

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
    const cs_rules *rules;
    cs_tz *tz;
    sess_emit_fn emit;
    void *emit_ctx;
    /* scratch id lists of the session being built */
    uint64_t *scratch[3];
    uint64_t nscratch[3], capscratch[3];
    uint64_t *set, capset;    /* scratch hash set for distinct counts */
    /* users with an unfinished session (may hold stale entries) */
    uint64_t *open_ids;
    uint64_t nopen, capopen;
    uint64_t open_id_bytes;   /* held by the unfinished sessions' id lists */
} cs_sessionizer;

void sess_init(cs_sessionizer *s);
void sess_free(cs_sessionizer *s);

/* Processes the events of ev[0..n) (sorted) before `watermark`; those at
 * or after it are appended, in order, to carry[*ncarry..) for the next
 * window (carry must have room for them all; NULL drops them). With
 * final = 1 the stream has ended and every session is closed. */
int sess_process(cs_sessionizer *s, cs_users *users, const cs_event *ev, uint64_t n,
                 int64_t watermark, int final, cs_event *carry, uint64_t *ncarry, cs_err *err);

/* Closes the unfinished sessions that no event at or after `watermark` can
 * extend (or all of them when final). */
int sess_close_idle(cs_sessionizer *s, cs_users *users, int64_t watermark, int final,
                    cs_err *err);

/* Rebuilds the list of users with an unfinished session from the user
 * table (after a checkpoint or state file was loaded into it). */
int sess_reopen(cs_sessionizer *s, const cs_users *users, cs_err *err);

#endif
