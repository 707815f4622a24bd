/* test_plan_users.c — unit tests for plan.c and users.c: file order, dropped
 * empty and profile-only files, row offsets, window sizing from memory or
 * the override, every row read exactly once across ranks and windows
 * (bitmap) with balanced ranges, plan_file_of at the file boundaries; the
 * user table under growth (200000 ids), absent ids, and entries (with an
 * open session's id list) kept intact across growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/event.h"
#include "clickseg/plan.h"
#include "clickseg/users.h"

static cs_file_info event_file(const char *path, int64_t first, int64_t last, uint64_t rows)
{
    cs_file_info f;
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "%s", path);
    f.has_events = 1;
    f.rows = rows;
    f.ts_first = f.ts_mid = first;
    f.ts_last = last;
    return f;
}

/* The files of the ordering test, given out of time order. */
static int sample_files(cs_file_info *info)
{
    int n = 0;
    info[n++] = event_file("/d/z.h5", 100, 200, 1001);
    info[n++] = event_file("/d/a.h5", 50, 300, 7);
    info[n++] = event_file("/d/empty.h5", 0, 0, 0);
    memset(&info[n], 0, sizeof info[n]);
    snprintf(info[n].path, sizeof info[n].path, "/d/profiles.h5");
    info[n].has_customers = 1;
    info[n++].customer_rows = 100;
    info[n++] = event_file("/d/m.h5", 100, 200, 13);
    info[n++] = event_file("/d/b.h5", 100, 150, 500);
    info[n++] = event_file("/d/c.h5", -20, 10, 1);
    info[n] = event_file("/d/both.h5", 400, 500, 0);   /* events (empty) and profiles */
    info[n].has_customers = 1;
    info[n++].customer_rows = 250;
    return n;
}

static void test_plan_order(void **state)
{
    (void)state;
    cs_file_info info[8];
    int n = sample_files(info);
    cs_plan plan;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(plan_build(info, n, 256 * 100, CS_BYTES_PER_EVENT, 0, 3, &plan, &err), CS_OK);
    assert_int_equal(plan.nfiles, 5);
    /* profile tables: profiles.h5 (no events) and both.h5 (empty events) */
    assert_int_equal(plan.nprofiles, 2);
    assert_int_equal(plan.nprofile_only, 1);
    assert_string_equal(plan.profiles[0].path, "/d/profiles.h5");
    assert_int_equal(plan.profiles[0].rows, 100);
    assert_string_equal(plan.profiles[1].path, "/d/both.h5");
    assert_int_equal(plan.profiles[1].rows, 250);
    const char *want[] = {"/d/c.h5", "/d/a.h5", "/d/b.h5", "/d/m.h5", "/d/z.h5"};
    const uint64_t rows[] = {1, 7, 500, 13, 1001};
    const uint64_t row0[] = {0, 1, 8, 508, 521};
    const int64_t first[] = {-20, 50, 100, 100, 100}, last[] = {10, 300, 150, 200, 200};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(plan.files[i].path, want[i]);
        assert_int_equal(plan.files[i].rows, rows[i]);
        assert_int_equal(plan.files[i].row0, row0[i]);
        assert_int_equal(plan.files[i].ts_first, first[i]);
        assert_int_equal(plan.files[i].ts_last, last[i]);
    }
    assert_int_equal(plan.total_rows, 1522);
    /* 3/4 of 25600 bytes / 256 = 75 rows per rank, 3 ranks */
    assert_int_equal(plan.window_rows, 225);
    assert_int_equal(plan.nwindows, 7);   /* ceil(1522 / 225) */

    /* file boundaries */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(plan_file_of(&plan, row0[i]), i);
        assert_int_equal(plan_file_of(&plan, row0[i] + rows[i] - 1), i);
    }
    assert_int_equal(plan_file_of(&plan, 0), 0);
    assert_int_equal(plan_file_of(&plan, 1), 1);
    assert_int_equal(plan_file_of(&plan, 7), 1);
    assert_int_equal(plan_file_of(&plan, 8), 2);
    assert_int_equal(plan_file_of(&plan, 507), 2);
    assert_int_equal(plan_file_of(&plan, 508), 3);
    assert_int_equal(plan_file_of(&plan, 520), 3);
    assert_int_equal(plan_file_of(&plan, 521), 4);
    assert_int_equal(plan_file_of(&plan, 1521), 4);
    /* every row, against a linear scan */
    for (uint64_t r = 0; r < plan.total_rows; r++) {
        int f = 0;
        while (f + 1 < 5 && row0[f + 1] <= r)
            f++;
        assert_int_equal(plan_file_of(&plan, r), f);
    }
    plan_free(&plan);
    assert_null(plan.files);
    assert_null(plan.profiles);
}

