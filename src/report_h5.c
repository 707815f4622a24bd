/* report_h5.c — report.h5 (rank 0): the summary tables as column
 * datasets that h5py and pandas read directly. The parallel customers.h5
 * and sessions.h5 tables are in report_tables.c. */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/h5util.h"
#include "clickseg/period.h"
#include "clickseg/report.h"

int report_write_h5(const char *dir, const cs_config *cfg, const cs_stats *st,
                    const cs_ranking *rk, const cs_run_meta *meta, cs_err *err);
int report_rank_h5(hid_t file, const cs_config *cfg, const cs_ranking *r, cs_err *err);

/* ---- report.h5 (rank 0 only, plain HDF5) ---- */

static int col_i64(hid_t g, const char *name, const int64_t *v, uint64_t n, cs_err *err)
{
    return h5_write_column(g, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v, n, err);
}

static int col_str(hid_t g, const char *name, const char *v, size_t width, uint64_t n, cs_err *err)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, width);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    int rc = h5_write_column(g, name, t, t, v, n, err);
    H5Tclose(t);
    return rc;
}

static int h5_totals(hid_t f, const cs_totals *t, cs_err *err)
{
    hid_t g = h5_group_create(f, "totals");
    const char *names[] = {"rows_read", "events", "late_events", "rejected_events", "sessions",
                           "bot_sessions", "bot_events", "users", "purchase_sessions",
                           "revenue", "refunds"};
    const int64_t *v = &t->rows_read;   /* cs_totals is a flat run of int64 in this order */
    int rc = CS_OK;
    for (size_t i = 0; rc == CS_OK && i < sizeof names / sizeof names[0]; i++)
        rc = col_i64(g, names[i], v + i, 1, err);
    H5Gclose(g);
    return rc;
}

static int col_f64(hid_t g, const char *name, const double *v, uint64_t n, cs_err *err)
{
    return h5_write_column(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, n, err);
}

/* Derived per-segment columns: the same doubles as report.json's. */
static int h5_segment_rates(hid_t g, const cs_config *cfg, const cs_stats *st, cs_err *err)
{
    int n = st->nseg, rc = CS_OK;
    double v[CS_MAX_SEGMENTS];
    const char *names[] = {"share", "conversion", "cart_abandonment", "mean_duration_s",
                           "mean_events"};
    for (size_t k = 0; rc == CS_OK && k < sizeof names / sizeof names[0]; k++) {
        for (int s = 0; s < n; s++) {
            const cs_segstat *q = &st->seg[s];
            v[s] = k == 0 ? stats_share(st, s, cfg->rules.bot_segment)
                 : k == 1 ? stats_ratio(q->purchase_sessions, q->sessions)
                 : k == 2 ? stats_ratio(q->abandoned_cart_sessions, q->cart_sessions)
                 : k == 3 ? stats_ratio(q->duration_s_sum, q->sessions)
                          : stats_ratio(q->events, q->sessions);
        }
        rc = col_f64(g, names[k], v, (uint64_t)n, err);
    }
    static const double qs[3] = {0.5, 0.9, 0.99};
    static const char *const qn[3] = {"p50", "p90", "p99"};
    int64_t iv[CS_MAX_SEGMENTS];
    for (int h = 0; rc == CS_OK && h < 2; h++)
        for (int k = 0; rc == CS_OK && k < 3; k++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%s", h ? "events" : "duration_s", qn[k]);
            for (int s = 0; s < n; s++)
                iv[s] = stats_quantile(h ? st->seg[s].hist_events : st->seg[s].hist_duration, qs[k]);
            rc = col_i64(g, name, iv, (uint64_t)n, err);
        }
    for (int s = 0; s < n; s++)
        iv[s] = s != cfg->rules.bot_segment;
    if (rc == CS_OK)
        rc = col_i64(g, "business", iv, (uint64_t)n, err);
    return rc;
}

