/* plan.c — file order, windows and per-rank row ranges (see plan.h). */
#include "clickseg/plan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/event.h"
#include "clickseg/fsutil.h"
#include "clickseg/numfmt.h"

static int valid_ts(int64_t t)
{
    return t >= 0 && t <= CS_TS_MAX;
}

int64_t plan_order_key(int64_t first, int64_t mid, int64_t last)
{
    int64_t v[3];
    int n = 0;
    if (valid_ts(first)) v[n++] = first;
    if (valid_ts(mid)) v[n++] = mid;
    if (valid_ts(last)) v[n++] = last;
    if (n == 0)
        return first;
    if (n < 3)
        return n == 2 && v[1] < v[0] ? v[1] : v[0];
    int64_t lo = v[0] < v[1] ? v[0] : v[1], hi = v[0] < v[1] ? v[1] : v[0];
    return v[2] < lo ? lo : v[2] > hi ? hi : v[2];
}

/* Files by their order key: a straggler first row would otherwise put a
 * whole file out of place and make the rows of the files it jumped late. */
static int cmp_file(const void *pa, const void *pb)
{
    const cs_plan_file *a = pa, *b = pb;
    if (a->ts_key != b->ts_key)
        return a->ts_key < b->ts_key ? -1 : 1;
    if (a->ts_first != b->ts_first)
        return a->ts_first < b->ts_first ? -1 : 1;
    if (a->ts_last != b->ts_last)
        return a->ts_last < b->ts_last ? -1 : 1;
    /* By real path: the order (which decides equal times of one user, and
     * which rows are late) must not follow how the inputs were spelled
     * ("./logs/b.h5" sorted before "logs/a.h5"). Only ties get here. */
    char ra[PATH_MAX], rb[PATH_MAX];
    const char *qa = realpath(a->path, ra) ? ra : a->path;
    const char *qb = realpath(b->path, rb) ? rb : b->path;
    int c = strcmp(qa, qb);
    return c ? c : strcmp(a->path, b->path);
}

int plan_build(const cs_file_info *info, int n, int64_t memory_per_rank,
               uint64_t bytes_per_event, uint64_t window_rows_per_rank, int nranks, cs_plan *plan, cs_err *err)
{
    memset(plan, 0, sizeof *plan);
    plan->files = cs_calloc((size_t)(n ? n : 1), sizeof *plan->files, err, "plan");
    plan->profiles = cs_calloc((size_t)(n ? n : 1), sizeof *plan->profiles, err, "plan");
    if (!plan->files || !plan->profiles)
        return CS_ENOMEM;
    for (int i = 0; i < n; i++) {
        if (info[i].has_customers) {
            cs_plan_file *p = &plan->profiles[plan->nprofiles++];
            memcpy(p->path, info[i].path, sizeof p->path);
            p->rows = info[i].customer_rows;
        }
        if (!info[i].has_events) {
            plan->nprofile_only++;
            continue;
        }
        if (info[i].rows == 0)
            continue;
        if (info[i].currency[0] && plan->currency[0] &&
            strcmp(info[i].currency, plan->currency) != 0) {
            int rc = cs_err_set(err, CS_EINPUT, "%s: currency is %s, but another input file's is "
                                "%s; amounts in different currencies cannot be summed",
                                info[i].path, info[i].currency, plan->currency);
            plan_free(plan);
            return rc;
        }
        if (info[i].currency[0])
            memcpy(plan->currency, info[i].currency, sizeof plan->currency);
        cs_plan_file *f = &plan->files[plan->nfiles++];
        memcpy(f->path, info[i].path, sizeof f->path);
        f->rows = info[i].rows;
        f->ts_first = info[i].ts_first;
        f->ts_last = info[i].ts_last;
        f->ts_mid = info[i].ts_mid;
        f->ts_key = plan_order_key(f->ts_first, f->ts_mid, f->ts_last);
        f->bytes = info[i].file_bytes;
    }
    qsort(plan->files, (size_t)plan->nfiles, sizeof *plan->files, cmp_file);
    /* Files with the same order key are adjacent now; a copy matches in
     * all, and is the same bytes (files sharded by user can share the rest). */
    for (int i = 0; i < plan->nfiles; i++)
        for (int j = i + 1; j < plan->nfiles && plan->files[j].ts_key == plan->files[i].ts_key; j++) {
            const cs_plan_file *a = &plan->files[i], *b = &plan->files[j];
            int same = 0, rc = CS_OK;
            if (a->rows == b->rows && a->bytes == b->bytes && a->ts_first == b->ts_first &&
                a->ts_last == b->ts_last)
                rc = fs_same_bytes(a->path, b->path, &same, err);
            if (rc == CS_OK && same)
                rc = cs_err_set(err, CS_EINPUT, "%s and %s are copies of each other (the same "
                                "bytes, %llu rows each): their events would be counted twice; "
                                "remove one from the inputs", a->path, b->path,
                                (unsigned long long)a->rows);
            if (rc != CS_OK) {
                plan_free(plan);
                return rc;
            }
        }
    for (int i = 0; i < plan->nfiles; i++) {
        plan->files[i].row0 = plan->total_rows;
        plan->total_rows += plan->files[i].rows;
    }
    /* A quarter of the budget stays for the user table the first windows
     * fill; later windows are cut into parts as it grows (run.c). */
    uint64_t per_rank = window_rows_per_rank
                            ? window_rows_per_rank
                            : (uint64_t)memory_per_rank / 4 * 3 / bytes_per_event;
    if (per_rank < CS_MIN_WINDOW_ROWS)
        per_rank = CS_MIN_WINDOW_ROWS;
    plan->window_rows = per_rank * (uint64_t)nranks;
    plan->nwindows = plan->total_rows ? (plan->total_rows + plan->window_rows - 1) / plan->window_rows : 1;
    return CS_OK;
}

