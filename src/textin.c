/* textin.c — byte ranges of plain files and whole gzip files, line by
 * line (see textin.h). */
#include "clickseg/textin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* The first buffer; it doubles for a longer line. The fuzz build makes it
 * tiny so that lines cross buffer ends all the time. */
#ifndef TEXTIN_CHUNK
#define TEXTIN_CHUNK (4 << 20)
#endif
#define CHUNK TEXTIN_CHUNK
#define GZ_WEIGHT 4   /* a gzip byte costs about four plain bytes to parse */

int textin_plan(const int64_t *bytes, const int *gzip, int nfiles, int rank, int nranks,
                textin_seg *seg)
{
    unsigned __int128 total = 0;
    for (int i = 0; i < nfiles; i++)
        total += (unsigned __int128)bytes[i] * (gzip[i] ? GZ_WEIGHT : 1);
    unsigned __int128 lo = total * (unsigned)rank / (unsigned)nranks;
    unsigned __int128 hi = total * (unsigned)(rank + 1) / (unsigned)nranks;
    unsigned __int128 at = 0;
    int n = 0;
    for (int i = 0; i < nfiles; i++) {
        unsigned __int128 w = (unsigned __int128)bytes[i] * (gzip[i] ? GZ_WEIGHT : 1);
        if (gzip[i]) {
            /* whole: to the rank whose share holds the file's middle */
            unsigned __int128 mid = at + w / 2;
            int owner = total ? (int)(mid * (unsigned)nranks / total) : 0;
            if (owner >= nranks)
                owner = nranks - 1;
            if (owner == rank && bytes[i] > 0)
                seg[n++] = (textin_seg){ i, 0, bytes[i] };
        } else {
            unsigned __int128 s = at > lo ? at : lo, e = at + w < hi ? at + w : hi;
            if (s < e)
                seg[n++] = (textin_seg){ i, (int64_t)(s - at), (int64_t)(e - at) };
        }
        at += w;
    }
    return n;
}

