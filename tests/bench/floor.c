/* floor.c — the I/O floor of the benchmark: the least any program can spend
 * to get the columns of an archive that `clickseg run` needs into memory.
 *
 *   mpirun -n N bench_floor [--columns LIST] [--block-rows N] [--check] FILE|DIR...
 *
 * Each rank takes its contiguous share of the rows of all event files (in
 * path order, the files concatenated) and reads them with plain HDF5
 * hyperslab reads, the way clickseg reads: every rank opens the files
 * read-only with the default (sec2) driver, independently, one H5Dread per
 * column per block into buffers allocated and touched before the clock
 * starts. Each column is read in its stored type (no conversion), so this
 * is a lower bound for any reader. The time inside the program (file opens
 * included), maximum over ranks, and events/s are printed by rank 0 on one
 * `key=value` line that tests/bench/bench.sh parses.
 *
 * Deliberately standalone (HDF5 and MPI only, no clickseg code): it is the
 * reference clickseg is measured against, so it must not share its code.
 * bench.sh runs it; tests/e2e/test_bench.sh checks its sums (--check)
 * against h5py. */
#define _POSIX_C_SOURCE 200809L   /* strdup */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <hdf5.h>
#include <mpi.h>

/* The columns the benchmarked job reads: a default `clickseg run` (gap
 * sessions, the shipped rules, which count no distinct products, categories
 * or brands) reads these four and no other, and so does the DuckDB peer's
 * SQL. The issue named six (with product_id and category_id); reading
 * columns the job does not read would only make the floor slower and the
 * ratio to it look better. A job that reads ids (rules on distinct ids,
 * --sessions) or session ids (session.mode = "source") is measured
 * against a floor of those columns with --columns. */
static const char *const default_columns = "ts,user_id,event_type,price";
static const char *const known_columns[] = { "ts", "user_id", "event_type", "product_id",
                                             "category_id", "brand_id", "price", "session_id" };
#define NKNOWN ((int)(sizeof known_columns / sizeof known_columns[0]))
#define MAX_FILES 4096

typedef struct floor_opts {
    int ncols;
    const char *cols[NKNOWN];
    hsize_t block_rows;
    int check;
    int nfiles;
    char *files[MAX_FILES];
} floor_opts;

static int g_rank;

/* Prints once (rank 0) and ends every rank: the same arguments and files
 * reach every rank, so every rank takes the same path to here. */
static void die(int code, const char *what)
{
    if (g_rank == 0)
        fprintf(stderr, "bench_floor: %s\n", what);
    MPI_Finalize();
    exit(code);
}

/* Aborts all ranks: used where only this rank failed (a read error). */
#define CHECK_H5(call, what)                                                       \
    do {                                                                           \
        if ((call) < 0) {                                                          \
            fprintf(stderr, "bench_floor: rank %d: %s failed (%s:%d)\n", g_rank,   \
                    what, __FILE__, __LINE__);                                     \
            MPI_Abort(MPI_COMM_WORLD, 4);                                          \
        }                                                                          \
    } while (0)

static void usage(void)
{
    if (g_rank == 0)
        printf("usage: mpirun -n N bench_floor [--columns LIST] [--block-rows N] [--check] "
               "FILE|DIR...\n\n"
               "Reads each rank's contiguous share of the rows of the archive's event files\n"
               "(directories: every *.h5 with an /events group; files in path order) with\n"
               "plain HDF5 hyperslab reads into preallocated buffers, and prints the time\n"
               "inside the program (max over ranks) and events/s: the I/O floor clickseg run\n"
               "is measured against (tests/bench/bench.sh, docs/benchmark.md).\n\n"
               "options:\n"
               "  --columns LIST    comma-separated columns (default %s;\n"
               "                    also product_id, category_id, brand_id, session_id)\n"
               "  --block-rows N    rows per H5Dread per column (default 2097152, between the\n"
               "                    rows a rank reads per window under the default\n"
               "                    memory_per_rank with 48- and with 24-byte records)\n"
               "  --check           also print wrapping uint64 sums of every column read\n"
               "  -h, --help        this help\n", default_columns);
}

static int is_known(const char *c)
{
    for (int i = 0; i < NKNOWN; i++)
        if (strcmp(known_columns[i], c) == 0)
            return 1;
    return 0;
}

