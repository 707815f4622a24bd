/* shuffle.h — sending each event to the rank that owns its user.
 *
 * PACK turns a rank's read columns into 48-byte records grouped by
 * destination (a counting sort on cs_owner), EXCHANGE moves them with one
 * Alltoall of counts and one Alltoallv of records. Buffers live in the
 * cs_shuffle and are reused across windows (first touch of fresh memory is
 * the slow part on these machines). Called by run. */
#ifndef CLICKSEG_SHUFFLE_H
#define CLICKSEG_SHUFFLE_H

#include <stdint.h>

#include "clickseg/archive.h"
#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/event.h"

typedef struct cs_shuffle {
    int nranks;
    uint64_t *counts;        /* records per destination */
    uint64_t *fill;          /* scratch cursor per destination */
    int32_t *dest;           /* destination of each row (scratch) */
    uint64_t dest_cap;
    cs_event *send;
    uint64_t send_cap, nsend;
    void *recv;              /* cs_event records received */
    uint64_t recv_cap, nrecv;
} cs_shuffle;

int shuffle_init(cs_shuffle *s, int nranks, cs_err *err);
void shuffle_free(cs_shuffle *s);

/* Packs rows [0, n) of cols whose keep[i] is non-zero, in row order per
 * destination (SORT relies on it: see event.h). cols->session_id may be
 * NULL (gap mode reads no session ids): the records then carry 0. */
int shuffle_pack(cs_shuffle *s, const cs_columns *cols, const uint8_t *keep, uint64_t n,
                 cs_err *err);

/* Collective: exchanges the packed records; afterwards s->recv holds
 * s->nrecv records owned by this rank. */
int shuffle_exchange(const cs_comm *c, cs_shuffle *s, cs_err *err);

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
 * when its windows shrink, so the memory really goes back. */
void shuffle_release(cs_shuffle *s);

#endif
