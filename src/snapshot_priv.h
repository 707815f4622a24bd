/* snapshot_priv.h — private to snapshot.c and snapshot_read.c (not a
 * public header): the file's format name and version and what writing and
 * reading share. */
#ifndef CLICKSEG_SNAPSHOT_PRIV_H
#define CLICKSEG_SNAPSHOT_PRIV_H

#include <hdf5.h>
#include <stddef.h>

#include "clickseg/comm.h"
#include "clickseg/users.h"

#define SNAP_FORMAT "clickseg-snapshot"
/* The buffer a large dataset (users, sessions) is written and read
 * through, a block at a time. */
#define SNAP_BLOCK_BYTES ((uint64_t)4 << 20)

#define SNAP_VERSION 2   /* 2: unfinished sessions in `open`, no longer inside `users` */

/* A user as a snapshot holds it: the entry and the counters of segments
 * past CS_HOT_SEGMENTS (zeros when the rules have no more), so a file does
 * not depend on how the table splits them. */
typedef struct snap_user {
    cs_user u;   /* first: shuffle_route routes by u.user_id */
    cs_user_seg more[CS_MORE_SEGMENTS];
} snap_user;

/* The struct sizes and constants a snapshot's records depend on, as text:
 * a file whose signature differs is refused. */
void snap_layout_signature(char *buf, size_t n);
/* The same with cs_segstat of segstat_size bytes: the signature of
 * snapshots whose histograms had 64 bins, which are read and converted
 * (a --state chain outlives clickseg upgrades). */
void snap_layout_signature_segstat(char *buf, size_t n, size_t segstat_size);

/* An HDF5 opaque type of `size` bytes tagged `tag` (one record struct). */
hid_t snap_rec_type(const char *tag, size_t size);

/* The checksum of records [0, n) at buf (size bytes each, the first being
 * row `row0` of its dataset): the XOR of a hash of each record's bytes and
 * row number. A dataset's checksum is the XOR over the ranks' slabs, the
 * same whatever rows each rank wrote or reads; it is stored as the
 * dataset's `checksum` attribute, so a damaged snapshot is refused on
 * resume instead of giving a wrong report. */
uint64_t snap_rows_checksum(const void *buf, size_t size, uint64_t n, uint64_t row0);

/* Collective: the file at path, created (truncated) or opened read-only,
 * through MPI-IO on c's communicator; negative on failure. */
hid_t snap_open_file(const cs_comm *c, const char *path, int create);

#endif
