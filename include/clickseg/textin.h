/* textin.h — reading text inputs line by line, in parallel.
 *
 * textin_plan cuts the inputs among ranks: plain files by byte ranges of
 * equal size (a range owns the lines that start in it, so a rank whose
 * range starts mid-line skips to the next line boundary and the previous
 * rank finishes that line), gzip files whole, to one rank each (a gzip
 * stream cannot be entered in the middle). textin_open/next then read one
 * range. Lines come without their '\n' (and a '\r' before it); a UTF-8
 * byte-order mark at the start of a file is dropped. Called by import on
 * every rank; plain POSIX and zlib, no MPI. */
#ifndef CLICKSEG_TEXTIN_H
#define CLICKSEG_TEXTIN_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/error.h"

#define TEXTIN_MAX_LINE (64 << 20)   /* a longer line is an error */

/* One byte range of one input: lines starting in [start, end). */
typedef struct textin_seg {
    int file;
    int64_t start, end;
} textin_seg;

/* The segments of `rank` among nranks, in input order (at most one per
 * file); returns how many. bytes[i] is file i's size, gzip[i] whether it
 * is compressed (whole files then, weighted 4x for balance). */
int textin_plan(const int64_t *bytes, const int *gzip, int nfiles, int rank, int nranks,
                textin_seg *seg);

/* 1 when the file starts with the gzip magic bytes; -1 (err set,
 * CS_EINPUT) when it cannot be opened or is not a regular file (a
 * directory, a pipe, a device). *bytes = size. */
int textin_probe(const char *path, int64_t *bytes, cs_err *err);

typedef struct cs_textin cs_textin;

/* Opens a range (for gzip: start must be 0, end is ignored). CS_EINPUT
 * when the file cannot be opened. */
int textin_open(const char *path, int gzip, int64_t start, int64_t end, cs_textin **out,
                cs_err *err);

/* The next line of the range: 1 with *line (not terminated) and *len;
 * 0 at the end; -1 on a read error, corrupt or truncated gzip data, or a
 * line over TEXTIN_MAX_LINE (err set, naming the file). */
int textin_next(cs_textin *t, const char **line, size_t *len, cs_err *err);

/* Offset of the last line returned (decompressed offset for gzip). */
int64_t textin_offset(const cs_textin *t);

void textin_close(cs_textin *t);

#endif
