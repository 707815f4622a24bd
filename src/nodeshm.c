/* nodeshm.c — buffers the ranks of one node read from each other (see
 * nodeshm.h). */
#include "clickseg/nodeshm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

/* What the first page of rank r's buffer holds. */
typedef struct head {
    uint64_t magic, token, rank;
} head;

#define MAGIC 0x6873656764696c63ULL   /* "clidgesh", any fixed value */

static size_t page_up(size_t n)
{
    return (n + PAGE - 1) & ~(size_t)(PAGE - 1);
}

static void unmap_all(cs_nodeshm *m)
{
    for (int r = 0; m->peer && m->peer_fd && r < m->nranks; r++) {
        if (m->peer[r])
            munmap(m->peer[r], m->peer_len[r]);
        if (m->peer_fd[r] >= 0)
            close(m->peer_fd[r]);
    }
    /* fd is open exactly when mine is mapped (make_own), so a zeroed
     * struct (no init reached) closes nothing. */
    if (m->mine) {
        munmap(m->mine, m->mine_len);
        close(m->fd);
    }
    free(m->peer_fd);
    free(m->peer);
    free(m->peer_len);
    free(m->len);
}

void nodeshm_free(cs_nodeshm *m)
{
    unmap_all(m);
    memset(m, 0, sizeof *m);
    m->fd = -1;
}

