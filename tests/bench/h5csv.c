/* h5csv.c — writes the events of an archive as one CSV file, for the
 * benchmark's peers: DuckDB converts it to Parquet, and `clickseg import`
 * (format csv, tests/bench/import-csv.cfg) reads it back.
 *
 *   bench_h5csv -o OUT.csv FILE|DIR...
 *
 * Columns, with a header line: ts (microseconds since 1970, UTC), user_id,
 * event_type (the format v1 code 0..7; an enum is mapped by member name),
 * product_id, category_id, brand_id, price (minor units), session_id; a
 * missing optional column is written as 0. Files are taken in path order
 * (the time order of generated archives), rows in file order, so the CSV
 * row number is clickseg's global row index. Serial, no MPI; written to
 * OUT.csv.tmp and renamed when complete. Not timed by the benchmark. */
#define _POSIX_C_SOURCE 200809L   /* strdup */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#define NCOLS 8
#define MAX_FILES 4096
#define BLOCK ((hsize_t)1 << 20)

static const char *const col_names[NCOLS] = { "ts", "user_id", "event_type", "product_id",
                                              "category_id", "brand_id", "price",
                                              "session_id" };
static const char *const type_names[8] = { "page_view", "product_view", "search", "add_to_cart",
                                           "remove_from_cart", "checkout", "purchase",
                                           "refund" };

/* Prints "bench_h5csv: WHERE: WHAT" and exits with the input-error code. */
static void fail(const char *where, const char *what)
{
    fprintf(stderr, "bench_h5csv: %s: %s\n", where, what);
    exit(4);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
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

/* Expands files and directories (every *.h5 with /events) into files[]. */
static int collect(char **inputs, int n, char **files)
{
    int nf = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(inputs[i], &st) != 0)
            fail(inputs[i], "no such file or directory");
        if (!S_ISDIR(st.st_mode)) {
            if (nf >= MAX_FILES)
                fail(inputs[i], "too many files");
            files[nf++] = strdup(inputs[i]);
            continue;
        }
        DIR *d = opendir(inputs[i]);
        if (!d)
            fail(inputs[i], "cannot read directory");
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            char full[1100];
            if (len < 4 || strcmp(e->d_name + len - 3, ".h5") != 0)
                continue;
            snprintf(full, sizeof full, "%s/%s", inputs[i], e->d_name);
            if (has_events(full) && nf < MAX_FILES)
                files[nf++] = strdup(full);
        }
        closedir(d);
    }
    qsort(files, (size_t)nf, sizeof files[0], cmp_str);
    return nf;
}

/* Decimal digits of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

/* Code (0..7) of each raw value of a uint8-based enum, by member name;
 * 255 for a value that is no member or names no v1 type. */
static void enum_map(hid_t t, const char *path, uint8_t map[256])
{
    if (H5Tget_size(t) != 1)
        fail(path, "/events/event_type is an enum wider than 1 byte (not supported here)");
    for (int v = 0; v < 256; v++) {
        unsigned char raw = (unsigned char)v;
        char name[64];
        map[v] = 255;
        herr_t rc;
        H5E_BEGIN_TRY {
            rc = H5Tenum_nameof(t, &raw, name, sizeof name);
        } H5E_END_TRY;
        if (rc < 0)
            continue;
        for (int k = 0; k < 8; k++)
            if (strcmp(name, type_names[k]) == 0)
                map[v] = (uint8_t)k;
    }
}

typedef struct cols {
    int64_t *v[NCOLS];       /* ts and price read as int64 */
    uint8_t *raw_type;       /* event_type as stored (enum) */
} cols;

/* Reads rows [at, at+n) of column c (0 where the column is absent). */
static void read_col(hid_t f, const char *path, int c, hsize_t at, hsize_t n, cols *b,
                     const uint8_t *map, int is_enum)
{
    char name[64];
    snprintf(name, sizeof name, "/events/%s", col_names[c]);
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
        if (c <= 2)
            fail(path, "a required column is missing");
        memset(b->v[c], 0, n * sizeof(int64_t));
        return;
    }
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t fs = H5Dget_space(d);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &n, NULL);
    hid_t ms = H5Screate_simple(1, &n, NULL);
    herr_t rc;
    if (c == 2 && is_enum) {
        hid_t t = H5Dget_type(d);
        rc = H5Dread(d, t, ms, fs, H5P_DEFAULT, b->raw_type);
        H5Tclose(t);
        for (hsize_t i = 0; i < n; i++)
            b->v[c][i] = map[b->raw_type[i]];
    } else {
        hid_t mt = (c == 0 || c == 6) ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64;
        rc = H5Dread(d, mt, ms, fs, H5P_DEFAULT, b->v[c]);
    }
    if (rc < 0)
        fail(path, "cannot read a column");
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
}

