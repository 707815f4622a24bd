/* comm.c — MPI wrappers for the pipeline (see comm.h). Every MPI return code
 * is checked and turned into a cs_err. */
#include "clickseg/comm.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mpi_fail(cs_err *err, int mrc, const char *call)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(mrc, msg, &len);
    return cs_err_set(err, CS_EINTERNAL, "%s failed: %s", call, msg);
}

#define MPI_CHECK(call, err)                         \
    do {                                             \
        int mrc_ = (call);                           \
        if (mrc_ != MPI_SUCCESS)                     \
            return mpi_fail((err), mrc_, #call);     \
    } while (0)

void comm_world(cs_comm *c)
{
    c->comm = MPI_COMM_WORLD;
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    MPI_Comm node;
    c->node_size = 1;
    if (MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL,
                            &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &c->node_size);
        MPI_Comm_free(&node);
    }
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    if (MPI_Get_processor_name(name, &len) != MPI_SUCCESS)
        len = 0;
    name[len] = '\0';
    snprintf(c->node, sizeof c->node, "%.63s", len ? name : "?");   /* node[64] */
}

/* 1 when msg starts "rank N: ": agreed once already (an error passed up
 * through a second agreement keeps the one prefix). */
static int has_rank_prefix(const char *msg)
{
    if (strncmp(msg, "rank ", 5) != 0 || msg[5] < '0' || msg[5] > '9')
        return 0;
    const char *p = msg + 5;
    while (*p >= '0' && *p <= '9')
        p++;
    return p[0] == ':' && p[1] == ' ';
}

int comm_agree(const cs_comm *c, cs_err *err)
{
    /* MINLOC on (failed ? 0 : 1, rank) finds the lowest failing rank. */
    struct { int ok; int rank; } in = {err->code == CS_OK, c->rank}, out;
    MPI_CHECK(MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, c->comm), err);
    if (out.ok)
        return CS_OK;
    struct { int code; char msg[sizeof err->msg]; } pkt;
    if (c->rank == out.rank) {
        pkt.code = err->code;
        memcpy(pkt.msg, err->msg, sizeof pkt.msg);
    }
    MPI_CHECK(MPI_Bcast(&pkt, (int)sizeof pkt, MPI_BYTE, out.rank, c->comm), err);
    /* Rank 0 plans, checks and prints for the job: its errors are the
     * job's, and "rank 0:" would only push the file's name along. Another
     * rank's error says which rank (its slice, its memory). */
    if (c->size > 1 && out.rank != 0 && !has_rank_prefix(pkt.msg))
        cs_err_set(err, pkt.code, "rank %d: %s", out.rank, pkt.msg);
    else
        cs_err_set(err, pkt.code, "%s", pkt.msg);
    return pkt.code;
}

int comm_bcast(const cs_comm *c, void *buf, size_t bytes, cs_err *err)
{
    char *p = buf;
    while (bytes > 0) {
        int n = bytes > (size_t)INT_MAX ? INT_MAX : (int)bytes;
        MPI_CHECK(MPI_Bcast(p, n, MPI_BYTE, 0, c->comm), err);
        p += n;
        bytes -= (size_t)n;
    }
    return CS_OK;
}

static int reduce_i64(const cs_comm *c, int64_t *v, size_t n, int all, MPI_Op op, cs_err *err)
{
    if (n == 0)
        return CS_OK;
    if (n > INT_MAX)
        return cs_err_set(err, CS_EINTERNAL, "reduction of %zu values is too large", n);
    if (all) {
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_INT64_T, op, c->comm), err);
    } else if (c->rank == 0) {
        MPI_CHECK(MPI_Reduce(MPI_IN_PLACE, v, (int)n, MPI_INT64_T, op, 0, c->comm), err);
    } else {
        MPI_CHECK(MPI_Reduce(v, NULL, (int)n, MPI_INT64_T, op, 0, c->comm), err);
    }
    return CS_OK;
}

int comm_sum_i64(const cs_comm *c, int64_t *v, size_t n, int all, cs_err *err)
{
    return reduce_i64(c, v, n, all, MPI_SUM, err);
}

int comm_xor_u64(const cs_comm *c, uint64_t *v, cs_err *err)
{
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_UINT64_T, MPI_BXOR, c->comm), err);
    return CS_OK;
}

int comm_min_i64(const cs_comm *c, int64_t *v, size_t n, int all, cs_err *err)
{
    return reduce_i64(c, v, n, all, MPI_MIN, err);
}

int comm_max_i64(const cs_comm *c, int64_t *v, size_t n, int all, cs_err *err)
{
    return reduce_i64(c, v, n, all, MPI_MAX, err);
}

int comm_exscan_u64(const cs_comm *c, uint64_t mine, uint64_t *before, cs_err *err)
{
    uint64_t r = 0;
    MPI_CHECK(MPI_Exscan(&mine, &r, 1, MPI_UINT64_T, MPI_SUM, c->comm), err);
    *before = c->rank == 0 ? 0 : r;
    return CS_OK;
}

