/* spool.h — the closed sessions a job keeps for sessions.h5, spooled to a
 * file per rank so that a rank's memory stays within memory_per_rank
 * whatever the number of sessions (held in memory, they took 200-300
 * bytes each: gigabytes a rank for 10^8 events).
 *
 * run and merge append sessions as they come; snapshot saves and restores
 * them block by block; report writes sessions.h5 from them block by
 * block. The file is created in the job's temporary output directory and
 * unlinked at once: only the descriptor keeps it, so a killed rank leaves
 * nothing behind and the output directory never sees it. Per rank, not
 * collective. */
#ifndef CLICKSEG_SPOOL_H
#define CLICKSEG_SPOOL_H

#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/sessionize.h"

/* Sessions a block: the write buffer, and what readers take at a time
 * (about 0.8 MiB of cs_session). */
#define CS_SPOOL_BLOCK 4096

typedef struct cs_spool {
    int fd;                 /* -1 when not open */
    cs_session *buf;        /* appended, not yet in the file */
    uint64_t nbuf;
    uint64_t n;             /* sessions in the spool: the file's and buf's */
    char dir[1024];         /* where the file was made, for messages */
} cs_spool;

/* A spool that is not open (spool_close is safe on it). */
void spool_init(cs_spool *sp);

/* Creates rank `rank`'s spool in directory dir, empty. CS_EIO naming the
 * directory when it cannot. */
int spool_open(cs_spool *sp, const char *dir, int rank, cs_err *err);

/* Appends one session (written out a block at a time). */
int spool_add(cs_spool *sp, const cs_session *s, cs_err *err);

/* Reads sessions [at, at + m) into out (m <= what remains). */
int spool_read(cs_spool *sp, uint64_t at, uint64_t m, cs_session *out, cs_err *err);

/* Closes the file (the system frees it) and the buffer. */
void spool_close(cs_spool *sp);

#endif