static int has_events(const char *path)
{
    int yes = 0;
    H5E_BEGIN_TRY {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f >= 0) {
            yes = H5Lexists(f, "events", H5P_DEFAULT) > 0;
            H5Fclose(f);
        }
    } H5E_END_TRY;
    return yes;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_file(floor_opts *o, const char *path)
{
    if (o->nfiles >= MAX_FILES)
        die(2, "too many files");
    o->files[o->nfiles++] = strdup(path);
}

/* A directory adds every *.h5 inside with an /events group (profiles.h5
 * has none), as clickseg's --input DIR does. */
static void add_input(floor_opts *o, const char *path)
{
    struct stat st;
    char msg[1200];
    if (stat(path, &st) != 0) {
        snprintf(msg, sizeof msg, "%s: no such file or directory", path);
        die(4, msg);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(o, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(msg, sizeof msg, "%s: cannot read directory", path);
        die(4, msg);
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".h5") != 0)
            continue;
        char full[1100];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (has_events(full))
            add_file(o, full);
    }
    closedir(d);
}

static void parse_args(int argc, char **argv, floor_opts *o)
{
    static char colbuf[256];
    const char *cols = default_columns;
    o->block_rows = 2097152;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            MPI_Finalize();
            exit(0);
        } else if (strcmp(a, "--columns") == 0 && i + 1 < argc) {
            cols = argv[++i];
        } else if (strcmp(a, "--block-rows") == 0 && i + 1 < argc) {
            char *end;
            long long v = strtoll(argv[++i], &end, 10);
            if (*end || v < 1)
                die(2, "--block-rows: expected a positive integer");
            o->block_rows = (hsize_t)v;
        } else if (strcmp(a, "--check") == 0) {
            o->check = 1;
        } else if (a[0] == '-') {
            usage();
            die(2, "unknown option (see --help)");
        } else {
            add_input(o, a);
        }
    }
    if (o->nfiles == 0)
        die(2, "no event files given (see --help)");
    qsort(o->files, (size_t)o->nfiles, sizeof o->files[0], cmp_str);
    snprintf(colbuf, sizeof colbuf, "%s", cols);
    for (char *t = strtok(colbuf, ","); t; t = strtok(NULL, ",")) {
        if (!is_known(t) || o->ncols >= NKNOWN) {
            char msg[300];
            snprintf(msg, sizeof msg, "--columns: unknown or repeated column '%s'", t);
            die(2, msg);
        }
        o->cols[o->ncols++] = t;
    }
    if (o->ncols == 0)
        die(2, "--columns: no column named");
}

/* Rows of /events/ts of one file (the plan: every rank reads the sizes). */
static hsize_t file_rows(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK_H5(f, path);
    hid_t d = H5Dopen2(f, "/events/ts", H5P_DEFAULT);
    CHECK_H5(d, "H5Dopen2 /events/ts");
    hid_t s = H5Dget_space(d);
    hsize_t n = 0;
    CHECK_H5(H5Sget_simple_extent_dims(s, &n, NULL), "H5Sget_simple_extent_dims");
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    return n;
}

/* Adds a block's values to the check sum (unsigned, wrapping). */
static uint64_t block_sum(const unsigned char *p, size_t elem, hsize_t n)
{
    uint64_t s = 0;
    for (hsize_t i = 0; i < n; i++) {
        uint64_t v = 0;
        switch (elem) {
        case 1: v = p[i]; break;
        case 2: { uint16_t x; memcpy(&x, p + 2 * i, 2); v = x; } break;
        case 4: { uint32_t x; memcpy(&x, p + 4 * i, 4); v = x; } break;
        default: memcpy(&v, p + 8 * i, 8); break;
        }
        s += v;
    }
    return s;
}

typedef struct floor_state {
    unsigned char *buf[NKNOWN];  /* block_rows elements each, touched before timing */
    size_t elem[NKNOWN];         /* stored element size of each column */
    uint64_t sum[NKNOWN];
    uint64_t bytes;
} floor_state;