int comm_exscan_u64v(const cs_comm *c, const uint64_t *mine, uint64_t *before, size_t n,
                     cs_err *err)
{
    if (n > INT_MAX)
        return cs_err_set(err, CS_EINTERNAL, "prefix sum of %zu values is too large", n);
    if (n == 0)
        return CS_OK;
    MPI_CHECK(MPI_Exscan((void *)mine, before, (int)n, MPI_UINT64_T, MPI_SUM, c->comm), err);
    if (c->rank == 0)
        memset(before, 0, n * sizeof *before);
    return CS_OK;
}

int comm_exscan_max_i64(const cs_comm *c, int64_t mine, int64_t *before, cs_err *err)
{
    int64_t r = INT64_MIN;
    MPI_CHECK(MPI_Exscan(&mine, &r, 1, MPI_INT64_T, MPI_MAX, c->comm), err);
    *before = c->rank == 0 ? INT64_MIN : r;
    return CS_OK;
}

/* Exchanges in rounds so that no single block count exceeds INT_MAX bytes:
 * each round moves at most `per` records per destination. */
static int alltoallv(const cs_comm *c, const void *sendbuf, const uint64_t *sendcounts,
                     size_t rec, void **recvbuf, uint64_t *recvcap, uint64_t *nrecv,
                     int skip_self, cs_err *err)
{
    int n = c->size;
    uint64_t *rcounts = cs_calloc((size_t)n * 4, sizeof(uint64_t), err, "shuffle counts");
    int *sc = cs_calloc((size_t)n * 4, sizeof(int), err, "shuffle counts");
    /* Every rank must learn of a failure here before anyone enters the
     * exchange, or the others would wait in it for ever. */
    int failed = !rcounts || !sc, any = failed;
    MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, c->comm);
    if (any) {
        free(rcounts); free(sc);
        return failed ? CS_ENOMEM : cs_err_set(err, CS_ENOMEM, "another rank ran out of memory "
                                               "for its shuffle counts");
    }
    uint64_t *soff = rcounts + n, *roff = rcounts + 2 * n;
    int *sd = sc + n, *rcn = sc + 2 * n, *rd = sc + 3 * n;
    int rc = MPI_Alltoall((void *)sendcounts, 1, MPI_UINT64_T, rcounts, 1, MPI_UINT64_T, c->comm);
    if (rc != MPI_SUCCESS) {
        free(rcounts); free(sc);
        return mpi_fail(err, rc, "MPI_Alltoall");
    }
    uint64_t *scount = rcounts + 3 * n;
    memcpy(scount, sendcounts, (size_t)n * sizeof *scount);
    if (skip_self)
        scount[c->rank] = rcounts[c->rank] = 0;
    uint64_t total = 0, maxblock = 0;
    for (int r = 0; r < n; r++) {
        soff[r] = r ? soff[r - 1] + sendcounts[r - 1] : 0;   /* the block stays in place */
        roff[r] = total;
        total += rcounts[r];
        if (scount[r] > maxblock) maxblock = scount[r];
        if (rcounts[r] > maxblock) maxblock = rcounts[r];
    }
    uint64_t nomem = cs_reserve(recvbuf, recvcap, total, rec, err, "shuffle receive buffer") != CS_OK;
    /* Agree on the number of rounds, and that every rank has room: every
     * rank must take part in each round, or none does. */
    uint64_t per = (uint64_t)(INT_MAX / 2) / rec;
    /* MPI displacements are ints: more than 2^31 records on a rank cannot
     * be addressed (windows that large need more memory than any node). */
    uint64_t big = soff[n - 1] + sendcounts[n - 1] > INT_MAX || total > INT_MAX;
    uint64_t agree[3] = {maxblock ? (maxblock + per - 1) / per : 0, nomem, big};
    MPI_Allreduce(MPI_IN_PLACE, agree, 3, MPI_UINT64_T, MPI_MAX, c->comm);
    uint64_t rounds = agree[0];
    if (agree[1] || agree[2]) {
        free(rcounts); free(sc);
        if (agree[1])
            return nomem ? CS_ENOMEM : cs_err_set(err, CS_ENOMEM, "another rank ran out of "
                                                  "memory for its shuffle receive buffer");
        return cs_err_set(err, CS_EINTERNAL, "a rank exchanges more than 2^31 records at once; "
                          "lower memory_per_rank or --window-events");
    }
    MPI_Datatype t;
    MPI_Type_contiguous((int)rec, MPI_BYTE, &t);
    MPI_Type_commit(&t);
    for (uint64_t k = 0; k < rounds && rc == MPI_SUCCESS; k++) {
        uint64_t s0 = k * per;
        for (int r = 0; r < n && rc == MPI_SUCCESS; r++) {
            uint64_t sl = scount[r] > s0 ? scount[r] - s0 : 0;
            uint64_t rl = rcounts[r] > s0 ? rcounts[r] - s0 : 0;
            uint64_t sdisp = soff[r] + s0, rdisp = roff[r] + s0;   /* < 2^31: checked above */
            sc[r] = (int)(sl < per ? sl : per);
            rcn[r] = (int)(rl < per ? rl : per);
            sd[r] = (int)sdisp;
            rd[r] = (int)rdisp;
        }
        if (rc == MPI_SUCCESS)
            rc = MPI_Alltoallv((void *)sendbuf, sc, sd, t, *recvbuf, rcn, rd, t, c->comm);
    }
    MPI_Type_free(&t);
    free(rcounts);
    free(sc);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, rc, "MPI_Alltoallv");
    *nrecv = total;
    return CS_OK;
}

