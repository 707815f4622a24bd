/* archive.h — the HDF5 clickstream archive, format v1 (docs/archive-format.md).
 *
 * Readers: plan (rank 0) scans each file's schema and row count; every rank
 * reads row ranges of the needed columns with archive_read_range, converted
 * to the native types below (narrower or wider integer types are accepted,
 * a value that does not fit is an error). Writers: generate (and tests) create
 * files in parallel with archive_create / archive_write_rows.
 * Reading uses plain HDF5 (each rank opens read-only on its own); writing
 * uses the MPI-IO driver and collective transfers. */
#ifndef CLICKSEG_ARCHIVE_H
#define CLICKSEG_ARCHIVE_H

#include <stdint.h>

#include <mpi.h>

#include "clickseg/error.h"

#define CS_ARCHIVE_VERSION 1

/* The event columns, in the order of cs_columns. */
enum cs_column {
    COL_TS = 0,       /* int64, required */
    COL_USER_ID,      /* uint64, required */
    COL_EVENT_TYPE,   /* uint8 or enum, required */
    COL_PRODUCT_ID,   /* uint64, optional */
    COL_CATEGORY_ID,  /* uint32, optional */
    COL_BRAND_ID,     /* uint32, optional */
    COL_PRICE,        /* int64, optional */
    COL_SESSION_ID,   /* uint64, optional */
    COL_NCOLUMNS
};

/* Dataset name of a column ("ts", "user_id", ...). */
const char *archive_column_name(int col);

/* Column arrays for `n` rows; a NULL pointer means "not wanted". */
typedef struct cs_columns {
    int64_t *ts;
    uint64_t *user_id;
    uint8_t *event_type;
    uint64_t *product_id;
    uint32_t *category_id;
    uint32_t *brand_id;
    int64_t *price;
    uint64_t *session_id;
} cs_columns;

/* What a scan learns about one file. */
typedef struct cs_file_info {
    char path[1024];
    int has_events;            /* has group /events */
    int has_customers;         /* has group /customers */
    int has_dictionaries;      /* has group /dictionaries (import's id texts) */
    uint64_t rows;             /* rows of /events (0 when none) */
    uint64_t customer_rows;
    int present[COL_NCOLUMNS]; /* column exists */
    char type_desc[COL_NCOLUMNS][48]; /* e.g. "int64", "uint8 enum", "int32" */
    uint64_t chunk_rows[COL_NCOLUMNS]; /* 0 = contiguous */
    char filters[COL_NCOLUMNS][40]; /* e.g. "fletcher32", "shuffle+deflate"; "" = none */
    int64_t ts_first, ts_last; /* ts of the first and last row (rows > 0) */
    int64_t ts_mid;            /* ts of row rows / 2: the plan orders files by it */
    int64_t file_bytes;
    char currency[16];         /* /events attribute `currency` ("" when absent) */
} cs_file_info;

/* Opens `path` read-only and checks the format: /events with ts, user_id,
 * event_type as 1-D integer datasets of equal length, optional columns of
 * integer type and the same length, event_type an integer or an enum whose
 * member names are format v1's. A file with only /customers is valid (a
 * profile table), and so is one with only /dictionaries (the text behind
 * imported ids, dictionaries.h5; readers skip it). On error returns
 * CS_EINPUT naming the file and dataset. */
int archive_scan(const char *path, cs_file_info *info, cs_err *err);

/* An open file for reading ranges; cached by the caller across windows. */
typedef struct cs_archive_reader cs_archive_reader;

int archive_reader_open(const char *path, cs_archive_reader **out, cs_err *err);
void archive_reader_close(cs_archive_reader *r);

/* Reads rows [start, start+count) of every wanted column of `cols`, writing
 * at cols->X[0..count). Missing optional columns are filled with 0. A value
 * that does not fit the native type, or an enum value outside format v1,
 * is CS_EINPUT naming the file, dataset and row range. */
int archive_read_range(cs_archive_reader *r, uint64_t start, uint64_t count,
                       const cs_columns *cols, cs_err *err);

/* The element types of viewed rows. A stored chunk starts wherever HDF5
 * placed it in the file, with no alignment: the 4 checksum bytes after
 * each Fletcher32 chunk put every other chunk of an 8-byte column 4 bytes
 * off an 8-byte boundary. Reading such rows through int64_t pointers is
 * undefined (and a compiler may use aligned vector loads on them): these
 * types have alignment 1, loads through them are plain loads on x86. */
typedef int64_t cs_i64u __attribute__((aligned(1)));
typedef uint64_t cs_u64u __attribute__((aligned(1)));
typedef uint32_t cs_u32u __attribute__((aligned(1)));

/* cs_columns, read-only and of any alignment (a NULL column is not wanted). */
typedef struct cs_colview {
    const cs_i64u *ts;
    const cs_u64u *user_id;
    const uint8_t *event_type;
    const cs_u64u *product_id;
    const cs_u32u *category_id;
    const cs_u32u *brand_id;
    const cs_i64u *price;
    const cs_u64u *session_id;
} cs_colview;

/* Rows [row0, row0 + n) of a window, as column pointers valid for those n
 * rows. */
typedef struct cs_colseg {
    uint64_t row0, n;
    cs_colview c;
} cs_colseg;

/* A growing list of segments (v[0..n), room for cap). */
typedef struct cs_colsegs {
    cs_colseg *v;
    uint64_t n, cap;
} cs_colsegs;

#define ARCHIVE_VIEW_FALLBACK 1000   /* CHUNKREAD_FALLBACK */