/* Reads rows [lo, hi) of one file, every wanted column, block by block. */
static void read_file(const floor_opts *o, floor_state *s, const char *path,
                      hsize_t lo, hsize_t hi)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK_H5(f, path);
    for (int c = 0; c < o->ncols; c++) {
        char name[64];
        snprintf(name, sizeof name, "/events/%s", o->cols[c]);
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        CHECK_H5(d, name);
        hid_t ft = H5Dget_type(d);
        hid_t mt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
        CHECK_H5(mt, "H5Tget_native_type");
        if (H5Tget_size(mt) != s->elem[c]) {
            fprintf(stderr, "bench_floor: %s: %s has %zu-byte elements, expected %zu\n", path,
                    name, H5Tget_size(mt), s->elem[c]);
            MPI_Abort(MPI_COMM_WORLD, 4);
        }
        hid_t fs = H5Dget_space(d);
        for (hsize_t at = lo; at < hi; at += o->block_rows) {
            hsize_t n = hi - at < o->block_rows ? hi - at : o->block_rows;
            CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &n, NULL),
                     "H5Sselect_hyperslab");
            hid_t ms = H5Screate_simple(1, &n, NULL);
            CHECK_H5(H5Dread(d, mt, ms, fs, H5P_DEFAULT, s->buf[c]), name);
            H5Sclose(ms);
            s->bytes += n * s->elem[c];
            if (o->check)
                s->sum[c] += block_sum(s->buf[c], s->elem[c], n);
        }
        H5Sclose(fs);
        H5Tclose(mt);
        H5Tclose(ft);
        H5Dclose(d);
    }
    H5Fclose(f);
}

/* Stored element size of each wanted column, from the first file. */
static void column_sizes(const floor_opts *o, floor_state *s)
{
    hid_t f = H5Fopen(o->files[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK_H5(f, o->files[0]);
    for (int c = 0; c < o->ncols; c++) {
        char name[64];
        snprintf(name, sizeof name, "/events/%s", o->cols[c]);
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        CHECK_H5(d, name);
        hid_t t = H5Dget_type(d);
        s->elem[c] = H5Tget_size(t);
        H5Tclose(t);
        H5Dclose(d);
    }
    H5Fclose(f);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    static floor_opts o;
    parse_args(argc, argv, &o);

    floor_state s;
    memset(&s, 0, sizeof s);
    column_sizes(&o, &s);
    for (int c = 0; c < o.ncols; c++) {
        s.buf[c] = malloc(o.block_rows * s.elem[c]);
        if (!s.buf[c])
            die(6, "out of memory for the read buffers (lower --block-rows)");
        memset(s.buf[c], 0, o.block_rows * s.elem[c]);   /* first touch outside the clock */
    }

    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    static hsize_t rows[MAX_FILES];
    hsize_t total = 0;
    for (int i = 0; i < o.nfiles; i++) {
        rows[i] = file_rows(o.files[i]);
        total += rows[i];
    }
    hsize_t lo = total * (hsize_t)g_rank / (hsize_t)nranks;
    hsize_t hi = total * (hsize_t)(g_rank + 1) / (hsize_t)nranks;
    hsize_t row0 = 0;
    for (int i = 0; i < o.nfiles; i++) {
        hsize_t a = lo > row0 ? lo : row0, b = hi < row0 + rows[i] ? hi : row0 + rows[i];
        if (a < b)
            read_file(&o, &s, o.files[i], a - row0, b - row0);
        row0 += rows[i];
    }
    double mine = MPI_Wtime() - t0;

    double tmax;
    unsigned long long read_rows = hi - lo, all_rows, bytes = s.bytes, all_bytes;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = ru.ru_maxrss / 1024.0, rss_max;
    MPI_Reduce(&mine, &tmax, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&read_rows, &all_rows, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&bytes, &all_bytes, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&rss, &rss_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    uint64_t sums[NKNOWN];
    MPI_Reduce(s.sum, sums, NKNOWN, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);

    if (g_rank == 0) {
        printf("bench_floor: ranks=%d files=%d rows=%llu columns=", nranks, o.nfiles, all_rows);
        for (int c = 0; c < o.ncols; c++)
            printf("%s%s", c ? "," : "", o.cols[c]);
        printf(" bytes=%llu time_s=%.6f events_per_s=%.0f mib_per_s=%.1f peak_rss_mib_max=%.1f\n",
               all_bytes, tmax, tmax > 0 ? (double)all_rows / tmax : 0.0,
               tmax > 0 ? all_bytes / 1048576.0 / tmax : 0.0, rss_max);
        if (o.check) {
            printf("bench_floor: check");
            for (int c = 0; c < o.ncols; c++)
                printf(" sum_%s=%llu", o.cols[c], (unsigned long long)sums[c]);
            printf("\n");
        }
    }
    for (int c = 0; c < o.ncols; c++)
        free(s.buf[c]);
    for (int i = 0; i < o.nfiles; i++)
        free(o.files[i]);
    MPI_Finalize();
    return 0;
}