int comm_alltoallv(const cs_comm *c, const void *sendbuf, const uint64_t *sendcounts,
                   size_t rec, void **recvbuf, uint64_t *recvcap, uint64_t *nrecv,
                   cs_err *err)
{
    return alltoallv(c, sendbuf, sendcounts, rec, recvbuf, recvcap, nrecv, 0, err);
}

int comm_alltoallv_others(const cs_comm *c, const void *sendbuf, const uint64_t *sendcounts,
                          size_t rec, void **recvbuf, uint64_t *recvcap, uint64_t *nrecv,
                          cs_err *err)
{
    return alltoallv(c, sendbuf, sendcounts, rec, recvbuf, recvcap, nrecv, 1, err);
}

int comm_alltoall_u64(const cs_comm *c, const uint64_t *send, uint64_t *recv, size_t per,
                      cs_err *err)
{
    if (per > INT_MAX)
        return cs_err_set(err, CS_EINTERNAL, "all-to-all of %zu values is too large", per);
    MPI_CHECK(MPI_Alltoall((void *)send, (int)per, MPI_UINT64_T, recv, (int)per, MPI_UINT64_T,
                           c->comm), err);
    return CS_OK;
}

int comm_allgather_u64(const cs_comm *c, const uint64_t *mine, size_t per, uint64_t *all,
                       cs_err *err)
{
    if (per > INT_MAX)
        return cs_err_set(err, CS_EINTERNAL, "all-gather of %zu values is too large", per);
    MPI_CHECK(MPI_Allgather((void *)mine, (int)per, MPI_UINT64_T, all, (int)per, MPI_UINT64_T,
                            c->comm), err);
    return CS_OK;
}

int comm_gatherv(const cs_comm *c, const void *buf, uint64_t bytes, void **out,
                 uint64_t *counts, cs_err *err)
{
    int n = c->size;
    /* Each step a rank can fail alone (its counts, a block too large for
     * MPI's int counts, rank 0's buffer) is agreed on before the next
     * collective, so no rank waits in a gather the others have left. */
    int *ic = cs_calloc((size_t)n * 2, sizeof(int), err, "gather counts");
    if (ic && bytes > INT_MAX)
        cs_err_set(err, CS_EINTERNAL, "gather block of %llu bytes is too large",
                   (unsigned long long)bytes);
    int rc = comm_agree(c, err);
    int mine = (int)bytes;
    if (rc == CS_OK) {
        int mrc = MPI_Gather(&mine, 1, MPI_INT, ic, 1, MPI_INT, 0, c->comm);
        rc = mrc == MPI_SUCCESS ? CS_OK : mpi_fail(err, mrc, "MPI_Gather");
    }
    if (rc != CS_OK) {
        free(ic);
        return rc;
    }
    int *disp = ic + n;
    void *all = NULL;
    if (c->rank == 0) {
        uint64_t total = 0;
        for (int r = 0; r < n; r++) {
            disp[r] = (int)(total <= INT_MAX ? total : 0);
            counts[r] = (uint64_t)ic[r];
            total += (uint64_t)ic[r];
        }
        if (total > INT_MAX)
            cs_err_set(err, CS_EINTERNAL, "gathered blocks of %llu bytes are too large",
                       (unsigned long long)total);
        else
            all = cs_malloc(total + 1, err, "gather buffer");
    }
    rc = comm_agree(c, err);
    if (rc == CS_OK) {
        int mrc = MPI_Gatherv((void *)buf, mine, MPI_BYTE, all, ic, disp, MPI_BYTE, 0, c->comm);
        rc = mrc == MPI_SUCCESS ? CS_OK : mpi_fail(err, mrc, "MPI_Gatherv");
    }
    free(ic);
    if (rc != CS_OK) {
        free(all);
        return rc;
    }
    if (c->rank == 0)
        *out = all;
    return CS_OK;
}

double comm_wtime(void)
{
    return MPI_Wtime();
}
