/* snapshot.h — a run's state at a window boundary, saved to one HDF5 file
 * written by every rank in parallel, and loaded back by any number of ranks.
 *
 * What a run must carry over to continue exactly: every rank's user table
 * (running totals, last counted period per segment), its pool of unfinished
 * sessions with their id lists, the carried events at or after the
 * watermark, the closed sessions kept for sessions.h5, the partial
 * statistics and the global running max ts. Users, unfinished sessions
 * and carried events are keyed by user (each record's first field
 * is the user id), so loading with a different rank count redistributes them to their
 * owners (cs_owner); the closed sessions belong to no rank (sessions.h5
 * lists them in any order), so each rank takes an even share, block by
 * block through its spool; statistics are sums, so they are saved reduced
 * and loaded on rank 0 only. Used by checkpoint (resume) and state
 * (--state).
 *
 * Records are stored as the build's own structs (HDF5 opaque types) with a
 * layout signature; a file from a build with a different layout is refused.
 * Collective: every function is called by all ranks. */
#ifndef CLICKSEG_SNAPSHOT_H
#define CLICKSEG_SNAPSHOT_H

#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/event.h"
#include "clickseg/sessionize.h"
#include "clickseg/spool.h"
#include "clickseg/stats.h"
#include "clickseg/users.h"

/* Views of the run's own state (run binds them once). spool is NULL when
 * closed sessions are not kept (no sessions output). */
typedef struct cs_run_state {
    cs_users *users;
    cs_stats *st;
    cs_sessionizer *sz;
    cs_event **carry;
    uint64_t *ncarry, *carry_cap;
    cs_spool *spool;
    int64_t *maxts;
} cs_run_state;

/* One input file a run consumed (for the --state history). */
typedef struct cs_hist_file {
    char path[1024];     /* real path */
    uint64_t rows;
    int64_t ts_first, ts_last;
} cs_hist_file;

/* The scalars saved beside the state; history lives on rank 0 only. */
/* Bytes of a dictionary path a snapshot keeps (as run's dict_paths). */
#define CS_DICT_PATH_LEN 1024

typedef struct cs_snap_meta {
    uint64_t config_hash;
    uint64_t next_row;     /* rows of the current plan already read */
    uint64_t row_base;     /* rows read by earlier runs of a --state chain */
    uint64_t rejected_base;/* of them rejected (checkpoints; 0 when absent) */
    uint64_t late_base;    /* of them late (checkpoints; 0 when absent) */
    int sessions;          /* closed sessions are part of the state */
    int ranks;             /* ranks that wrote the file */
    int nhist;             /* rank 0: files of earlier runs (state files) */
    cs_hist_file *hist;
    int hist_v3;           /* histograms of 64 bins (written before format 4, stats.h):
                            * converted as read */
    int no_late_base;      /* snapshot_read: written before late_base was */
    /* rank 0: the user dictionaries of the chain so far (real paths, in
     * order, no duplicates): a --state run looks its targets' keys up in
     * the earlier runs' dictionaries too. snapshot_read allocates (caller
     * frees); none (0, NULL) in a file written before they were kept. */
    int ndicts;
    char (*dicts)[CS_DICT_PATH_LEN];
} cs_snap_meta;

/* Writes the state to `path` (created or truncated). On return rank 0's
 * statistics hold the sum of every rank's and the other ranks' statistics
 * are zero (equal sums, so the run continues unchanged). The file is
 * flushed to disk (fsync) before this returns. */
int snapshot_write(const cs_comm *c, const char *path, const cs_run_state *s,
                   const cs_snap_meta *m, cs_err *err);

/* Reads `path` into the (empty) state: each rank keeps the users and
 * carried events it owns under the current rank count and appends an even
 * share of the closed sessions to its spool; rank 0 gets
 * the statistics and the history (m->hist, caller frees). The unfinished
 * sessions go to the owners' sessionizer pools, bound to their users. CS_EINPUT naming the file when it is not
 * a snapshot of this build's layout. */
int snapshot_read(const cs_comm *c, const char *path, const cs_run_state *s,
                  cs_snap_meta *m, cs_err *err);

/* Reads only the scalars of `path` on rank 0 (no MPI): for messages and
 * checks before a collective load. */
int snapshot_peek(const char *path, cs_snap_meta *m, cs_err *err);

#endif
