/* comm.h — the process's MPI context and the collectives the job uses.
 *
 * The one module that calls MPI directly for the pipeline (archive writers
 * and report writers use MPI only through parallel HDF5). Every function here
 * is collective: all ranks call it, or none. comm_agree() is how errors
 * become collective: each rank passes its own status, every rank gets the
 * first failing rank's code and message. */
#ifndef CLICKSEG_COMM_H
#define CLICKSEG_COMM_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "clickseg/error.h"

typedef struct cs_comm {
    MPI_Comm comm;
    int rank;
    int size;
    int node_size;        /* ranks of this job on this rank's node (shared memory) */
    char node[64];        /* this node's name, for messages */
} cs_comm;

/* Wraps MPI_COMM_WORLD (MPI must be initialised) and counts the ranks that
 * share this rank's node (MPI_COMM_TYPE_SHARED): they share its memory. */
void comm_world(cs_comm *c);

/* Collective error agreement: returns CS_OK on every rank when every rank's
 * err->code is CS_OK; otherwise every rank returns the code of the lowest
 * failing rank and err holds that rank's message, prefixed with "rank R: "
 * when R is not rank 0 (rank 0's errors are the job's: plan, outputs). */
int comm_agree(const cs_comm *c, cs_err *err);

/* Broadcast of a plain byte buffer from rank 0. */
int comm_bcast(const cs_comm *c, void *buf, size_t bytes, cs_err *err);

/* Element-wise sums/mins/maxes of int64 arrays into rank 0 (all = 1: every rank). */
int comm_sum_i64(const cs_comm *c, int64_t *v, size_t n, int all, cs_err *err);
int comm_min_i64(const cs_comm *c, int64_t *v, size_t n, int all, cs_err *err);
/* Bitwise XOR of one uint64 over the ranks, on every rank. */
int comm_xor_u64(const cs_comm *c, uint64_t *v, cs_err *err);
int comm_max_i64(const cs_comm *c, int64_t *v, size_t n, int all, cs_err *err);

/* Exclusive prefix sum across ranks (rank 0 gets 0). */
int comm_exscan_u64(const cs_comm *c, uint64_t mine, uint64_t *before, cs_err *err);
/* Element-wise exclusive prefix sums of n values (rank 0 gets zeros). */
int comm_exscan_u64v(const cs_comm *c, const uint64_t *mine, uint64_t *before, size_t n,
                     cs_err *err);
/* Exclusive prefix max across ranks (rank 0 gets INT64_MIN). */
int comm_exscan_max_i64(const cs_comm *c, int64_t mine, int64_t *before, cs_err *err);

/* All-to-all exchange of fixed-size records: sendcounts[r] records of
 * `rec` bytes for rank r, packed in rank order in sendbuf. Returns the
 * received records in *recvbuf (grown with realloc as needed; *recvcap is
 * its capacity in records) and their number in *nrecv. Blocks are split so
 * no MPI count exceeds INT_MAX. */
int comm_alltoallv(const cs_comm *c, const void *sendbuf, const uint64_t *sendcounts,
                   size_t rec, void **recvbuf, uint64_t *recvcap, uint64_t *nrecv,
                   cs_err *err);

/* The same without the block a rank addresses to itself (it stays in
 * sendbuf, uncopied): *recvbuf holds the other ranks' blocks in rank order. */
int comm_alltoallv_others(const cs_comm *c, const void *sendbuf, const uint64_t *sendcounts,
                          size_t rec, void **recvbuf, uint64_t *recvcap, uint64_t *nrecv,
                          cs_err *err);

/* All-to-all of `per` uint64 values for each rank: send[r * per ..] goes to
 * rank r, recv[r * per ..] comes from rank r. */
int comm_alltoall_u64(const cs_comm *c, const uint64_t *send, uint64_t *recv, size_t per,
                      cs_err *err);

/* All-gather of `per` uint64 values from each rank: all[r * per ..] holds
 * rank r's `mine`, on every rank. */
int comm_allgather_u64(const cs_comm *c, const uint64_t *mine, size_t per, uint64_t *all,
                       cs_err *err);

/* Gathers variable-length byte blocks to rank 0: on rank 0 *out holds the
 * concatenation in rank order and counts[r] each rank's length (caller frees).
 * Every rank returns the same code: CS_ENOMEM when a rank's counts or rank
 * 0's buffer cannot be allocated, CS_EINTERNAL when a block or the whole is
 * past 2 GiB (MPI's int counts); *out is then untouched. */
int comm_gatherv(const cs_comm *c, const void *buf, uint64_t bytes, void **out,
                 uint64_t *counts, cs_err *err);

/* Wall-clock seconds. */
double comm_wtime(void);

#endif
