/* merge_report.c — the runs' report.h5 files added up on rank 0 for
 * `clickseg merge` (merge.c calls it once per run): totals, segment
 * statistics, period rows, histograms (format-3 ones widened), the
 * currency and the user dictionaries, each checked against the runs
 * before. */
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/h5util.h"
#include "clickseg/report.h"
#include "clickseg/period.h"

#include "merge_priv.h"

/* Reads all `want` values of dataset `name` (any shape) as int64. */
static int read_all_i64(hid_t f, const char *path, const char *name, int64_t *buf,
                        uint64_t want, cs_err *err)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(err, CS_EINPUT, "%s: no dataset %s (a report from an older clickseg? "
                       "rerun it)", path, name);
    hid_t s = H5Dget_space(d);
    uint64_t n = (uint64_t)H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    herr_t rc = n != want ? 0 : n ? H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
    H5Dclose(d);
    if (n != want)
        return cs_err_set(err, CS_EINPUT, "%s: %s has %" PRIu64 " values, expected %" PRIu64,
                          path, name, n, want);
    return rc < 0 ? h5_fail(err, CS_EINPUT, "%s: reading %s", path, name) : CS_OK;
}

/* Number of rows of a 1-D dataset, or -1. */
int64_t merge_rows_of(hid_t f, const char *name)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    int64_t n = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    H5Dclose(d);
    return n;
}

static int add_periods(merge_ctx *x, hid_t f, const char *path, int src, cs_err *err)
{
    static const char *const fields[PS_NFIELDS] = {"periods/sessions", "periods/users",
        "periods/events", "periods/purchase_sessions", "periods/revenue", "periods/refunds"};
    int nseg = x->st.nseg;
    int64_t rows = merge_rows_of(f, "periods/key");
    if (rows < 0 || rows % nseg)
        return cs_err_set(err, CS_EINPUT, "%s: no usable periods/key (a report from an older "
                          "clickseg? rerun it)", path);
    int64_t *v = cs_malloc((size_t)(rows + 1) * (PS_NFIELDS + 1) * sizeof *v, err, "periods");
    if (!v)
        return CS_ENOMEM;
    int rc = read_all_i64(f, path, "periods/key", v, (uint64_t)rows, err);
    for (int k = 0; rc == CS_OK && k < PS_NFIELDS; k++)
        rc = read_all_i64(f, path, fields[k], v + (k + 1) * rows, (uint64_t)rows, err);
    for (int64_t i = 0; rc == CS_OK && i < rows / nseg; i++) {
        int64_t key = v[i * nseg];
        for (int j = 0; j < x->nseen; j++)
            if (x->seen_key[j] == key) {
                char label[32];
                period_label(x->cfg->report_period, key, label, sizeof label);
                rc = cs_err_set(err, CS_EINPUT, "period %s is in the reports of both %s and %s: "
                                "its distinct users cannot be added up; merge runs whose "
                                "inputs do not share a %s", label, x->o->inputs[x->seen_src[j]],
                                x->o->inputs[src], period_name(x->cfg->report_period));
            }
        int64_t *row = rc == CS_OK ? stats_period_row(&x->st, key, err) : NULL;
        if (rc == CS_OK && !row)
            rc = CS_ENOMEM;
        for (int s = 0; rc == CS_OK && s < nseg; s++)
            for (int k = 0; k < PS_NFIELDS; k++)
                row[s * PS_NFIELDS + k] += v[(k + 1) * rows + i * nseg + s];
        if (rc == CS_OK) {
            int64_t *sk = cs_realloc(x->seen_key, (size_t)(x->nseen + 1) * sizeof *sk, err, "periods");
            if (sk)
                x->seen_key = sk;
            int *ss = sk ? cs_realloc(x->seen_src, (size_t)(x->nseen + 1) * sizeof *ss, err, "periods") : NULL;
            if (!ss)
                rc = CS_ENOMEM;
            else {
                x->seen_src = ss;
                x->seen_key[x->nseen] = key;
                x->seen_src[x->nseen++] = src;
            }
        }
    }
    free(v);
    return rc;
}

/* Adds a report's histogram (h 0: durations, 1: events) to the merge's,
 * through buf (room for CS_MAX_SEGMENTS * CS_HIST_BINS values). A report
 * before format 4 has 64 bins a segment (stats.h): converted, with a note
 * when its last bin held values, which the merged quantiles then count at
 * 114,688-131,071 (the old report did not keep them). */
static int add_hist(merge_ctx *x, hid_t f, const char *path, int h, int64_t *buf, cs_err *err)
{
    const char *name = h ? "segments/hist_events" : "segments/hist_duration_s";
    int nseg = x->st.nseg;
    int64_t n = merge_rows_of(f, name), bins = n == (int64_t)nseg * CS_HIST_BINS_V3 ? CS_HIST_BINS_V3
                                                                              : CS_HIST_BINS;
    int rc = read_all_i64(f, path, name, buf, (uint64_t)nseg * (uint64_t)bins, err);
    int64_t lost = 0, conv[CS_HIST_BINS];
    for (int s = 0; rc == CS_OK && s < nseg; s++) {
        const int64_t *row = buf + (size_t)s * (size_t)bins;
        if (bins == CS_HIST_BINS_V3) {
            lost += stats_hist_from_v3(row, conv);
            row = conv;
        }
        int64_t *to = h ? x->st.seg[s].hist_events : x->st.seg[s].hist_duration;
        for (int b = 0; b < CS_HIST_BINS; b++)
            to[b] += row[b];
    }
    if (lost)
        fprintf(stderr, "clickseg merge: note: %s is a report of an older clickseg whose "
                "histograms stop at 114,688: %lld of its sessions with more %s count as "
                "114,688-131,071 in the merged quantiles (rerun it for exact ones)\n", path,
                (long long)lost, h ? "events" : "seconds");
    return rc;
}

