/* shuffle.h — sending each event to the rank that owns its user.
 *
 * ROUTE gives each row read its (destination, bucket) cell, or drops it:
 * run's classify does it in the one pass over the rows that decides which
 * are used. PACK turns a rank's read columns into records (cs_event, or
 * cs_event_narrow when the job reads no ids: event.h) grouped by
 * destination and, inside each destination, by the sort's level-1 bucket
 * (one counting sort on (cs_owner, bucket)), so the receiving rank's sort
 * starts at level 2 (sort.h). EXCHANGE sends the per-bucket counts with one
 * Alltoall and the records with one Alltoallv, leaving a rank's records for
 * itself where they are (no copy through MPI); when every rank lies on one
 * node (nodeshm.h) the records are not sent at all: each rank packs into a
 * buffer the others map, and their sorts read their blocks in place. RUNS then lists the received
 * blocks and the kept one in source rank order for the sort. Buffers live
 * in the cs_shuffle and are reused across windows (first touch of fresh
 * memory is the slow part on these machines). Called by run. */
#ifndef CLICKSEG_SHUFFLE_H
#define CLICKSEG_SHUFFLE_H

#include <stdint.h>

#include "clickseg/archive.h"
#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/event.h"
#include "clickseg/nodeshm.h"
#include "clickseg/sort.h"

typedef struct cs_shuffle {
    int nranks, self;
    int l1_bits;             /* level-1 sort buckets per destination: 1 << l1_bits */
    uint64_t *counts;        /* records per destination */
    uint64_t *bcounts;       /* records per (destination, bucket) */
    uint64_t *rbcounts;      /* records per (source, bucket) after EXCHANGE */
    uint64_t *fill;          /* scratch cursor per (destination, bucket) */
    uint32_t *dest;          /* (destination, bucket) cell of each row (scratch) */
    void *stage;             /* wc records per cell on their way out (pack) */
    int wc;
    uint8_t *nstage;
    uint64_t dest_cap;
    void *send;              /* records by (destination, bucket) */
    uint64_t send_cap, nsend;
    void *recv;              /* the records received from the other ranks */
    uint64_t recv_cap, nrecv;
    cs_nodeshm shm;          /* on: send lies in shared memory, nothing is received */
    uint64_t *send_at;       /* with shm: where each destination's block starts in send */
    uint64_t *src_at;        /* ... and where this rank's block starts in each source's */
    int narrow;              /* set before the first pack: cs_event_narrow records */
} cs_shuffle;

int shuffle_init(cs_shuffle *s, int nranks, int self, cs_err *err);

/* Collective: packs into buffers the ranks of the node share when `want`
 * and the whole job lies on one node (nodeshm.h); why (whylen bytes) says
 * why not when sharing was wanted and could not be set up. */
int shuffle_share_node(const cs_comm *c, cs_shuffle *s, int want, char *why, size_t whylen,
                       cs_err *err);
void shuffle_free(cs_shuffle *s);

#define SHUFFLE_DROP UINT32_MAX   /* the route of a row not sent anywhere */

/* Room for the routes of n rows (s->dest[0..n)) and every cell's count
 * zeroed (s->bcounts): the caller then sets each row's route, counting the
 * routed ones, with shuffle_cell. */
int shuffle_route_begin(cs_shuffle *s, uint64_t n, cs_err *err);

/* The (destination, bucket) cell of a row of user_id: the owner's rank and
 * the sort's level-1 bucket, from one mix of the id. */
static inline uint32_t shuffle_cell(const cs_shuffle *s, uint64_t user_id)
{
    uint64_t m = cs_mix64(user_id);
    return (uint32_t)((uint64_t)cs_owner_of_mix(m, s->nranks) << s->l1_bits |
                      cs_key_of_mix(m) >> (64 - s->l1_bits));
}

/* The rows routed to each destination so far (to[0..nranks)), from the
 * cells' counts: what each rank would receive of this rank's rows. */
void shuffle_route_counts(const cs_shuffle *s, int64_t *to);

/* Packs the rows of the segments (together rows [0, n), in row order;
 * segment g's rows are rows segs[g].row0..) by their routes in s->dest
 * (SHUFFLE_DROP: left out; s->bcounts must count the others), in row
 * order per destination (SORT relies on it: see event.h). A segment's
 * session_id may be NULL (gap mode reads no session ids): the records then
 * carry 0. Narrow records read only ts, user_id, event_type and price. */
int shuffle_pack(cs_shuffle *s, const cs_colseg *segs, uint64_t nsegs, uint64_t n, cs_err *err);

/* Collective: exchanges the packed records; afterwards s->recv holds the
 * s->nrecv records the other ranks sent, and s->rbcounts every source's
 * per-bucket counts (this rank's own records stay in s->send). */
int shuffle_exchange(const cs_comm *c, cs_shuffle *s, cs_err *err);

/* After EXCHANGE: one sort run per source rank, in rank order (runs has
 * room for nranks); records this rank owns, bucket-grouped. */
void shuffle_runs(const cs_shuffle *s, cs_sort_run *runs);

/* Records owned by this rank after EXCHANGE (received plus kept). */
uint64_t shuffle_owned(const cs_shuffle *s);

/* Collective: sends each of n records of `size` bytes (a uint64 user id in
 * the first 8 bytes: cs_user, cs_event, cs_session) to the rank that owns
 * the user. *out (malloc'd, caller frees) receives this rank's records,
 * *nout of them, in source rank order. When extra is given, nx[i] uint64
 * items of extra (laid out in record order) travel with record i and arrive
 * in *xout (malloc'd) in the order of the received records. Used to
 * redistribute checkpoints and merged tables. */
int shuffle_route(const cs_comm *c, const void *recs, uint64_t n, size_t size,
                  const uint64_t *extra, const uint64_t *nx, void **out, uint64_t *nout,
                  uint64_t **xout, uint64_t *nxout, cs_err *err);

/* Frees the send, receive and scratch buffers (they are allocated again,
 * at the size then needed, by the next pack and exchange): run calls it
 * when its windows shrink, so the memory really goes back, and before its
 * epilog. With keep_shared a shared send buffer stays: the next pack cuts
 * it to its size, keeping the pages that are still needed. */
void shuffle_release(cs_shuffle *s, int keep_shared);

#endif