/* Appends one file's rows to out. */
static unsigned long long write_file(const char *path, FILE *out, cols *b, char *text)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        fail(path, "cannot open HDF5 file");
    hid_t d = H5Dopen2(f, "/events/ts", H5P_DEFAULT);
    if (d < 0)
        fail(path, "no /events/ts");
    hid_t s = H5Dget_space(d);
    hsize_t rows = 0;
    H5Sget_simple_extent_dims(s, &rows, NULL);
    H5Sclose(s);
    H5Dclose(d);
    uint8_t map[256];
    hid_t et = H5Dopen2(f, "/events/event_type", H5P_DEFAULT);
    hid_t t = et >= 0 ? H5Dget_type(et) : -1;
    int is_enum = t >= 0 && H5Tget_class(t) == H5T_ENUM;
    if (is_enum)
        enum_map(t, path, map);
    if (t >= 0) H5Tclose(t);
    if (et >= 0) H5Dclose(et);
    for (hsize_t at = 0; at < rows; at += BLOCK) {
        hsize_t n = rows - at < BLOCK ? rows - at : BLOCK;
        for (int c = 0; c < NCOLS; c++)
            read_col(f, path, c, at, n, b, map, is_enum);
        char *p = text;
        for (hsize_t i = 0; i < n; i++) {
            p = put_i64(p, b->v[0][i]);
            for (int c = 1; c < NCOLS; c++) {
                *p++ = ',';
                p = c == 6 ? put_i64(p, b->v[c][i]) : put_u64(p, (uint64_t)b->v[c][i]);
            }
            *p++ = '\n';
        }
        if (fwrite(text, 1, (size_t)(p - text), out) != (size_t)(p - text))
            fail("output", "write error (disk full?)");
    }
    H5Fclose(f);
    return rows;
}

int main(int argc, char **argv)
{
    const char *outpath = NULL;
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: bench_h5csv -o OUT.csv FILE|DIR...\n\n"
               "Writes the archive's events (files in path order) as CSV with the header\n"
               "ts,user_id,event_type,product_id,category_id,brand_id,price,session_id\n"
               "(ts in microseconds, event_type as code 0..7, price in minor units).\n");
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "-o") == 0) {
        outpath = argv[2];
        first = 3;
    }
    if (!outpath || first >= argc) {
        fprintf(stderr, "bench_h5csv: usage: bench_h5csv -o OUT.csv FILE|DIR... (see --help)\n");
        return 2;
    }
    static char *files[MAX_FILES];
    int nf = collect(argv + first, argc - first, files);
    if (nf == 0)
        fail(argv[first], "no event files");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", outpath);
    FILE *out = fopen(tmp, "w");
    if (!out)
        fail(tmp, "cannot create");
    cols b;
    for (int c = 0; c < NCOLS; c++)
        b.v[c] = malloc(BLOCK * sizeof(int64_t));
    b.raw_type = malloc(BLOCK);
    char *text = malloc(BLOCK * (NCOLS * 21 + 1));
    if (!text || !b.raw_type)
        fail("buffers", "out of memory");
    fprintf(out, "ts,user_id,event_type,product_id,category_id,brand_id,price,session_id\n");
    unsigned long long total = 0;
    for (int i = 0; i < nf; i++)
        total += write_file(files[i], out, &b, text);
    if (fclose(out) != 0 || rename(tmp, outpath) != 0)
        fail(outpath, "cannot finish the output");
    printf("bench_h5csv: %llu rows from %d file(s) to %s\n", total, nf, outpath);
    for (int c = 0; c < NCOLS; c++)
        free(b.v[c]);
    free(b.raw_type);
    free(text);
    for (int i = 0; i < nf; i++)
        free(files[i]);
    return 0;
}
