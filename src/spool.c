/* spool.c — closed sessions in an unlinked per-rank file (see spool.h). */
#include "clickseg/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void spool_init(cs_spool *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->fd = -1;
}

int spool_open(cs_spool *sp, const char *dir, int rank, cs_err *err)
{
    spool_init(sp);
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/.sessions-spool-%d", dir, rank);
    sp->buf = cs_malloc(CS_SPOOL_BLOCK * sizeof *sp->buf, err, "sessions spool buffer");
    if (!sp->buf)
        return CS_ENOMEM;
    sp->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (sp->fd < 0) {
        int e = errno;
        spool_close(sp);
        return cs_err_set(err, CS_EIO, "%s: cannot create the sessions spool: %s", dir,
                          strerror(e));
    }
    unlink(path);
    return CS_OK;
}

/* Writes the buffer out at the end of the file. */
static int flush(cs_spool *sp, cs_err *err)
{
    const char *p = (const char *)sp->buf;
    size_t left = sp->nbuf * sizeof *sp->buf;
    off_t at = (off_t)((sp->n - sp->nbuf) * sizeof *sp->buf);
    while (left > 0) {
        ssize_t w = pwrite(sp->fd, p, left, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return cs_err_set(err, CS_EIO, "%s: writing the sessions spool: %s", sp->dir,
                              w < 0 ? strerror(errno) : "no space");
        p += w;
        at += w;
        left -= (size_t)w;
    }
    sp->nbuf = 0;
    return CS_OK;
}

int spool_add(cs_spool *sp, const cs_session *s, cs_err *err)
{
    if (sp->nbuf == CS_SPOOL_BLOCK && flush(sp, err) != CS_OK)
        return err->code;
    /* Field by field into a zeroed row: the padding after `segment` is
     * written to the file and hashed by the checkpoints' checksums, so it
     * must be defined. */
    cs_session *d = &sp->buf[sp->nbuf++];
    memset(d, 0, sizeof *d);
    d->user_id = s->user_id;
    d->start_ts = s->start_ts;
    d->end_ts = s->end_ts;
    d->segment = s->segment;
    d->f = s->f;
    sp->n++;
    return CS_OK;
}

int spool_read(cs_spool *sp, uint64_t at, uint64_t m, cs_session *out, cs_err *err)
{
    if (at + m > sp->n)
        return cs_err_set(err, CS_EINTERNAL, "sessions spool: rows %llu..%llu of %llu",
                          (unsigned long long)at, (unsigned long long)(at + m),
                          (unsigned long long)sp->n);
    if (sp->nbuf && flush(sp, err) != CS_OK)
        return err->code;
    char *p = (char *)out;
    size_t left = m * sizeof *out;
    off_t off = (off_t)(at * sizeof *out);
    while (left > 0) {
        ssize_t r = pread(sp->fd, p, left, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return cs_err_set(err, CS_EIO, "%s: reading the sessions spool: %s", sp->dir,
                              r < 0 ? strerror(errno) : "short file");
        p += r;
        off += r;
        left -= (size_t)r;
    }
    return CS_OK;
}

void spool_close(cs_spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->buf);
    spool_init(sp);
}