int textin_probe(const char *path, int64_t *bytes, cs_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: cannot open: %s", path, strerror(errno)), -1;
    if (S_ISDIR(st.st_mode))
        return cs_err_set(err, CS_EINPUT, "%s: is a directory (name the files, e.g. with a "
                          "glob like '%s/*.csv')", path, path), -1;
    /* Every rank reads its own byte range of a file, and the size plans the
     * ranges: a pipe (a FIFO, a process substitution) has neither, and
     * opening a FIFO no one writes would block this rank for good. */
    if (!S_ISREG(st.st_mode))
        return cs_err_set(err, CS_EINPUT, "%s: not a regular file (a pipe or device: import "
                          "reads each file in byte ranges on every rank; save the stream to "
                          "a file first)", path), -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cs_err_set(err, CS_EINPUT, "%s: cannot open: %s", path, strerror(errno)), -1;
    unsigned char m[2] = { 0, 0 };
    ssize_t got = read(fd, m, 2);
    int e = errno;
    close(fd);
    if (got < 0)
        return cs_err_set(err, CS_EINPUT, "%s: cannot read: %s", path, strerror(e)), -1;
    *bytes = (int64_t)st.st_size;
    return got == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

struct cs_textin {
    char path[1024];
    int fd;
    gzFile gz;
    int64_t end;          /* plain: lines starting at or after end belong to the next rank */
    int64_t pos;          /* offset of buf[0] */
    char *buf;
    size_t cap, lo, hi;   /* unread data is buf[lo..hi) */
    int eof, skip_first;
    int64_t line_start;
};

int textin_open(const char *path, int gzip, int64_t start, int64_t end, cs_textin **out,
                cs_err *err)
{
    cs_textin *t = cs_calloc(1, sizeof *t, err, "input reader");
    if (!t)
        return CS_ENOMEM;
    snprintf(t->path, sizeof t->path, "%s", path);
    t->fd = -1;
    t->cap = CHUNK;
    t->buf = cs_malloc(t->cap, err, "input buffer");
    if (!t->buf) {
        free(t);
        return CS_ENOMEM;
    }
    t->end = gzip ? INT64_MAX : end;
    if (gzip) {
        t->gz = gzopen(path, "rb");
        if (t->gz)
            gzbuffer(t->gz, 1 << 20);
    } else {
        t->fd = open(path, O_RDONLY);
        if (t->fd >= 0 && start > 0) {
            /* Starting mid-file: unless the byte before is a line end, the
             * line under `start` belongs to the previous range. */
            char prev = '\n';
            if (pread(t->fd, &prev, 1, start - 1) != 1)
                prev = 0;
            t->skip_first = prev != '\n';
            lseek(t->fd, start, SEEK_SET);
        }
        t->pos = start;
    }
    if (t->fd < 0 && !t->gz) {
        int e = errno;
        textin_close(t);
        return cs_err_set(err, CS_EINPUT, "%s: cannot open: %s", path, strerror(e));
    }
    *out = t;
    return CS_OK;
}

/* Reads more data after buf[hi], moving the unread part to the front and
 * growing the buffer for a long line. Sets eof at the end of the file. */
static int fill(cs_textin *t, cs_err *err)
{
    if (t->lo > 0) {
        memmove(t->buf, t->buf + t->lo, t->hi - t->lo);
        t->pos += (int64_t)t->lo;
        t->hi -= t->lo;
        t->lo = 0;
    }
    if (t->hi == t->cap) {
        if (t->cap >= TEXTIN_MAX_LINE)
            return cs_err_set(err, CS_EINPUT, "%s: a line at byte %lld is longer than %d MiB; "
                              "is this a text file of the format?", t->path,
                              (long long)t->pos, TEXTIN_MAX_LINE >> 20);
        char *nb = cs_realloc(t->buf, 2 * t->cap, err, "input buffer");
        if (!nb)
            return CS_ENOMEM;
        t->buf = nb;
        t->cap *= 2;
    }
    size_t want = t->cap - t->hi;
    long got;
    if (t->gz) {
        got = gzread(t->gz, t->buf + t->hi, (unsigned)(want > INT_MAX ? INT_MAX : want));
        int zerr = Z_OK;
        const char *msg = got <= 0 ? gzerror(t->gz, &zerr) : "";
        /* zlib reports a truncated stream (Z_BUF_ERROR, "unexpected end of
         * file") as a short read followed by end of file: ask at the end. */
        /* zlib's message may start with "PATH: "; the error names the path once. */
        size_t pl = strlen(t->path);
        if (strncmp(msg, t->path, pl) == 0 && strncmp(msg + pl, ": ", 2) == 0)
            msg += pl + 2;
        if (got < 0 || (got == 0 && zerr != Z_OK)) {
            return cs_err_set(err, CS_EINPUT, "%s: gzip data unreadable after %lld bytes: %s "
                              "(the file is corrupt or truncated)", t->path,
                              (long long)(t->pos + (int64_t)t->hi),
                              zerr == Z_ERRNO ? strerror(errno) : msg);
        }
    } else {
        do
            got = read(t->fd, t->buf + t->hi, want);
        while (got < 0 && errno == EINTR);
        if (got < 0)
            return cs_err_set(err, CS_EIO, "%s: read error at byte %lld: %s", t->path,
                              (long long)(t->pos + (int64_t)t->hi), strerror(errno));
    }
    if (got == 0)
        t->eof = 1;
    t->hi += (size_t)got;
    return CS_OK;
}

int textin_next(cs_textin *t, const char **line, size_t *len, cs_err *err)
{
    for (;;) {
        if (t->pos + (int64_t)t->lo >= t->end && !t->skip_first)
            return 0;
        char *nl = t->hi > t->lo ? memchr(t->buf + t->lo, '\n', t->hi - t->lo) : NULL;
        if (!nl && !t->eof) {
            int rc = fill(t, err);
            if (rc != CS_OK)
                return -1;
            continue;
        }
        if (!nl && t->lo == t->hi)
            return 0;
        size_t stop = nl ? (size_t)(nl - t->buf) : t->hi;
        size_t start = t->lo;
        t->lo = nl ? stop + 1 : stop;
        if (t->skip_first) {
            t->skip_first = 0;
            continue;
        }
        t->line_start = t->pos + (int64_t)start;
        size_t n = stop - start;
        if (n && t->buf[start + n - 1] == '\r')
            n--;
        /* A UTF-8 byte-order mark is not part of the first line (it still
         * counts for which range owns the line: that line starts at 0). */
        if (t->line_start == 0 && n >= 3 && memcmp(t->buf + start, "\xef\xbb\xbf", 3) == 0) {
            start += 3;
            n -= 3;
        }
        *line = t->buf + start;
        *len = n;
        return 1;
    }
}

int64_t textin_offset(const cs_textin *t)
{
    return t->line_start;
}

void textin_close(cs_textin *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    if (t->gz)
        gzclose_r(t->gz);
    free(t->buf);
    free(t);
}