/* This rank's buffer: one page holding the head. 0, or -1 with the reason. */
static int make_own(cs_nodeshm *m, uint64_t token, char *why, size_t whylen)
{
    /* Growing a memfd past a file size limit would kill the rank with
     * SIGXFSZ in the middle of a window. */
    struct rlimit fl;
    if (getrlimit(RLIMIT_FSIZE, &fl) == 0 && fl.rlim_cur != RLIM_INFINITY) {
        snprintf(why, whylen, "rank %d has a file size limit (ulimit -f %llu)", m->self,
                 (unsigned long long)fl.rlim_cur / 1024);
        return -1;
    }
    int fd = memfd_create("clickseg-shuffle", MFD_CLOEXEC);
    void *p = MAP_FAILED;
    if (fd < 0 || ftruncate(fd, NODESHM_HEAD) != 0 ||
        (p = mmap(NULL, NODESHM_HEAD, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        snprintf(why, whylen, "a memfd for rank %d's buffer: %s", m->self, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    m->fd = fd;
    m->mine = p;
    m->mine_len = NODESHM_HEAD;
    *(head *)p = (head){MAGIC, token, (uint64_t)m->self};
    return 0;
}

/* What a rank tells the others of its buffer: where to find it and what
 * file it must be. */
enum { ID_PID, ID_FD, ID_OK, ID_DEV, ID_INO, ID_N };

/* 1 when st is rank r's buffer as id (ID_N values) describes it. */
static int same_file(const struct stat *st, const uint64_t *id)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_dev == id[ID_DEV] &&
           (uint64_t)st->st_ino == id[ID_INO] && st->st_size >= NODESHM_HEAD;
}

/* Rank r's buffer (id: ID_N values) mapped and its head checked. The path
 * is checked with stat before it is opened: in another PID namespace it
 * names some other process's fd, which may be a FIFO (open would block) or
 * a short file (reading the map would fault). */
static int map_peer(cs_nodeshm *m, int r, const uint64_t *id, uint64_t token, char *why,
                    size_t whylen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%llu/fd/%llu", (unsigned long long)id[ID_PID],
             (unsigned long long)id[ID_FD]);
    struct stat st;
    if (stat(path, &st) != 0 || !same_file(&st, id)) {
        snprintf(why, whylen, "rank %d cannot find rank %d's buffer at %s (%s)", m->self, r,
                 path, errno ? strerror(errno) : "another file: ranks in separate PID namespaces?");
        return -1;
    }
    m->peer_fd[r] = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (m->peer_fd[r] < 0 || fstat(m->peer_fd[r], &st) != 0 || !same_file(&st, id)) {
        snprintf(why, whylen, "rank %d cannot open rank %d's buffer %s: %s", m->self, r, path,
                 m->peer_fd[r] < 0 ? strerror(errno) : "another file");
        return -1;
    }
    void *p = mmap(NULL, NODESHM_HEAD, PROT_READ, MAP_SHARED, m->peer_fd[r], 0);
    if (p == MAP_FAILED) {
        snprintf(why, whylen, "rank %d cannot map rank %d's buffer: %s", m->self, r,
                 strerror(errno));
        return -1;
    }
    m->peer[r] = p;
    m->peer_len[r] = NODESHM_HEAD;
    const head *h = p;
    if (h->magic != MAGIC || h->token != token || h->rank != (uint64_t)r) {
        snprintf(why, whylen, "rank %d found another file at %s (ranks in separate PID "
                 "namespaces?)", m->self, path);
        return -1;
    }
    return 0;
}

int nodeshm_init(const cs_comm *c, cs_nodeshm *m, int want, char *why, size_t whylen,
                 cs_err *err)
{
    memset(m, 0, sizeof *m);
    m->fd = -1;
    m->nranks = c->size;
    m->self = c->rank;
    if (whylen)
        why[0] = '\0';
    if (!want || c->size < 2 || c->node_size != c->size)
        return CS_OK;   /* the same answer on every rank */
    /* A token of this job: rank 0's time and pid, told to every rank. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t token = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
                     ((uint64_t)getpid() << 40);
    int rc = comm_bcast(c, &token, sizeof token, err);
    if (rc != CS_OK)
        return rc;
    char mywhy[256] = "";
    m->peer_fd = malloc((size_t)c->size * sizeof *m->peer_fd);
    m->peer = calloc((size_t)c->size, sizeof *m->peer);
    m->peer_len = calloc((size_t)c->size, sizeof *m->peer_len);
    m->len = calloc((size_t)c->size, sizeof *m->len);
    uint64_t *all = malloc((size_t)c->size * ID_N * sizeof *all);
    for (int r = 0; m->peer_fd && r < c->size; r++)
        m->peer_fd[r] = -1;
    if (!m->peer_fd || !m->peer || !m->peer_len || !m->len || !all)
        cs_err_set(err, CS_ENOMEM, "out of memory setting up the shuffle's shared buffers");
    if ((rc = comm_agree(c, err)) != CS_OK) {
        free(all);
        nodeshm_free(m);
        return rc;
    }
    int64_t ok = make_own(m, token, mywhy, sizeof mywhy) == 0;
    struct stat st;
    if (ok && fstat(m->fd, &st) != 0) {
        snprintf(mywhy, sizeof mywhy, "fstat of rank %d's buffer: %s", m->self, strerror(errno));
        ok = 0;
    }
    uint64_t me[ID_N] = {(uint64_t)getpid(), (uint64_t)(ok ? m->fd : 0), (uint64_t)ok,
                         ok ? (uint64_t)st.st_dev : 0, ok ? (uint64_t)st.st_ino : 0};
    rc = comm_allgather_u64(c, me, ID_N, all, err);
    /* A rank without its own buffer makes every rank fall back below. */
    for (int r = 0; rc == CS_OK && ok && r < c->size; r++)
        ok = all[ID_N * r + ID_OK] != 0;
    for (int r = 0; rc == CS_OK && ok && r < c->size; r++)
        if (r != c->rank) {
            errno = 0;
            ok = map_peer(m, r, all + ID_N * r, token, mywhy, sizeof mywhy) == 0;
        }
    free(all);
    int64_t all_ok = ok;
    if (rc == CS_OK)
        rc = comm_min_i64(c, &all_ok, 1, 1, err);
    if (rc != CS_OK || !all_ok) {
        if (whylen)
            snprintf(why, whylen, "%s", mywhy[0] ? mywhy : "another rank could not share");
        nodeshm_free(m);
        m->nranks = c->size;
        m->self = c->rank;
        return rc;
    }
    m->on = 1;
    return CS_OK;
}

void *nodeshm_reserve(cs_nodeshm *m, size_t bytes, cs_err *err)
{
    size_t need = page_up(NODESHM_HEAD + bytes);
    /* A little more than asked: the next windows are about as large. */
    size_t len = page_up(need + need / 16);
    /* Much larger than needed (the windows shrank as users filled the
     * budget): the tail goes back to the system, the pages kept stay
     * mapped here and at the readers, with no fault to pay again (measured
     * at 10^8 events, 2 ranks: 0.09 s of 3.07 against giving all back
     * when the windows shrink). */
    if (m->mine_len > len + len / 8) {
        void *p = mremap(m->mine, m->mine_len, len, 0);
        if (p != MAP_FAILED) {
            m->mine = p;
            m->mine_len = len;
            (void)!ftruncate(m->fd, (off_t)len);
        }
    }
    if (need > m->mine_len) {
        void *p = ftruncate(m->fd, (off_t)len) == 0
                      ? mremap(m->mine, m->mine_len, len, MREMAP_MAYMOVE) : MAP_FAILED;
        if (p == MAP_FAILED) {
            cs_err_set(err, CS_ENOMEM, "out of memory growing the shuffle's shared buffer to "
                       "%zu bytes: %s; lower memory_per_rank or use more ranks", len,
                       strerror(errno));
            return NULL;
        }
        size_t old = m->mine_len;
        m->mine = p;
        m->mine_len = len;
        /* The pack writes every page: allocating them in one call is much
         * cheaper than a write fault on each page of shared memory (at
         * 10^8 events, 2 ranks: 0.1 s of 3.2; failure only means faults). */
        (void)madvise(m->mine + old, need - old, MADV_POPULATE_WRITE);
    }
    return m->mine + NODESHM_HEAD;
}

int nodeshm_publish(const cs_comm *c, cs_nodeshm *m, cs_err *err)
{
    uint64_t mine = m->mine_len, *len = m->len;
    int rc = comm_allgather_u64(c, &mine, 1, len, err);
    for (int r = 0; rc == CS_OK && r < c->size; r++) {
        if (r == c->rank || m->peer_len[r] == len[r])
            continue;
        void *p = mremap(m->peer[r], m->peer_len[r], len[r], MREMAP_MAYMOVE);
        if (p == MAP_FAILED) {
            rc = cs_err_set(err, CS_ENOMEM, "out of address space mapping rank %d's shuffle "
                            "buffer (%llu bytes): %s", r, (unsigned long long)len[r],
                            strerror(errno));
            break;
        }
        m->peer[r] = p;
        m->peer_len[r] = len[r];
    }
    return comm_agree(c, err);
}

void nodeshm_release(cs_nodeshm *m)
{
    if (!m->on || m->mine_len == NODESHM_HEAD)
        return;
    /* Truncating frees the pages; the peers' larger mappings are not read
     * again before the next publish maps them anew. */
    void *p = mremap(m->mine, m->mine_len, NODESHM_HEAD, 0);
    if (p == MAP_FAILED)
        return;
    m->mine = p;
    m->mine_len = NODESHM_HEAD;
    /* Should the truncation fail, the file just stays large (and the next
     * reserve truncates it to its size again). */
    (void)!ftruncate(m->fd, NODESHM_HEAD);
}