static void test_plan_window_sizes(void **state)
{
    (void)state;
    cs_file_info info[8];
    int n = sample_files(info);
    cs_plan plan;
    cs_err err;
    /* 1 MiB per rank: 3/4 of it / 256 = 3072 rows per rank */
    assert_int_equal(plan_build(info, n, 1 << 20, CS_BYTES_PER_EVENT, 0, 3, &plan, &err), CS_OK);
    assert_int_equal(plan.window_rows, 3 * 3072);
    assert_int_equal(plan.nwindows, 1);
    plan_free(&plan);
    /* narrow records: 128 bytes an event, windows twice as long */
    assert_int_equal(plan_build(info, n, 1 << 20, plan_bytes_per_event(1), 0, 3, &plan, &err), CS_OK);
    assert_int_equal(plan.window_rows, 3 * 6144);
    plan_free(&plan);
    /* memory not a multiple of 256: floor(1000000 / 4 * 3 / 256) = 2929 */
    assert_int_equal(plan_build(info, n, 1000000, CS_BYTES_PER_EVENT, 0, 2, &plan, &err), CS_OK);
    assert_int_equal(plan.window_rows, 2 * 2929);
    plan_free(&plan);
    /* the override wins over memory */
    assert_int_equal(plan_build(info, n, 1 << 30, CS_BYTES_PER_EVENT, 100, 4, &plan, &err), CS_OK);
    assert_int_equal(plan.window_rows, 400);
    assert_int_equal(plan.nwindows, 4);   /* ceil(1522 / 400) */
    plan_free(&plan);
    /* window exactly dividing the rows: 1522 = 2 * 761 */
    assert_int_equal(plan_build(info, n, 0, CS_BYTES_PER_EVENT, 761, 1, &plan, &err), CS_OK);
    assert_int_equal(plan.window_rows, 761);
    assert_int_equal(plan.nwindows, 2);
    plan_free(&plan);
    /* tiny memory: the per-rank floor CS_MIN_WINDOW_ROWS */
    assert_int_equal(plan_build(info, n, 256 * 10, CS_BYTES_PER_EVENT, 0, 2, &plan, &err), CS_OK);
    assert_int_equal(plan.window_rows, 2 * CS_MIN_WINDOW_ROWS);
    assert_int_equal(plan.nwindows, (1522 + 2 * CS_MIN_WINDOW_ROWS - 1) / (2 * CS_MIN_WINDOW_ROWS));
    plan_free(&plan);
}

