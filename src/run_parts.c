/* run_parts.c — how `clickseg run` cuts each window into parts: as many
 * as memory_per_rank needs once the lasting state (users, unfinished
 * sessions, carry) is counted, and no part spanning more than 32 files;
 * the run stops with exit 6 and the figures when the lasting state alone
 * outgrows the budget. Each part then goes through run_one_range
 * (run_window.c). Called by run.c once per window. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/comm.h"
#include "clickseg/numfmt.h"

#include "run_priv.h"

/* Files a part may span. Every file a rank's part reads stays open (its
 * chunks are viewed in place until the pack), and each open HDF5 file costs
 * about half a MiB of metadata cache and a descriptor or two: an archive of
 * thousands of hourly files read in one part needed 1.7 GiB and ran out of
 * descriptors under `ulimit -n 1024`. With this bound, at most two parts'
 * files are open (this one and the one read ahead). */
#define PART_MAX_FILES 32

/* The least nparts (from `nparts` up, doubling) whose parts of window w
 * each span at most PART_MAX_FILES files. From the plan alone, so every
 * rank finds the same. */
static uint64_t parts_for_files(const cs_plan *plan, uint64_t w, uint64_t nparts)
{
    for (;;) {
        uint64_t worst = 0, start, count;
        for (uint64_t p = 0; p < nparts; p++) {
            plan_part_range(plan, w, p, nparts, 0, 1, &start, &count);
            if (count == 0)
                continue;
            uint64_t span = (uint64_t)(plan_file_of(plan, start + count - 1) -
                                       plan_file_of(plan, start)) + 1;
            worst = span > worst ? span : worst;
        }
        plan_part_range(plan, w, 0, 1, 0, 1, &start, &count);
        if (worst <= PART_MAX_FILES || nparts >= count)
            return nparts;
        nparts = 2 * nparts < count ? 2 * nparts : count;
    }
}

/* Whole MiB, rounded up: what memory_per_rank ("1536M") can be set to. */
static double mib_up(double bytes)
{
    return ceil(bytes / 1048576.0);
}

/* Collective: into how many consecutive parts window w must be cut so that
 * one part's in-flight events fit in what the lasting state and the carry
 * leave of memory_per_rank, and no part spans more than PART_MAX_FILES
 * files (the same count on every rank). The lasting state (user table, the
 * pool of unfinished sessions and their id lists, the epilog's per-user
 * arrays) grows with the users a rank has seen; once it and the carry take
 * more than 7/8 of the budget, the run stops with the figures to fix it,
 * naming the largest share. Sets x->part_fit for too_skewed. With
 * --window-events the windows are what the user asked for. */
