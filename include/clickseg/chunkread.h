/* chunkread.h — direct reads of an archive column's stored chunks.
 *
 * HDF5 reads a Fletcher32-checksummed chunk into a scratch buffer, checks
 * it with a byte-at-a-time loop, then copies the rows out. For the common
 * archive (1-D chunked columns, no filter or Fletcher32 alone, the file's
 * type equal to the native one: what generate and import write), this
 * module reads each stored chunk itself (H5Dread_chunk) straight into the
 * caller's buffer when the whole chunk is wanted, and checks it with a
 * checksum that computes the same value several bytes at a time. A chunk
 * needed in part goes through a one-chunk buffer that the next read (the
 * next window starts where this one ended) takes its rows from. Anything
 * else (other filters, conversions, chunks never written) is left to
 * H5Dread: chunkread_rows says so and the caller falls back. Called by
 * archive.c's reader. */
#ifndef CLICKSEG_CHUNKREAD_H
#define CLICKSEG_CHUNKREAD_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "clickseg/error.h"

typedef struct cs_chunk_reader {
    int usable;             /* 0: every read goes through H5Dread */
    int checksum;           /* chunks end in a 4-byte Fletcher32 */
    size_t esize;           /* bytes a row */
    uint64_t chunk_rows, nrows;
    uint8_t *buf;           /* the last chunk read in part, checked */
    uint64_t buf_chunk;     /* its index, UINT64_MAX when none */
    uint64_t map_checked;   /* the last chunk checked in a mapping, UINT64_MAX none */
    int in_map;             /* chunks may be viewed in the mapped file (chunkread_set_map) */
} cs_chunk_reader;

/* Decides whether dset (read into mem_type) can be read chunk by chunk;
 * never fails (a dataset it cannot handle is simply not usable). */
void chunkread_open(cs_chunk_reader *cr, hid_t dset, hid_t mem_type);
void chunkread_close(cs_chunk_reader *cr);

/* Whether chunkread_map_chunk may find dset's chunks in a mapping of the
 * file `file` (the one the caller opened and maps): not when dset lives in
 * another file (an external link), nor behind a user block (where HDF5's
 * chunk addresses start depends on its version). Until it is called, every
 * chunk is a fallback. */
void chunkread_set_map(cs_chunk_reader *cr, hid_t dset, hid_t file);

/* Reads rows [start, start + count) into dst. Returns CS_OK, an error
 * (CS_EINPUT naming `path`, `what` and the rows, for a chunk whose
 * checksum fails or that cannot be read), or CHUNKREAD_FALLBACK when this
 * range must go through H5Dread (nothing is then promised about dst). */
#define CHUNKREAD_FALLBACK 1000
int chunkread_rows(cs_chunk_reader *cr, hid_t dset, uint64_t start, uint64_t count, void *dst,
                   const char *path, const char *what, cs_err *err);

/* Zero-copy: *rows = the first row of stored chunk k of dset inside map
 * (the whole file, map_len bytes, mapped read-only), its Fletcher32
 * checked unless it was the last chunk checked. Returns CS_OK, an error as
 * chunkread_rows, or CHUNKREAD_FALLBACK when the chunk is not stored as a
 * plain (or Fletcher32-only) whole chunk inside the mapping. */
int chunkread_map_chunk(cs_chunk_reader *cr, hid_t dset, const uint8_t *map, uint64_t map_len,
                        uint64_t k, const uint8_t **rows, const char *path, const char *what,
                        cs_err *err);

/* Asks the kernel to start reading chunk k (as chunkread_map_chunk would
 * map it) into the page cache, without waiting; nothing for a chunk stored
 * otherwise. Advice only: archive_willneed reads a rank's next part ahead
 * with it. */
void chunkread_willneed(const cs_chunk_reader *cr, hid_t dset, const uint8_t *map,
                        uint64_t map_len, uint64_t k);

/* HDF5's Fletcher32 of len bytes (16-bit big-endian words, sums folded
 * every 360 words), bit for bit: 16 words a step where the CPU has AVX2,
 * else 8 (SSE2) or 1. */
uint32_t cs_fletcher32(const void *data, size_t len);

/* The same without AVX2, and whether cs_fletcher32 uses AVX2 here: for the
 * tests, which check both paths. */
uint32_t cs_fletcher32_sse2(const void *data, size_t len);
int cs_fletcher32_avx2_available(void);

#endif