/* The latest valid time among a file's first, middle and last rows. */
static int64_t file_end(const cs_plan_file *f)
{
    int64_t e = -1;
    const int64_t t[3] = {f->ts_first, f->ts_mid, f->ts_last};
    for (int k = 0; k < 3; k++)
        if (valid_ts(t[k]) && t[k] > e)
            e = t[k];
    return e;
}

int plan_overlaps(const cs_plan *plan, int64_t lateness, int *a, int *b, int64_t *by)
{
    int n = 0, ahead = -1;
    int64_t end = -1;   /* file_end of `ahead` */
    *by = 0;
    for (int i = 0; i < plan->nfiles; i++) {
        const cs_plan_file *f = &plan->files[i];
        if (!valid_ts(f->ts_key))
            continue;
        /* valid times: no overflow below */
        if (ahead >= 0 && f->ts_key < end && end - f->ts_key > lateness) {
            n++;
            if (end - f->ts_key > *by) {
                *by = end - f->ts_key;
                *a = ahead;
                *b = i;
            }
        }
        int64_t e = file_end(f);
        if (e > end) {
            end = e;
            ahead = i;
        }
    }
    return n;
}

int plan_overlap_note(const cs_plan *plan, int64_t lateness, char *buf, size_t n)
{
    int a = 0, b = 0;
    int64_t by = 0;
    int k = plan_overlaps(plan, lateness, &a, &b, &by);
    char d[32], l[32];
    if (k)
        snprintf(buf, n, "%d input file(s) overlap in time with a file ahead of them by more than "
                 "session.max_lateness (%s), e.g. the middle row of %s is %s older than the end "
                 "of %s; files are read one after another in time order, so half their rows or "
                 "more will count as late_events, and past max_late_share of all rows the run "
                 "stops (are they split by user rather than by time?)",
                 k, fmt_duration(l, sizeof l, (double)lateness / 1e6), plan->files[b].path,
                 fmt_duration(d, sizeof d, (double)by / 1e6), plan->files[a].path);
    return k;
}

void plan_free(cs_plan *plan)
{
    free(plan->files);
    free(plan->profiles);
    memset(plan, 0, sizeof *plan);
}

void plan_skip(cs_plan *plan, uint64_t start_row)
{
    if (start_row > plan->total_rows)
        start_row = plan->total_rows;
    uint64_t left = plan->total_rows - start_row;
    plan->start_row = start_row;
    plan->nwindows = left ? (left + plan->window_rows - 1) / plan->window_rows : 1;
}

void plan_part_range(const cs_plan *plan, uint64_t w, uint64_t part, uint64_t nparts, int r,
                     int nranks, uint64_t *start, uint64_t *count)
{
    uint64_t a = plan->start_row + w * plan->window_rows, b = a + plan->window_rows;
    if (a > plan->total_rows) a = plan->total_rows;
    if (b > plan->total_rows) b = plan->total_rows;
    uint64_t pa = a + (b - a) * part / nparts, pb = a + (b - a) * (part + 1) / nparts;
    uint64_t m = pb - pa;
    uint64_t lo = pa + m * (uint64_t)r / (uint64_t)nranks;
    uint64_t hi = pa + m * (uint64_t)(r + 1) / (uint64_t)nranks;
    *start = lo;
    *count = hi - lo;
}

void plan_rank_range(const cs_plan *plan, uint64_t w, int r, int nranks,
                     uint64_t *start, uint64_t *count)
{
    plan_part_range(plan, w, 0, 1, r, nranks, start, count);
}

int plan_file_of(const cs_plan *plan, uint64_t row)
{
    int lo = 0, hi = plan->nfiles - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (plan->files[mid].row0 <= row) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

int plan_bcast(const cs_comm *c, cs_plan *plan, cs_err *err)
{
    cs_plan head = *plan;
    int rc = comm_bcast(c, &head, sizeof head, err);
    if (rc != CS_OK)
        return rc;
    if (c->rank != 0) {
        head.files = cs_calloc((size_t)(head.nfiles ? head.nfiles : 1), sizeof *head.files,
                               err, "plan");
        head.profiles = cs_calloc((size_t)(head.nprofiles ? head.nprofiles : 1),
                                  sizeof *head.profiles, err, "plan");
        if (!head.files || !head.profiles)
            cs_err_set(err, CS_ENOMEM, "out of memory for the plan (%d files)", head.nfiles);
    }
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    rc = comm_bcast(c, head.files, (size_t)head.nfiles * sizeof *head.files, err);
    if (rc == CS_OK)
        rc = comm_bcast(c, head.profiles, (size_t)head.nprofiles * sizeof *head.profiles, err);
    *plan = head;
    return rc;
}
