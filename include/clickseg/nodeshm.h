/* nodeshm.h — buffers the ranks of one node read from each other.
 *
 * When every rank of a job shares one node, the shuffle need not copy its
 * records through MPI: each rank packs them into a buffer of its own that
 * the other ranks map read-only, and their sorts read their blocks there.
 * A buffer is a memfd (anonymous shared memory: pages only as touched, no
 * file system to fill up); the other ranks open it through
 * /proc/<pid>/fd/<fd>, which the kernel allows under the same check as the
 * single-copy transfers Open MPI itself uses between the ranks of a node
 * (CMA), and check a token written at its start, so that a rank in another
 * PID namespace never maps some other process's file. When any step fails
 * on any rank, no rank shares and the shuffle goes through MPI, as it does
 * on several nodes. Called by shuffle. */
#ifndef CLICKSEG_NODESHM_H
#define CLICKSEG_NODESHM_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/error.h"

/* The first page holds the token; data starts after it, page aligned. */
#define NODESHM_HEAD 4096

typedef struct cs_nodeshm {
    int on;              /* the ranks share their buffers */
    int nranks, self;
    int fd;              /* this rank's buffer, -1 none */
    char *mine;          /* its mapping, read-write */
    size_t mine_len;     /* bytes mapped: the file's size */
    int *peer_fd;        /* the other ranks' buffers (-1 for this rank) */
    char **peer;         /* their read-only mappings */
    size_t *peer_len;
    uint64_t *len;       /* every rank's buffer size, as publish gathers them */
} cs_nodeshm;

/* Collective: shares buffers when `want` and the job's ranks (more than
 * one) all lie on this node; m->on says whether. Anything that stops the
 * sharing (no memfd, /proc not readable, a token that does not match, a
 * file size limit) leaves m->on 0 with the reason in why[0..whylen) (empty
 * when sharing was not wanted or there is one rank or several nodes); only
 * a failed MPI call is an error. */
int nodeshm_init(const cs_comm *c, cs_nodeshm *m, int want, char *why, size_t whylen,
                 cs_err *err);

/* This rank's buffer with room for `bytes` of data (its content is not kept
 * when it grows): the data's start, or NULL with CS_ENOMEM. Not collective:
 * the other ranks see the new size at the next nodeshm_publish. */
void *nodeshm_reserve(cs_nodeshm *m, size_t bytes, cs_err *err);

/* Collective: every rank maps the other ranks' buffers at their current
 * sizes; nodeshm_peer is valid until a rank's next reserve or release. */
int nodeshm_publish(const cs_comm *c, cs_nodeshm *m, cs_err *err);

/* The data of rank r's buffer, as this rank sees it (after publish). */
static inline const char *nodeshm_peer(const cs_nodeshm *m, int r)
{
    return (r == m->self ? m->mine : m->peer[r]) + NODESHM_HEAD;
}

/* Gives the pages of this rank's buffer back to the system (the next
 * reserve grows it again): the shuffle's release, when windows shrink. */
void nodeshm_release(cs_nodeshm *m);

void nodeshm_free(cs_nodeshm *m);

#endif