/* A [segments][CS_HIST_BINS] int64 dataset of one histogram of cs_segstat. */
static int hist_i64(hid_t g, const char *name, const cs_stats *st, size_t off, cs_err *err)
{
    int64_t v[CS_MAX_SEGMENTS * CS_HIST_BINS];
    for (int s = 0; s < st->nseg; s++)
        memcpy(v + s * CS_HIST_BINS, (const char *)&st->seg[s] + off, sizeof(int64_t) * CS_HIST_BINS);
    hsize_t d[2] = {(hsize_t)st->nseg, CS_HIST_BINS};
    hid_t sp = H5Screate_simple(2, d, NULL);
    hid_t ds = H5Dcreate2(g, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : (st->nseg ? H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return rc < 0 ? h5_fail(err, CS_EIO, "report.h5: writing %s", name) : CS_OK;
}

static int h5_segments(hid_t f, const cs_config *cfg, const cs_stats *st, cs_err *err)
{
    hid_t g = h5_group_create(f, "segments");
    int n = st->nseg, rc = CS_OK;
    char names[CS_MAX_SEGMENTS][CS_SEGMENT_NAME_MAX];
    memcpy(names, cfg->rules.segments, sizeof names);
    rc = col_str(g, "name", &names[0][0], CS_SEGMENT_NAME_MAX, (uint64_t)n, err);
    /* cs_segstat's leading int64 fields, in struct order */
    const char *fields[] = {"sessions", "users", "events", "purchase_sessions", "purchases",
                            "revenue", "refunds", "cart_sessions", "abandoned_cart_sessions",
                            "duration_s_sum", "product_view_sessions", "checkout_sessions"};
    int64_t v[CS_MAX_SEGMENTS];
    for (size_t k = 0; rc == CS_OK && k < sizeof fields / sizeof fields[0]; k++) {
        for (int s = 0; s < n; s++)
            v[s] = (&st->seg[s].sessions)[k];
        rc = col_i64(g, fields[k], v, (uint64_t)n, err);
    }
    if (rc == CS_OK)
        rc = h5_segment_rates(g, cfg, st, err);
    /* The histograms behind the quantiles, so reports can be merged exactly. */
    if (rc == CS_OK)
        rc = hist_i64(g, "hist_duration_s", st, offsetof(cs_segstat, hist_duration), err);
    if (rc == CS_OK)
        rc = hist_i64(g, "hist_events", st, offsetof(cs_segstat, hist_events), err);
    H5Gclose(g);
    return rc;
}

static int h5_periods(hid_t f, const cs_config *cfg, const cs_stats *st, cs_err *err)
{
    uint64_t rows = st->nperiods * (uint64_t)st->nseg;
    hid_t g = h5_group_create(f, "periods");
    char *label = cs_calloc(rows + 1, 16, err, "report.h5 periods");
    char *segn = cs_calloc(rows + 1, CS_SEGMENT_NAME_MAX, err, "report.h5 periods");
    int64_t *v = cs_calloc(rows + 1, sizeof *v, err, "report.h5 periods");
    int rc = label && segn && v ? CS_OK : CS_ENOMEM;
    for (uint64_t i = 0; rc == CS_OK && i < st->nperiods; i++)
        for (int s = 0; s < st->nseg; s++) {
            uint64_t r = i * (uint64_t)st->nseg + (uint64_t)s;
            period_label(cfg->report_period, st->pkeys[i], label + r * 16, 16);
            snprintf(segn + r * CS_SEGMENT_NAME_MAX, CS_SEGMENT_NAME_MAX, "%s", cfg->rules.segments[s]);
        }
    if (rc == CS_OK) rc = col_str(g, "period", label, 16, rows, err);
    for (uint64_t r = 0; rc == CS_OK && r < rows; r++)
        v[r] = st->pkeys[r / (uint64_t)st->nseg];
    if (rc == CS_OK) rc = col_i64(g, "key", v, rows, err);
    if (rc == CS_OK) rc = col_str(g, "segment", segn, CS_SEGMENT_NAME_MAX, rows, err);
    const char *fields[PS_NFIELDS] = {"sessions", "users", "events", "purchase_sessions",
                                      "revenue", "refunds"};
    for (int k = 0; rc == CS_OK && k < PS_NFIELDS; k++) {
        for (uint64_t r = 0; r < rows; r++)
            v[r] = st->prow[r * PS_NFIELDS + (uint64_t)k];
        rc = col_i64(g, fields[k], v, rows, err);
    }
    free(label); free(segn); free(v);
    H5Gclose(g);
    return rc;
}

/* /config: what the run was configured with (attributes). */
static int h5_config(hid_t f, const cs_config *cfg, const cs_run_meta *m, cs_err *err)
{
    hid_t g = h5_group_create(f, "config");
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)m->config_hash);
    int rc = g < 0 ? h5_fail(err, CS_EIO, "report.h5: creating /config") : CS_OK;
    if (rc == CS_OK) rc = h5_attr_string(g, "source", cfg->source_path[0] ? cfg->source_path : "(defaults)", err);
    if (rc == CS_OK) rc = h5_attr_string(g, "hash", hash, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "session_gap_s", cfg->session_gap_us / 1000000, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "session_max_duration_s", cfg->session_max_duration_us / 1000000, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "session_max_lateness_s", cfg->session_max_lateness_us / 1000000, err);
    if (rc == CS_OK) rc = h5_attr_string(g, "session_mode", cfg->session_mode == SESSION_SOURCE ? "source" : "gap", err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "memory_per_rank", cfg->memory_per_rank, err);
    if (rc == CS_OK) rc = h5_attr_string(g, "report_period", period_name(cfg->report_period), err);
    if (rc == CS_OK) rc = h5_attr_string(g, "report_timezone", cfg->report_timezone, err);
    if (rc == CS_OK) rc = h5_attr_string(g, "report_currency", cfg->report_currency, err);
    if (g >= 0) H5Gclose(g);
    return rc;
}