/* Zero-copy read: appends to segs rows [start, start + count) of the
 * columns in `want` (bits 1u << COL_x) as pointers into a read-only
 * mapping of the file, one segment per stored chunk, numbered from row0
 * on; each chunk is checked (Fletcher32) as archive_read_range checks it.
 * The pointers stay valid until the reader is closed. Returns
 * ARCHIVE_VIEW_FALLBACK, with segs as it was, when some wanted column is
 * absent or not stored as plain native chunks of one common row count
 * (archive_read_range then reads the range); CS_EINPUT for a chunk that
 * fails its checksum. */
int archive_view_range(cs_archive_reader *r, uint64_t start, uint64_t count, unsigned want,
                       uint64_t row0, cs_colsegs *segs, cs_err *err);

/* Asks the kernel to start reading rows [start, start + count) of the
 * columns in `want` (their stored chunks) into the page cache, and returns
 * without waiting: run calls it for a rank's next part while it works on
 * the current one, so a cold archive's reads overlap the work instead of
 * following it. Advisory only: a range it cannot map or locate is left to
 * the read itself, which reports any problem. */
void archive_willneed(cs_archive_reader *r, uint64_t start, uint64_t count, unsigned want);

/* Drops this process's page mappings of the rows archive_view_range gave
 * (their pointers must no longer be used): the rows stay in the page
 * cache, but no longer count in the process's resident memory, which
 * memory_per_rank and the job's accounting see. */
void archive_release_views(cs_archive_reader *r);

/* HyperLogLog registers of distinct user ids (standard error about 0.8%). */
#define CS_HLL_BITS 14
#define CS_HLL_M (1u << CS_HLL_BITS)

/* Scans the whole file in blocks: exact ts min/max, rows out of time order
 * (and of them, those run would count late when the file comes after rows
 * whose newest used ts is prior_max: INT64_MIN for none, the file read
 * alone), event-type counts and invalid types; used by inspect. */
typedef struct cs_file_stats {
    int64_t ts_min, ts_max;
    int64_t used_ts_min, used_ts_max;   /* of the rows run uses (INT64_MAX/MIN: none) */
    uint64_t out_of_order;          /* rows run uses whose ts is before the newest ts of
                                     * the rows run uses before them */
    uint64_t late;                  /* of them, more than lateness_us before it */
    uint64_t type_counts[8];
    uint64_t bad_types;             /* event_type > 7 */
    uint64_t negative_ts;
    uint64_t far_future_ts;         /* ts > CS_TS_MAX (after 9999-12-31) */
    uint64_t bad_prices;            /* |price| > CS_PRICE_MAX */
    uint64_t rejected;              /* rows run rejects: any of the four above */
    uint64_t distinct_users_est;    /* estimate (HyperLogLog-style) */
    uint8_t users_hll[CS_HLL_M];    /* its registers: merged across files by inspect */
} cs_file_stats;
int archive_file_stats(const char *path, int64_t lateness_us, int64_t prior_max,
                       cs_file_stats *st, cs_err *err);

/* The distinct users that HyperLogLog registers estimate; into gets the
 * registers of the union of its users and reg's (max a register). */
uint64_t archive_hll_estimate(const uint8_t *reg);
void archive_hll_merge(uint8_t *into, const uint8_t *reg);

/* ---- writing (parallel, collective) ---- */

typedef struct cs_archive_writer cs_archive_writer;

/* Collective: creates `path` (truncating) with /events datasets of
 * `total_rows` rows, all columns, chunked; attributes of format v1. The
 * disk space the file will take is set aside first (h5_reserve): on a
 * full disk this is CS_EIO, "not enough space", before HDF5 writes.
 * Flags: CS_ARCHIVE_TRUTH adds /truth/intent (uint8) for generated
 * archives; CS_ARCHIVE_CHECKSUM gives every chunk a Fletcher32 checksum
 * (a filter: such files are written collectively, every rank calling
 * archive_write_rows the same number of times). */
#define CS_ARCHIVE_TRUTH 1
#define CS_ARCHIVE_CHECKSUM 2
struct cs_comm;
int archive_create(const struct cs_comm *c, const char *path, uint64_t total_rows,
                   int flags, cs_archive_writer **out, cs_err *err);

/* Collective: every rank calls it (count may be 0); writes rows
 * [offset, offset+count) of every column (and truth when given). */
int archive_write_rows(cs_archive_writer *w, uint64_t offset, uint64_t count,
                       const cs_columns *cols, const uint8_t *truth,
                       cs_err *err);

/* Rows a chunk of a file of `total_rows` rows holds (archive_create's
 * layout). With checksums a write that covers part of a chunk reads the
 * chunk back first, so writers that can cut their rounds at chunk
 * boundaries do (import). */
uint64_t archive_chunk_rows(uint64_t total_rows);

/* Collective: sets (or replaces) a string attribute of /events, e.g. the
 * currency or where the events came from. */
int archive_set_attr(cs_archive_writer *w, const char *name, const char *value, cs_err *err);

/* Collective: sets the ts range attributes and closes. err comes in with
 * this rank's failure so far (CS_OK: none): after a failed write on any
 * rank the file is closed without its attributes and emptied first, so
 * HDF5's close finds the room its metadata needs (h5_close_file: on a full
 * disk a failed close crashed MPI_Finalize). */
int archive_close(const struct cs_comm *c, cs_archive_writer *w, int64_t ts_min,
                  int64_t ts_max, cs_err *err);

/* Collective: writes a profile table /customers (user_id, gender, age_band,
 * region) into a new file; each rank passes its contiguous share. Its
 * space is set aside first and it is closed as archive_close closes. */
int archive_write_profiles(const struct cs_comm *c, const char *path, uint64_t total,
                           uint64_t offset, uint64_t count,
                           const uint64_t *user_id, const uint8_t *gender,
                           const uint8_t *age_band, const uint8_t *region,
                           cs_err *err);

#endif
