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
#define GZ_IN (1 << 20)  /* compressed bytes read at a time */
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

/* A gzip file is inflated here rather than through gzread: gzread stops
 * quietly at bytes after the last gzip member (a plain file appended to a
 * .gz, a half-written copy on top of an old one), and the rows in them
 * would be lost without a word. Members that follow each other (what
 * `cat a.gz b.gz` or pigz makes) are read one after another; zero bytes
 * after the end (a tape or block device's padding) hold no rows. */
typedef struct gz_reader {
    z_stream z;
    int live;              /* inflateInit2 done */
    unsigned char *in;
    int64_t in_end;        /* compressed bytes read from the file so far */
    int file_eof, member_end, done;
} gz_reader;

struct cs_textin {
    char path[1024];
    int fd;
    gz_reader *gz;
    int64_t end;          /* plain: lines starting at or after end belong to the next rank */
    int64_t pos;          /* offset of buf[0] */
    char *buf;
    size_t cap, lo, hi;   /* unread data is buf[lo..hi) */
    int eof, skip_first;
    int64_t line_start;
};

static int gz_open(cs_textin *t, cs_err *err)
{
    t->gz = cs_calloc(1, sizeof *t->gz, err, "gzip reader");
    if (!t->gz)
        return CS_ENOMEM;
    t->gz->in = cs_malloc(GZ_IN, err, "gzip input buffer");
    if (!t->gz->in)
        return CS_ENOMEM;
    /* 16 + MAX_WBITS: gzip framing only (textin_probe saw its magic). */
    if (inflateInit2(&t->gz->z, 16 + MAX_WBITS) != Z_OK)
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory for zlib", t->path);
    t->gz->live = 1;
    return CS_OK;
}

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
    t->fd = open(path, O_RDONLY);
    if (t->fd >= 0 && gzip) {
        int rc = gz_open(t, err);
        if (rc != CS_OK) {
            textin_close(t);
            return rc;
        }
    } else {
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
    if (t->fd < 0) {
        int e = errno;
        textin_close(t);
        return cs_err_set(err, CS_EINPUT, "%s: cannot open: %s", path, strerror(e));
    }
    *out = t;
    return CS_OK;
}

static int gz_error(const cs_textin *t, const char *why, cs_err *err)
{
    return cs_err_set(err, CS_EINPUT, "%s: gzip data unreadable after %lld bytes: %s "
                      "(the file is corrupt or truncated)", t->path,
                      (long long)(t->pos + (int64_t)t->hi), why);
}

/* More compressed bytes when the input is used up; sets file_eof at the end. */
static int gz_refill(cs_textin *t, cs_err *err)
{
    gz_reader *g = t->gz;
    if (g->z.avail_in > 0 || g->file_eof)
        return CS_OK;
    ssize_t n;
    do
        n = read(t->fd, g->in, GZ_IN);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return cs_err_set(err, CS_EIO, "%s: read error at byte %lld: %s", t->path,
                          (long long)g->in_end, strerror(errno));
    g->file_eof = n == 0;
    g->in_end += n;
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)n;
    return CS_OK;
}

/* After a member's end: another member, zero padding, or data that is not
 * gzip (an error: its rows would otherwise be dropped). */
static int gz_next_member(cs_textin *t, cs_err *err)
{
    gz_reader *g = t->gz;
    for (;;) {
        int rc = gz_refill(t, err);
        if (rc != CS_OK)
            return rc;
        if (g->z.avail_in == 0) {
            g->done = 1;
            return CS_OK;
        }
        while (g->z.avail_in > 0 && g->z.next_in[0] == 0) {
            g->z.next_in++;
            g->z.avail_in--;
        }
        if (g->z.avail_in == 0)
            continue;
        if (g->z.next_in[0] != 0x1f) {
            long long at = (long long)(g->in_end - (int64_t)g->z.avail_in);
            return cs_err_set(err, CS_EINPUT, "%s: bytes after the end of the gzip data "
                              "(compressed byte %lld) are not gzip: was a plain file "
                              "appended to it? Their rows would be lost; split or "
                              "recompress the file", t->path, at);
        }
        g->member_end = 0;
        return inflateReset(&g->z) == Z_OK ? CS_OK : gz_error(t, "inflateReset failed", err);
    }
}

/* Up to `want` decompressed bytes into dst; *got = 0 only at the end. */
static int gz_inflate(cs_textin *t, unsigned char *dst, size_t want, size_t *got, cs_err *err)
{
    gz_reader *g = t->gz;
    g->z.next_out = dst;
    g->z.avail_out = (uInt)(want > UINT_MAX ? UINT_MAX : want);
    uInt asked = g->z.avail_out;
    while (g->z.avail_out == asked && !g->done) {
        int rc = g->member_end ? gz_next_member(t, err) : gz_refill(t, err);
        if (rc != CS_OK)
            return rc;
        if (g->done)
            break;
        if (g->z.avail_in == 0 && g->file_eof)
            return gz_error(t, "unexpected end of file", err);
        int zr = inflate(&g->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            g->member_end = 1;
        else if (zr == Z_MEM_ERROR)
            return cs_err_set(err, CS_ENOMEM, "%s: out of memory in zlib", t->path);
        else if (zr != Z_OK && zr != Z_BUF_ERROR)
            return gz_error(t, g->z.msg ? g->z.msg : "invalid data", err);
    }
    *got = asked - g->z.avail_out;
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
        size_t n = 0;
        if (gz_inflate(t, (unsigned char *)t->buf + t->hi, want, &n, err) != CS_OK)
            return err->code;
        got = (long)n;
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
    if (t->gz) {
        if (t->gz->live)
            inflateEnd(&t->gz->z);
        free(t->gz->in);
        free(t->gz);
    }
    free(t->buf);
    free(t);
}