/* /run: the run's metadata (attributes) and per-phase times (columns). */
int report_meta_add_dictionary(cs_run_meta *m, const char *path)
{
    size_t at = strlen(m->dictionaries), n = strlen(path);
    if (at + (at ? 1 : 0) + n + 1 > sizeof m->dictionaries)
        return 0;
    snprintf(m->dictionaries + at, sizeof m->dictionaries - at, "%s%s", at ? "\n" : "", path);
    return 1;
}

static int h5_run(hid_t f, const cs_run_meta *m, cs_err *err)
{
    hid_t g = h5_group_create(f, "run");
    int rc = g < 0 ? h5_fail(err, CS_EIO, "report.h5: creating /run") : CS_OK;
    if (rc == CS_OK) rc = h5_attr_int64(g, "ranks", m->ranks, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "files", m->files, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "rows", (int64_t)m->total_rows, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "windows", (int64_t)m->windows, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "passes", (int64_t)m->passes, err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "shuffle_bytes", (int64_t)m->shuffle_bytes, err);
    if (rc == CS_OK) rc = h5_attr_string(g, "shuffle", m->shuffle[0] ? m->shuffle : "none", err);
    if (rc == CS_OK) rc = h5_attr_int64(g, "window_rows", (int64_t)m->window_rows, err);
    if (rc == CS_OK) rc = h5_attr_double(g, "wall_s", m->wall_s, err);
    if (rc == CS_OK) rc = h5_attr_string(g, "finished_utc", m->started_utc, err);
    if (rc == CS_OK) rc = h5_attr_double(g, "peak_rss_mib_max", m->peak_rss_kb_max / 1024.0, err);
    if (rc == CS_OK) rc = h5_attr_double(g, "peak_rss_mib_rank0", m->peak_rss_kb_rank0 / 1024.0, err);
    if (rc == CS_OK) rc = h5_attr_string(g, "inputs", m->inputs, err);
    if (rc == CS_OK && m->run_id[0]) rc = h5_attr_string(g, "run_id", m->run_id, err);
    if (rc == CS_OK && m->dictionaries[0])
        rc = h5_attr_string(g, "dictionaries", m->dictionaries, err);
    char names[PH_N][16] = {{0}};   /* NUL-padded strings: no uninitialised bytes on disk */
    for (int p = 0; p < PH_N; p++)
        snprintf(names[p], sizeof names[p], "%s", timer_phase_name(p));
    if (rc == CS_OK) rc = col_str(g, "phase", &names[0][0], 16, PH_N, err);
    if (rc == CS_OK) rc = col_f64(g, "seconds", m->phase_s, PH_N, err);
    if (rc == CS_OK) rc = col_f64(g, "seconds_fastest", m->phase_s_fastest, PH_N, err);
    if (g >= 0) H5Gclose(g);
    return rc;
}