static int window_parts(run_ctx *x, uint64_t w, uint64_t *nparts, cs_err *err)
{
    *nparts = parts_for_files(&x->plan, w, 1);
    x->part_fit = UINT64_MAX;
    if (x->o->window_rows_per_rank)
        return CS_OK;
    uint64_t start, count;
    plan_rank_range(&x->plan, w, x->c->rank, x->c->size, &start, &count);
    int64_t budget = x->cfg->memory_per_rank;
    /* The table may grow once more during the window (by 1/8, the index
     * by doubling): count that step in now. */
    uint64_t lasting = users_bytes(&x->users) + x->users.cap / 8 * users_entry_bytes(&x->users) +
                       x->users.icap * sizeof(cs_user_ref) + sess_bytes(&x->sz) +
                       x->users.n * CS_EPILOG_BYTES_PER_USER;
    /* The carry (events within max_lateness of the newest) is held whatever
     * the parts, twice while the next one fills: more parts cannot shrink
     * it, so it counts with what lasts. */
    uint64_t carry = x->ncarry * 2 * sizeof(cs_event);
    int64_t need = 1;
    char late[32];
    if (lasting + carry > (uint64_t)budget / 8 * 7 && carry > lasting) {
        cs_err_set(err, CS_ENOMEM, "out of memory: rank %d holds %llu events of the last "
                   "session.max_lateness (%s) in %.1f MiB, and %llu users in %.1f MiB: more than "
                   "7/8 of memory_per_rank (%.0f MiB); lower session.max_lateness (events are "
                   "held that long in case older ones arrive after them) or raise "
                   "memory_per_rank (this rank needs at least %.0f MiB by now)",
                   x->c->rank, (unsigned long long)x->ncarry,
                   fmt_duration(late, sizeof late, x->cfg->session_max_lateness_us / 1e6),
                   carry / 1048576.0, (unsigned long long)x->users.n, lasting / 1048576.0,
                   budget / 1048576.0, mib_up((lasting + carry) * 8.0 / 7 * 1.25));
    } else if (lasting + carry > (uint64_t)budget / 8 * 7 &&
               sess_id_bytes(&x->sz) > (lasting + carry) / 2) {
        cs_err_set(err, CS_ENOMEM, "out of memory: rank %d holds the distinct product, "
                   "category and brand ids of its sessions in %.1f MiB (a rule or --sessions "
                   "counts them, and one long session, a scraper's, holds all of its own), "
                   "and %llu users: more than 7/8 of memory_per_rank (%.0f MiB); raise "
                   "memory_per_rank (this rank needs at least %.0f MiB by now), or cut such "
                   "sessions with session.max_duration", x->c->rank,
                   sess_id_bytes(&x->sz) / 1048576.0, (unsigned long long)x->users.n,
                   budget / 1048576.0, mib_up((lasting + carry) * 8.0 / 7 * 1.25));
    } else if (lasting + carry > (uint64_t)budget / 8 * 7) {
        lasting += carry;
        cs_err_set(err, CS_ENOMEM, "out of memory: rank %d holds %llu users in %.1f MiB, more "
                   "than 7/8 of memory_per_rank (%.0f MiB); raise memory_per_rank (this rank "
                   "needs at least %.0f MiB by now) or run with more ranks (each holds about "
                   "1/N of the users); a checkpoint lets the run resume with either",
                   x->c->rank, (unsigned long long)x->users.n, lasting / 1048576.0,
                   budget / 1048576.0, mib_up(lasting * 8.0 / 7 * 1.25));
    } else {
        uint64_t fit = ((uint64_t)budget - lasting - carry) / x->bytes_per_event;
        need = (int64_t)((count + fit - 1) / fit);
        x->part_fit = fit;
    }
    if (comm_agree(x->c, err) != CS_OK)
        return err->code;
    int rc = comm_max_i64(x->c, &need, 1, 1, err);
    if (need > 1)
        *nparts = parts_for_files(&x->plan, w, (uint64_t)need);
    /* Smaller parts than before: give the larger buffers back. The routes
     * are sized for every part read (col_cap only when some file was read
     * into buffers, never when every chunk is viewed in place). */
    uint64_t had = x->sh.dest_cap > x->col_cap ? x->sh.dest_cap : x->col_cap;
    if (rc == CS_OK && *nparts > 1 && had > count / *nparts + count / *nparts / 8 + 1)
        run_release_window_buffers(x, 1);
    return rc;
}

int run_one_window(run_ctx *x, uint64_t w, cs_err *err)
{
    int last = w + 1 == x->plan.nwindows + ckpt_extra_windows(&x->ck);
    uint64_t nparts = 1;
    int rc = window_parts(x, w, &nparts, err);
    x->passes += nparts;
    for (uint64_t p = 0; rc == CS_OK && p < nparts; p++) {
        uint64_t ga, n;
        plan_part_range(&x->plan, w, p, nparts, 0, 1, &ga, &n);
        part_ref ahead = {w, p, nparts};
        rc = run_one_range(x, ga, ga + n, last && p + 1 == nparts, &ahead, err);
    }
    return rc;
}