/* Writes n bytes of `fill` (the last one `last`) to dir/name; the path into out. */
static void put_file(const char *dir, const char *name, size_t n, int fill, int last, char *out)
{
    snprintf(out, 1024, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc(i + 1 == n ? last : fill, f);
    fclose(f);
}

/* Files with the same size, rows, first and last time are compared byte
 * for byte: the same bytes are a copy given twice (refused, naming both);
 * other bytes (shards of one day by user) are two files; the same times
 * with other sizes are never compared. */
static void test_plan_copies(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_plan_copies.XXXXXX", a[1024], b[1024], acopy[1024], c[1024], shard[1024];
    assert_non_null(mkdtemp(dir));
    put_file(dir, "a.h5", 300000, 'x', 'y', a);
    put_file(dir, "b.h5", 300000, 'x', 'y', b);
    put_file(dir, "a-copy.h5", 300000, 'x', 'y', acopy);
    put_file(dir, "c.h5", 300001, 'x', 'y', c);
    put_file(dir, "shard.h5", 300000, 'x', 'z', shard);   /* differs in the last byte */
    cs_file_info info[5];
    info[0] = event_file(a, 100, 200, 50);
    info[1] = event_file(b, 300, 400, 50);
    info[2] = event_file(acopy, 100, 200, 50);
    info[3] = event_file(c, 100, 200, 50);
    info[4] = event_file(shard, 100, 200, 50);
    for (int i = 0; i < 5; i++)
        info[i].file_bytes = i == 3 ? 300001 : 300000;
    cs_plan plan;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(plan_build(info, 5, 1 << 20, CS_BYTES_PER_EVENT, 0, 2, &plan, &err), CS_EINPUT);
    char want[2200];
    snprintf(want, sizeof want, "%s and %s are copies of each other", acopy, a);
    assert_non_null(strstr(err.msg, want));
    plan_free(&plan);
    info[2].rows = 51;   /* same times and size, other rows: a different file */
    assert_int_equal(plan_build(info, 5, 1 << 20, CS_BYTES_PER_EVENT, 0, 2, &plan, &err), CS_OK);
    assert_int_equal(plan.nfiles, 5);
    plan_free(&plan);
    const char *all[] = {a, b, acopy, c, shard};
    for (int i = 0; i < 5; i++)
        unlink(all[i]);
    rmdir(dir);
}

/* plan_order_key: the median of the valid times among first, middle and
 * last row. Files are read in that order: a first row from two days
 * before (a straggler) does not put a file ahead of the one it belongs
 * after; plan_overlaps finds files whose middle rows lie more than
 * the lateness before a file ahead of them ends. */
static void test_plan_order_middle(void **state)
{
    (void)state;
    assert_int_equal(plan_order_key(10, 250, 300), 250);
    assert_int_equal(plan_order_key(260, 250, 300), 260);
    assert_int_equal(plan_order_key(-1, 250, 300), 250);        /* a corrupt first row */
    assert_int_equal(plan_order_key(100, -1, 300), 100);        /* a corrupt middle row */
    assert_int_equal(plan_order_key(100, 150, CS_TS_MAX + 1), 100);
    assert_int_equal(plan_order_key(-5, -1, 300), 300);
    assert_int_equal(plan_order_key(-5, -1, -2), -5);
    assert_int_equal(plan_order_key(0, CS_TS_MAX, CS_TS_MAX), CS_TS_MAX);
    cs_file_info info[3];
    info[0] = event_file("/d/day2.h5", 10, 300, 100);   /* a straggler from day 0 first */
    info[0].ts_mid = 250;
    info[1] = event_file("/d/day1.h5", 100, 200, 100);
    info[1].ts_mid = 150;
    info[2] = event_file("/d/day0.h5", 0, 99, 100);
    info[2].ts_mid = 50;
    cs_plan plan;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(plan_build(info, 3, 1 << 20, CS_BYTES_PER_EVENT, 0, 2, &plan, &err), CS_OK);
    assert_string_equal(plan.files[0].path, "/d/day0.h5");
    assert_string_equal(plan.files[1].path, "/d/day1.h5");
    assert_string_equal(plan.files[2].path, "/d/day2.h5");
    int a = -1, b = -1;
    int64_t by = 0;
    assert_int_equal(plan_overlaps(&plan, 10, &a, &b, &by), 0);   /* the straggler alone: no */
    plan.files[2].ts_key = 120;   /* half of day2 before day1's end: overlapping */
    assert_int_equal(plan_overlaps(&plan, 10, &a, &b, &by), 1);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(by, 80);
    assert_int_equal(plan_overlaps(&plan, 80, &a, &b, &by), 0);   /* within the lateness */
    plan_free(&plan);
}

/* Every row of the plan is read exactly once over all windows and ranks;
 * each window's ranks take consecutive, balanced ranges. */
static void check_coverage(const cs_plan *plan, int nranks)
{
    uint64_t total = plan->total_rows;
    uint8_t *seen = calloc(total ? total : 1, 1);
    assert_non_null(seen);
    uint64_t next = 0;
    for (uint64_t w = 0; w < plan->nwindows; w++) {
        uint64_t wlo = w * plan->window_rows;
        uint64_t whi = wlo + plan->window_rows < total ? wlo + plan->window_rows : total;
        assert_int_equal(next, wlo);
        uint64_t cmin = UINT64_MAX, cmax = 0;
        for (int r = 0; r < nranks; r++) {
            uint64_t start = 0, count = 0;
            plan_rank_range(plan, w, r, nranks, &start, &count);
            assert_int_equal(start, next);
            assert_true(start + count <= whi);
            for (uint64_t i = start; i < start + count; i++) {
                if (seen[i])
                    fail_msg("row %llu read twice (window %llu rank %d of %d)",
                             (unsigned long long)i, (unsigned long long)w, r, nranks);
                seen[i] = 1;
            }
            next = start + count;
            if (count < cmin) cmin = count;
            if (count > cmax) cmax = count;
        }
        assert_int_equal(next, whi);
        assert_true(cmax - cmin <= 1);
    }
    for (uint64_t i = 0; i < total; i++)
        if (!seen[i])
            fail_msg("row %llu never read (%d ranks, window %llu rows)", (unsigned long long)i,
                     nranks, (unsigned long long)plan->window_rows);
    /* past the last window there is nothing */
    for (int r = 0; r < nranks; r++) {
        uint64_t start = 0, count = 7;
        plan_rank_range(plan, plan->nwindows, r, nranks, &start, &count);
        assert_int_equal(count, 0);
    }
    free(seen);
}

static void test_plan_coverage(void **state)
{
    (void)state;
    const uint64_t sizes[][4] = {
        {1, 0, 0, 0}, {63, 1, 0, 0}, {1001, 7, 500, 13}, {64, 64, 65, 0}, {12345, 1, 2, 3},
    };
    const uint64_t per_rank[] = {64, 65, 97, 333, 4096, 100000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        cs_file_info info[4];
        int n = 0;
        for (int i = 0; i < 4; i++) {
            char name[32];
            snprintf(name, sizeof name, "/x/f%d.h5", i);
            info[n++] = event_file(name, 10 * i, 10 * i + 5, sizes[s][i]);
        }
        for (int nranks = 1; nranks <= 5; nranks++)
            for (size_t p = 0; p < sizeof per_rank / sizeof per_rank[0]; p++) {
                cs_plan plan;
                cs_err err;
                assert_int_equal(plan_build(info, n, 0, CS_BYTES_PER_EVENT, per_rank[p], nranks, &plan, &err), CS_OK);
                uint64_t total = sizes[s][0] + sizes[s][1] + sizes[s][2] + sizes[s][3];
                assert_int_equal(plan.total_rows, total);
                assert_int_equal(plan.window_rows, per_rank[p] * (uint64_t)nranks);
                assert_int_equal(plan.nwindows,
                                 (total + plan.window_rows - 1) / plan.window_rows);
                check_coverage(&plan, nranks);
                plan_free(&plan);
            }
    }
}

/* ---- users ---- */

#define NUSERS 200000
#define ID_MUL 0x9e3779b97f4a7c15ULL   /* odd: i -> i * ID_MUL + 1 is one-to-one */

static uint64_t uid(uint64_t i)
{
    return i * ID_MUL + 1;
}

static void test_users_growth(void **state)
{
    (void)state;
    cs_users t;
    cs_err err;
    /* every segment the rules allow: the ones past CS_HOT_SEGMENTS live
     * in a second array that must grow, and keep its values, with the
     * entries */
    assert_int_equal(users_init(&t, 0, CS_MAX_SEGMENTS, &err), CS_OK);
    assert_int_equal(t.nmore, CS_MAX_SEGMENTS - CS_HOT_SEGMENTS);
    uint64_t cap0 = t.cap;
    assert_true(cap0 > 0);
    assert_null(users_find(&t, uid(0)));

    /* an entry with a handle to an unfinished session, inserted before any
     * growth: the handle and the entry's position must survive it (the
     * sessionizer's pool reaches users by position) */
    cs_user *u = users_get(&t, 0, &err);
    assert_non_null(u);
    assert_int_equal(u->user_id, 0);
    assert_int_equal(u->open_slot, 0);
    u->open_slot = 7;
    uint64_t pos0 = (uint64_t)(u - t.slot);

    for (uint64_t i = 0; i < NUSERS; i++) {
        u = users_get(&t, uid(i), &err);
        assert_non_null(u);
        /* a new entry: zeroed, times unset, no period counted */
        assert_int_equal(u->user_id, uid(i));
        assert_int_equal(u->events, 0);
        assert_int_equal(u->first_ts, INT64_MAX);
        assert_int_equal(u->last_ts, INT64_MIN);
        for (int s = 0; s < CS_MAX_SEGMENTS; s++) {
            assert_int_equal(users_seg(&t, u, s)->last_period, -1);
            assert_int_equal(users_seg_sessions(&t, u, s), 0);
        }
        assert_int_equal(u->open_slot, 0);
        /* entries on cache-line boundaries across every growth (users.h) */
        assert_int_equal((uintptr_t)u % 64, 0);
        u->events = (int64_t)i;
        u->revenue = -(int64_t)i * 3;
        u->seg[3].sessions = (uint32_t)(i % 1000);
        users_seg(&t, u, CS_MAX_SEGMENTS - 1)->sessions = (uint32_t)(i % 777);
        users_seg(&t, u, CS_HOT_SEGMENTS)->last_period = (int32_t)(i % 5);
        u->first_ts = (int64_t)i;
    }
    assert_int_equal(t.n, NUSERS + 1);
    assert_true(t.cap > cap0);
    assert_true(t.n <= t.cap);             /* dense entries */
    assert_true(t.n * 10 <= t.icap * 7);  /* index load factor kept */
    for (uint64_t i = 0; i < t.n; i++)      /* every entry below n is in use */
        assert_int_equal(t.slot[i].used, 1);

    for (uint64_t i = 0; i < NUSERS; i++) {
        const cs_user *f = users_find(&t, uid(i));
        if (!f)
            fail_msg("user %llu (#%llu) lost", (unsigned long long)uid(i), (unsigned long long)i);
        assert_int_equal(f->user_id, uid(i));
        assert_int_equal(f->events, (int64_t)i);
        assert_int_equal(f->revenue, -(int64_t)i * 3);
        assert_int_equal(f->seg[3].sessions, i % 1000);
        assert_int_equal(users_seg_sessions(&t, f, 3), i % 1000);
        assert_int_equal(users_seg_sessions(&t, f, CS_MAX_SEGMENTS - 1), i % 777);
        assert_int_equal(users_seg_sessions(&t, f, CS_HOT_SEGMENTS), 0);
        assert_int_equal(users_seg(&t, (cs_user *)f, CS_HOT_SEGMENTS)->last_period,
                         (int32_t)(i % 5));
        assert_int_equal(f->first_ts, (int64_t)i);
    }
    /* getting an existing user returns its entry and inserts nothing */
    u = users_get(&t, uid(12345), &err);
    assert_int_equal(u->events, 12345);
    assert_int_equal(t.n, NUSERS + 1);

    /* the handle moved with its entry, which kept its position */
    u = users_find(&t, 0);
    assert_non_null(u);
    assert_int_equal(u->open_slot, 7);
    assert_ptr_equal(u, &t.slot[pos0]);
    assert_int_equal(users_bytes(&t), t.cap * (sizeof(cs_user) + 12 * sizeof(cs_user_seg)) +
                                          t.icap * sizeof(cs_user_ref));

    /* the ranking's per-user results: one cleared record per user, by
     * position, profile values unknown */
    assert_int_equal(users_rank_alloc(&t, &err), CS_OK);
    for (uint64_t i = 0; i < t.n; i += 997) {
        assert_int_equal(t.rank[i].score, 0);
        assert_int_equal(t.rank[i].tier, 0);
        for (int p = 0; p < CS_MAX_PROFILE_COLS; p++)
            assert_int_equal(t.rank[i].profile[p], CS_PROFILE_UNKNOWN);
    }
    assert_int_equal(users_bytes(&t), t.cap * (sizeof(cs_user) + 12 * sizeof(cs_user_seg)) +
                                          t.icap * sizeof(cs_user_ref) + t.n * sizeof(cs_user_rank));

    /* absent ids */
    for (uint64_t i = NUSERS; i < 2 * NUSERS; i++)
        if (users_find(&t, uid(i)))
            fail_msg("absent id %llu found", (unsigned long long)uid(i));
    assert_null(users_find(&t, UINT64_MAX));
    users_free(&t);
    assert_int_equal(t.cap, 0);
    assert_null(users_find(&t, 1));
}

/* Users inserted in cs_user_key order (as sessionize does) after an index
 * reserve: every one is found again, the index never grew mid-insert, and
 * probes stay short (the index homes users on the key's top bits, so an
 * ordered insert into a table that grows would pile them up). */
static int cmp_user_key(const void *a, const void *b)
{
    uint64_t x = cs_user_key(*(const uint64_t *)a), y = cs_user_key(*(const uint64_t *)b);
    return (x > y) - (x < y);
}

static void test_users_reserve_ordered(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint64_t *ids = malloc(N * sizeof *ids);
    for (uint64_t i = 0; i < N; i++)
        ids[i] = uid(i);
    qsort(ids, N, sizeof *ids, cmp_user_key);
    cs_users t;
    cs_err err = {0};
    assert_int_equal(users_init(&t, 16, 4, &err), CS_OK);
    assert_int_equal(t.nmore, 0);
    assert_null(t.more_seg);
    assert_int_equal(users_reserve_index(&t, N, &err), CS_OK);
    uint64_t icap = t.icap;
    assert_true(N * 10 <= icap * 7);
    for (uint64_t i = 0; i < N; i++)
        assert_non_null(users_get(&t, ids[i], &err));
    assert_int_equal(t.icap, icap);
    assert_int_equal(t.n, N);
    assert_true(t.cap >= N);
    uint64_t disp = 0;
    int bits = __builtin_ctzll(t.icap);
    for (uint64_t i = 0; i < t.icap; i++)
        if (t.index[i].pos)
            disp += (i - (cs_user_key(t.index[i].user_id) >> (64 - bits))) & (t.icap - 1);
    assert_true(disp < 5 * (uint64_t)N);   /* about 1 a user at this load */
    for (uint64_t i = 0; i < N; i++)
        assert_int_equal(users_find(&t, ids[i])->user_id, ids[i]);
    users_free(&t);
    free(ids);
}

static void test_users_expect(void **state)
{
    (void)state;
    cs_users t;
    cs_err err;
    /* sized for 5000 users: no growth while inserting them */
    assert_int_equal(users_init(&t, 5000, 3, &err), CS_OK);
    uint64_t cap = t.cap, icap = t.icap;
    assert_true(cap >= 5000);
    assert_true(icap >= 10000);
    cs_user *first = users_get(&t, 777, &err);
    assert_non_null(first);
    for (uint64_t i = 1; i < 5000; i++)
        assert_non_null(users_get(&t, uid(i), &err));
    assert_int_equal(t.cap, cap);
    assert_int_equal(t.icap, icap);
    assert_ptr_equal(users_find(&t, 777), first);   /* no growth: entry did not move */
    assert_int_equal(t.n, 5000);
    users_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_order),
        cmocka_unit_test(test_plan_window_sizes),
        cmocka_unit_test(test_plan_copies),
        cmocka_unit_test(test_plan_order_middle),
        cmocka_unit_test(test_plan_coverage),
        cmocka_unit_test(test_users_growth),
        cmocka_unit_test(test_users_expect),
        cmocka_unit_test(test_users_reserve_ordered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