/* Notes the run's user dictionaries (one path a line: a merged report
 * lists its runs'), each path once. */
static int add_dictionary(merge_ctx *x, hid_t f, cs_err *err)
{
    char *list = cs_malloc(CS_DICT_LIST_MAX, err, "dictionary list");
    if (!list)
        return CS_ENOMEM;
    hid_t g = H5Gopen2(f, "run", H5P_DEFAULT);
    int got = g >= 0 && h5_attr_get_string(g, "dictionaries", list, CS_DICT_LIST_MAX) == 1;
    if (g >= 0)
        H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    int rc = CS_OK;
    for (char *d = got ? list : NULL, *nl; rc == CS_OK && d && *d; d = nl ? nl + 1 : NULL) {
        if ((nl = strchr(d, '\n')))
            *nl = '\0';
        int known = !*d;
        for (int i = 0; !known && i < x->ndicts; i++)
            known = strcmp(x->dicts[i], d) == 0;
        if (known)
            continue;
        char (*p)[PATH_MAX] = cs_realloc(x->dicts, (size_t)(x->ndicts + 1) * sizeof *p, err,
                                         "dictionary list");
        if (!p) {
            rc = CS_ENOMEM;
            break;
        }
        x->dicts = p;
        snprintf(x->dicts[x->ndicts++], sizeof *p, "%s", d);
    }
    free(list);
    return rc;
}

int merge_add_report(merge_ctx *x, int src, cs_err *err)
{
    static const char *const totals[] = {"rows_read", "events", "late_events", "rejected_events",
        "sessions", "bot_sessions", "bot_events", "users", "purchase_sessions", "revenue", "refunds"};
    static const char *const segf[] = {"sessions", "users", "events", "purchase_sessions",
        "purchases", "revenue", "refunds", "cart_sessions", "abandoned_cart_sessions",
        "duration_s_sum", "product_view_sessions", "checkout_sessions"};
    char path[CS_PATH_MAX + 20], fmt[32] = "", hash[32] = "", want[32], name[64];
    snprintf(path, sizeof path, "%s/report.h5", x->o->inputs[src]);
    if (access(path, R_OK) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: no report.h5 (not the output directory of a "
                          "finished clickseg run?)", x->o->inputs[src]);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return h5_fail(err, CS_EINPUT, "%s: cannot open", path);
    snprintf(want, sizeof want, "%016" PRIx64, config_hash(x->cfg));
    int rc = CS_OK, nseg = x->st.nseg;
    if (h5_attr_get_string(f, "format", fmt, sizeof fmt) != 1 || strcmp(fmt, "clickseg-report"))
        rc = cs_err_set(err, CS_EINPUT, "%s: not a clickseg report", path);
    else if (h5_attr_get_string(f, "config_hash", hash, sizeof hash) != 1)
        rc = cs_err_set(err, CS_EINPUT, "%s: no config_hash (a report from an older "
                        "clickseg? rerun it)", path);
    else if (strcmp(hash, want) != 0)
        rc = cs_err_set(err, CS_ECONFIG, "%s was made with another configuration (config hash "
                        "%s, this merge %s): give merge the runs' config (-c, --set)", path,
                        hash, want);
    char cur[16] = "";
    if (rc == CS_OK && h5_attr_get_string(f, "currency", cur, sizeof cur) == 1 && cur[0]) {
        if (x->currency[0] && strcmp(cur, x->currency) != 0)
            rc = cs_err_set(err, CS_EINPUT, "%s: currency is %s, but %s's is %s; amounts in "
                            "different currencies cannot be summed", path, cur,
                            x->o->inputs[x->currency_src], x->currency);
        else if (!x->currency[0]) {
            memcpy(x->currency, cur, sizeof x->currency);
            x->currency_src = src;
        }
    }
    int64_t v[CS_MAX_SEGMENTS * CS_HIST_BINS];
    int64_t *tot = &x->st.tot.rows_read;   /* cs_totals is a flat run of int64 in this order */
    for (size_t i = 0; rc == CS_OK && i < sizeof totals / sizeof *totals; i++) {
        snprintf(name, sizeof name, "totals/%s", totals[i]);
        rc = read_all_i64(f, path, name, v, 1, err);
        if (rc == CS_OK)
            tot[i] += v[0];
    }
    for (size_t k = 0; rc == CS_OK && k < sizeof segf / sizeof *segf; k++) {
        snprintf(name, sizeof name, "segments/%s", segf[k]);
        rc = read_all_i64(f, path, name, v, (uint64_t)nseg, err);
        for (int s = 0; rc == CS_OK && s < nseg; s++)
            (&x->st.seg[s].sessions)[k] += v[s];
    }
    for (int h = 0; rc == CS_OK && h < 2; h++)
        rc = add_hist(x, f, path, h, v, err);
    if (rc == CS_OK)
        rc = add_periods(x, f, path, src, err);
    if (rc == CS_OK)
        rc = add_dictionary(x, f, err);
    H5Fclose(f);
    return rc;
}