/* Writes the n bytes of an in-memory HDF5 file to path: a full disk is a
 * failed write() here, which HDF5 never sees. */
static int write_image(const char *path, const void *buf, size_t n, cs_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return cs_err_set(err, CS_EIO, "%s: cannot create: %s", path, strerror(errno));
    const char *p = buf;
    int rc = CS_OK;
    while (n > 0 && rc == CS_OK) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = cs_err_set(err, CS_EIO, "%s: write failed (disk full?): %s", path,
                            strerror(w < 0 ? errno : ENOSPC));
        else
            p += w, n -= (size_t)w;
    }
    if (close(fd) != 0 && rc == CS_OK)
        rc = cs_err_set(err, CS_EIO, "%s: write failed: %s", path, strerror(errno));
    if (rc != CS_OK)
        unlink(path);
    return rc;
}

int report_write_h5(const char *dir, const cs_config *cfg, const cs_stats *st,
                    const cs_ranking *rk, const cs_run_meta *meta, cs_err *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/report.h5", dir);
    /* Built in memory (the core driver, no backing store) and written out
     * as one image: HDF5 1.10 writes a file's metadata in its close, and
     * a close that fails on a full disk leaves a file id that MPI_Finalize
     * closes again and crashes on (h5util.h h5_close_file). The report is
     * small (kilobytes to a few megabytes). */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return h5_fail(err, CS_EIO, "%s: cannot set up the in-memory file", path);
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return h5_fail(err, CS_EIO, "%s: cannot create", path);
    int rc = h5_attr_string(f, "format", "clickseg-report", err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "version", CS_REPORT_VERSION, err);
    if (rc == CS_OK) rc = h5_attr_int64(f, "ranks", meta->ranks, err);
    if (rc == CS_OK) rc = h5_attr_string(f, "period", period_name(cfg->report_period), err);
    if (rc == CS_OK) rc = h5_attr_string(f, "timezone", cfg->report_timezone, err);
    if (rc == CS_OK)
        rc = h5_attr_string(f, "currency", cfg->report_currency[0] ? cfg->report_currency
                                                                   : meta->currency, err);
    if (rc == CS_OK) rc = h5_config(f, cfg, meta, err);
    if (rc == CS_OK) rc = h5_run(f, meta, err);
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)meta->config_hash);
    if (rc == CS_OK) rc = h5_attr_string(f, "config_hash", hash, err);
    if (rc == CS_OK) rc = h5_totals(f, &st->tot, err);
    if (rc == CS_OK) rc = h5_segments(f, cfg, st, err);
    if (rc == CS_OK) rc = h5_periods(f, cfg, st, err);
    if (rc == CS_OK) rc = report_rank_h5(f, cfg, rk, err);
    ssize_t n = rc == CS_OK && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0 ? H5Fget_file_image(f, NULL, 0)
                                                                   : -1;
    void *img = n > 0 ? cs_malloc((size_t)n, err, "report.h5's image") : NULL;
    if (rc == CS_OK && n > 0 && !img)
        rc = CS_ENOMEM;
    else if (rc == CS_OK && (!img || H5Fget_file_image(f, img, (size_t)n) != n))
        rc = h5_fail(err, CS_EIO, "%s: cannot take the in-memory file's image", path);
    if (H5Fclose(f) < 0 && rc == CS_OK)
        rc = h5_fail(err, CS_EIO, "%s: closing", path);
    if (rc == CS_OK)
        rc = write_image(path, img, (size_t)n, err);
    free(img);
    return rc;
}
