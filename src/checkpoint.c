/* checkpoint.c — checkpoints, --resume and stop signals (see checkpoint.h).
 * The MANIFEST format and the checks against the current run are in
 * checkpoint_manifest.c; --state files in checkpoint_state.c; the
 * checkpoint directory's lock in checkpoint_lock.c. */
#include "clickseg/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "checkpoint_priv.h"
#include "clickseg/h5util.h"
#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "clickseg/timer.h"

/* The signal that asked the run to stop (0: none). The handler may only
 * touch a sig_atomic_t; the window loop reads it. */
static volatile sig_atomic_t stop_signal;
/* When it came (CLOCK_MONOTONIC, ns), stored by the handler before
 * stop_signal: an atomic, so that a handler on another thread (a signal
 * sent to the process may run on any of Open MPI's threads) that sees
 * stop_signal sees the time too. Lock-free, so async-signal-safe. */
static _Atomic int64_t stop_at_ns;
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the stop time must be a lock-free atomic");

/* A stop signal repeated within this many seconds is the same stop said
 * twice: at a time limit slurmstepd sends each task SIGTERM twice within
 * milliseconds (once for the batch step's end, once for the job's), and
 * taking the second for "exit at once" lost the checkpoint every such
 * job was about to write. */
#define STOP_REPEAT_NS INT64_C(2000000000)

static void on_stop_signal(int sig)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);   /* async-signal-safe */
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (!stop_signal) {
        stop_at_ns = now;
        stop_signal = sig;
        return;
    }
    if (now - stop_at_ns < STOP_REPEAT_NS)
        return;
    /* A second signal, later, takes the default action: the process exits
     * at once and the previous checkpoint stays as it was. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

static void catch_into(struct sigaction *old_usr1, struct sigaction *old_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    /* Each blocks the other while it runs: a SIGTERM inside the SIGUSR1
     * handler would see stop_signal set before its time. */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGUSR1, &sa, old_usr1);
    sigaction(SIGTERM, &sa, old_term);
}

void ckpt_catch_signals(void)
{
    catch_into(NULL, NULL);
}

/* A signal caught since ckpt_catch_signals (in the plan, say) stays
 * caught; the handler stays too (a second signal, 2 s or more later,
 * takes the default action through it). */
static void install_handlers(cs_ckpt *k)
{
    if (stop_signal) {
        sigaction(SIGUSR1, NULL, &k->old_usr1);
        sigaction(SIGTERM, NULL, &k->old_term);
    } else {
        catch_into(&k->old_usr1, &k->old_term);
    }
    k->installed = 1;
}

/* Collective, once the run is set up: CS_EINTR on every rank when a stop
 * signal reached any rank before the first window (during start-up, the
 * plan or a resume's load). Nothing has changed since the checkpoint
 * loaded, if any, so none is written. */
static int stopped_before_start(cs_ckpt *k, int loaded, cs_err *err)
{
    int64_t sig = stop_signal;
    if (comm_max_i64(k->c, &sig, 1, 1, err) != CS_OK)
        return err->code;
    if (!sig)
        return CS_OK;
    if (loaded == 1)
        return cs_err_set(err, CS_EINTR, "stopped by %s before the first window; the checkpoint "
                          "in %s is as it was: run the same command with --resume to continue",
                          ckpt_signal_name((int)sig), k->dir);
    return cs_err_set(err, CS_EINTR, "stopped by %s before the first window, with nothing to "
                      "checkpoint yet: run the same command again to start", ckpt_signal_name((int)sig));
}

const char *ckpt_signal_name(int sig)
{
    return sig == SIGUSR1 ? "SIGUSR1" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

void ckpt_default_dir(const cs_config *cfg, char *dir, size_t n)
{
    if (cfg->checkpoint_dir[0]) {
        snprintf(dir, n, "%s", cfg->checkpoint_dir);
        return;
    }
    char out[CS_PATH_MAX];
    snprintf(out, sizeof out, "%s", cfg->output_dir);
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/')
        out[--len] = '\0';
    snprintf(dir, n, "%s.checkpoint", out);
}

int ckpt_sync_dir(const char *dir, cs_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cs_err_set(err, CS_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
    int rc = fsync(dirfd(d));
    closedir(d);
    if (rc != 0)
        return cs_err_set(err, CS_EIO, "%s: cannot sync directory: %s", dir, strerror(errno));
    return CS_OK;
}

/* Rank 0: removes the snapshots (and temporaries) of dir except `keep`;
 * with keep NULL also MANIFEST, then the directory when it is empty. */
static void remove_snapshots(const char *dir, const char *keep)
{
    char p[CS_PATH_MAX + 300];
    if (!keep) {
        snprintf(p, sizeof p, "%s/MANIFEST", dir);
        unlink(p);
    }
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        int ours = strncmp(n, "snapshot-", 9) == 0 || strncmp(n, "MANIFEST.tmp", 12) == 0;
        if (!ours || (keep && strcmp(n, keep) == 0))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, n);
        unlink(p);
    }
    closedir(d);
    if (!keep)
        rmdir(dir);
}

/* Collective: writes a checkpoint of the current state. */
static int save(cs_ckpt *k, const cs_plan *plan, uint64_t next_row, cs_err *err)
{
    const cs_comm *c = k->c;
    double t0 = timer_now();
    char name[64], final[CS_PATH_MAX + 80], tmp[CS_PATH_MAX + 90];
    uint64_t seq = k->seq + 1;
    snprintf(name, sizeof name, "snapshot-%06llu.h5", (unsigned long long)seq);
    snprintf(final, sizeof final, "%s/%s", k->dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    if (c->rank == 0)
        fs_mkdir_p(k->dir, err);
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    cs_snap_meta m = {config_hash(k->cfg), next_row, k->row_base, k->rejected_base, k->late_base,
                      k->cfg->output_sessions, c->size, k->nhist, k->hist, 0, 0,
                      k->ndicts, k->dicts};
    int rc = snapshot_write(c, tmp, &k->s, &m, err);
    int written = rc == CS_OK;   /* snapshot_write's failures are agreed already */
    if (!written && c->rank == 0)
        unlink(tmp);   /* a half-written snapshot (a full disk): nothing names it */
    if (written && c->rank == 0) {
        if (rename(tmp, final) != 0)
            rc = cs_err_set(err, CS_EIO, "%s: cannot rename: %s", tmp, strerror(errno));
        if (rc == CS_OK)
            rc = ckpt_sync_dir(k->dir, err);
        cs_manifest mf = {0};
        snprintf(mf.snapshot, sizeof mf.snapshot, "%s", name);
        mf.seq = seq;
        mf.config_hash = m.config_hash;
        mf.sessions = k->cfg->output_sessions;
        mf.state = k->hold;
        mf.state_there = k->state_there;
        mf.state_size = k->state_size;
        mf.state_mtime_s = k->state_mtime_s;
        mf.state_mtime_ns = k->state_mtime_ns;
        mf.ranks = c->size;
        snprintf(mf.run_id, sizeof mf.run_id, "%s", k->run_id);
        mf.next_row = next_row;
        mf.total_rows = plan->total_rows;
        if (rc == CS_OK)
            rc = manifest_write(k->dir, &mf, plan, err);
        if (rc == CS_OK)
            remove_snapshots(k->dir, name);
        else
            unlink(final);
    }
    if (written)
        rc = comm_agree(c, err);
    if (rc != CS_OK)
        return cs_err_wrap(err, "checkpoint in %s", k->dir);
    k->seq = seq;
    k->last_t = timer_now();
    k->since = 0;
    if (c->rank == 0 && !k->quiet)
        fprintf(stderr, "clickseg run: checkpoint %llu written to %s (%llu of %llu rows done, "
                "%.2f s)\n", (unsigned long long)seq, k->dir, (unsigned long long)next_row,
                (unsigned long long)plan->total_rows, k->last_t - t0);
    return CS_OK;
}

/* --state FILE is written when the job is done: a name that cannot be
 * written is found now, not after hours of work. */
static int check_state_path(const char *path, cs_err *err)
{
    struct stat st;
    size_t len = strlen(path);
    if ((stat(path, &st) == 0 && S_ISDIR(st.st_mode)) || (len && path[len - 1] == '/'))
        return cs_err_set(err, CS_EIO, "--state %s is a directory; the state is one file "
                          "(e.g. %s%schain.state)", path, path,
                          len && path[len - 1] == '/' ? "" : "/");
    char dir[CS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *d = dirname(dir);
    errno = 0;
    if (stat(d, &st) == 0 && S_ISDIR(st.st_mode) && access(d, W_OK | X_OK) == 0)
        return CS_OK;
    const char *why = errno == ENOENT ? "does not exist" : "cannot be written";
    return cs_err_set(err, CS_EIO, "--state %s cannot be saved: its directory %s %s (%s); the "
                      "state is written there when the run completes", path, d, why,
                      errno ? strerror(errno) : "not a directory");
}

/* Runs of a chain one at a time: two that loaded the same state would
 * each save it with only their own files added, and the later save would
 * silently drop the other run's days from the chain. Under the lock, a
 * "<state>.tmp.<pid>" left by a killed run (a whole snapshot) goes. */
static int lock_state(cs_ckpt *k, cs_err *err)
{
    int fd = -1;
    if (fs_lock_named(k->state_path, "cannot save the state",
                      " (the runs of a --state chain go one after another: under Slurm, "
                      "sbatch --dependency=afterok:JOBID)", &fd, err) != CS_OK)
        return cs_err_wrap(err, "--state");
    k->state_locked = 1;
    k->state_lock_fd = fd;
    fs_sweep_stale_tmps(k->state_path, NULL, 0);
    return CS_OK;
}

/* Rank 0: what ckpt_begin decides before anything is loaded. */
/* A new run id: 64 random bits (time and pid when the kernel gives none). */
static void new_run_id(char id[CS_RUN_ID_LEN + 1])
{
    uint64_t v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        v = ((uint64_t)t.tv_sec << 32 ^ (uint64_t)t.tv_nsec) * 0x9E3779B97F4A7C15ULL ^
            (uint64_t)getpid();
    }
    snprintf(id, CS_RUN_ID_LEN + 1, "%016llx", (unsigned long long)v);
}

/* The run id in a report.h5's /run (1), or 0 when the file, the group or
 * the attribute is not there or not readable. */
static int report_run_id(const char *path, char *id, size_t n)
{
    if (access(path, R_OK) != 0)
        return 0;
    h5_silence();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = f >= 0 ? H5Gopen2(f, "run", H5P_DEFAULT) : -1;
    int got = g >= 0 && h5_attr_get_string(g, "run_id", id, n) == 1;
    if (g >= 0)
        H5Gclose(g);
    if (f >= 0)
        H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return got;
}

/* 1 when the --state file is as the checkpoint's MANIFEST says the run
 * found it (not saved since); 1 also for a MANIFEST from before that was
 * recorded, so the caller redoes rather than trusts. */
static int state_as_found(const cs_manifest *mf, const char *state_path)
{
    struct stat st;
    int there = stat(state_path, &st) == 0;
    if (mf->state_there < 0)
        return 1;
    if (there != mf->state_there)
        return 0;
    return !there || (mf->state_size == (int64_t)st.st_size &&
                      mf->state_mtime_s == (int64_t)st.st_mtim.tv_sec &&
                      mf->state_mtime_ns == (int64_t)st.st_mtim.tv_nsec);
}

int ckpt_published(const cs_config *cfg, const cs_run_opts *opts, const cs_plan *plan,
                   int *done, int *own, cs_err *err)
{
    *done = *own = 0;
    if (opts->resume == CS_RESUME_NO)
        return CS_OK;
    char dir[CS_PATH_MAX], rep[CS_PATH_MAX + 16], id[64];
    ckpt_default_dir(cfg, dir, sizeof dir);
    cs_manifest mf;
    int have = manifest_read(dir, &mf, err);
    if (have <= 0)
        return have < 0 ? err->code : CS_OK;
    snprintf(rep, sizeof rep, "%s/report.h5", cfg->output_dir);
    int same = mf.run_id[0] && report_run_id(rep, id, sizeof id) && strcmp(id, mf.run_id) == 0;
    /* Only this job's run counts as done: a requeue with a corrected
     * config, other inputs or another --sessions/--state choice must not
     * end 0 over the old outputs. It goes on to the usual refusals. */
    cs_err other = {0};
    if (same && manifest_check(&mf, dir, cfg, opts->state_path[0] != '\0', plan, &other) != CS_OK)
        same = 0;
    if (same && mf.state && opts->state_path[0] && state_as_found(&mf, opts->state_path))
        *own = 1;
    else if (same)
        *done = 1;
    if (*done) {
        remove_snapshots(dir, NULL);
        fprintf(stderr, "clickseg run: the run of checkpoint %s had finished (run id %s): it "
                "published %s before it was stopped%s; the checkpoint is removed, nothing is "
                "left to do\n", dir, mf.run_id, cfg->output_dir,
                mf.state ? " and saved its state" : "");
    } else if (*own) {
        fprintf(stderr, "clickseg run: the run of checkpoint %s (run id %s) published %s but "
                "was stopped before it saved --state %s: resuming to save it (the outputs, "
                "its own, are replaced by the same)\n", dir, mf.run_id, cfg->output_dir,
                opts->state_path);
    }
    manifest_free(&mf);
    return CS_OK;
}

typedef struct begin_info {
    int load;               /* 1: checkpoint, 2: state file */
    char run_id[CS_RUN_ID_LEN + 1];
    uint64_t seq, next_row;
    char snapshot[CS_PATH_MAX + 300];
} begin_info;

static int begin_rank0(cs_ckpt *k, const cs_run_opts *o, const cs_plan *plan, begin_info *b,
                       cs_err *err)
{
    new_run_id(b->run_id);
    if ((k->hold && check_state_path(k->state_path, err) != CS_OK) ||
        (k->hold && lock_state(k, err) != CS_OK))
        return err->code;
    struct stat st;
    k->state_there = k->hold && stat(k->state_path, &st) == 0;
    if (k->state_there) {
        k->state_size = (int64_t)st.st_size;
        k->state_mtime_s = (int64_t)st.st_mtim.tv_sec;
        k->state_mtime_ns = (int64_t)st.st_mtim.tv_nsec;
    }
    cs_manifest mf;
    int have = manifest_read(k->dir, &mf, err);
    if (have < 0)
        return err->code;
    if (have && o->resume == CS_RESUME_NO) {
        char why[2200];
        int other = manifest_other_run(&mf, k->cfg, plan, why, sizeof why);
        manifest_free(&mf);
        /* "--force" alone would be bad advice there: it deletes that run's work */
        if (!o->force && other)
            return cs_err_set(err, CS_EIO, "%s holds the checkpoint of another run, %s, %llu "
                              "of %llu rows done: it is not this run's to continue; give each "
                              "run its own checkpoint.dir (the default is OUTPUT.checkpoint, "
                              "here %s.checkpoint); --force would delete that run's checkpoint: "
                              "use it only if that run is abandoned", k->dir, why,
                              (unsigned long long)mf.next_row, (unsigned long long)mf.total_rows,
                              k->cfg->output_dir);
        if (!o->force)
            return cs_err_set(err, CS_EIO, "%s holds the checkpoint of an unfinished run "
                              "(%llu of %llu rows done): continue it with --resume, or start "
                              "over with --force", k->dir, (unsigned long long)mf.next_row,
                              (unsigned long long)mf.total_rows);
        remove_snapshots(k->dir, NULL);
        have = 0;
    }
    if (!have && o->resume == CS_RESUME_YES)
        return cs_err_set(err, CS_EUSAGE, "nothing to resume: %s holds no checkpoint "
                          "(MANIFEST); run without --resume to start", k->dir);
    if (have) {
        int rc = manifest_check(&mf, k->dir, k->cfg, k->hold, plan, err);
        if (rc == CS_OK && k->hold && mf.state_there >= 0 &&
            (mf.state_there != k->state_there ||
             (k->state_there && (mf.state_size != k->state_size ||
                                 mf.state_mtime_s != k->state_mtime_s ||
                                 mf.state_mtime_ns != k->state_mtime_ns))))
            rc = cs_err_set(err, CS_EINPUT, "state %s changed since checkpoint %s was written "
                            "(another run of the chain saved it, or it was replaced): resuming "
                            "would undo that; start this run over with --force against the "
                            "state as it is now (if this run was stopped just after saving "
                            "the state, it is complete: remove %s)", k->state_path, k->dir,
                            k->dir);
        if (rc == CS_OK && mf.run_id[0])
            snprintf(b->run_id, sizeof b->run_id, "%s", mf.run_id);
        if (rc == CS_OK) {
            b->load = 1;
            b->seq = mf.seq;
            b->next_row = mf.next_row;
            snprintf(b->snapshot, sizeof b->snapshot, "%s/%s", k->dir, mf.snapshot);
            if (!k->quiet)
                fprintf(stderr, "clickseg run: resuming from %s: %llu of %llu rows done "
                        "(checkpoint %llu, written by %d rank%s at %s)\n", k->dir,
                        (unsigned long long)mf.next_row, (unsigned long long)mf.total_rows,
                        (unsigned long long)mf.seq, mf.ranks, mf.ranks == 1 ? "" : "s",
                        mf.written);
        }
        manifest_free(&mf);
        return rc;
    }
    if (k->hold && access(k->state_path, F_OK) == 0) {
        b->load = 2;
        snprintf(b->snapshot, sizeof b->snapshot, "%s", k->state_path);
    }
    return CS_OK;
}

int ckpt_begin(cs_ckpt *k, const cs_comm *c, const cs_config *cfg, const cs_run_opts *opts,
               cs_plan *plan, const cs_run_state *s, cs_err *err)
{
    memset(k, 0, sizeof *k);
    k->c = c;
    k->cfg = cfg;
    k->s = *s;
    k->quiet = opts->quiet;
    k->last_t = timer_now();
    ckpt_default_dir(cfg, k->dir, sizeof k->dir);
    k->hold = opts->state_path[0] != '\0';
    snprintf(k->state_path, sizeof k->state_path, "%s", opts->state_path);
    install_handlers(k);
    begin_info b;
    memset(&b, 0, sizeof b);
    if (c->rank == 0)
        begin_rank0(k, opts, plan, &b, err);
    if (comm_agree(c, err) != CS_OK || comm_bcast(c, &b, sizeof b, err) != CS_OK)
        return err->code;
    snprintf(k->run_id, sizeof k->run_id, "%s", b.run_id);
    if (b.load == 0)
        return stopped_before_start(k, 0, err);
    cs_snap_meta m;
    int rc = snapshot_read(c, b.snapshot, &k->s, &m, err);
    if (rc != CS_OK)
        return rc;
    k->row_base = m.row_base;
    k->rejected_base = m.rejected_base;
    k->late_base = m.late_base;
    k->nhist = m.nhist;
    k->hist = m.hist;
    k->ndicts = m.ndicts;
    k->dicts = m.dicts;
    /* A --state run's checkpoint from before late_base tells the chain's
     * earlier late rows not apart from this run's: all of them so far are
     * taken for earlier ones (the run is judged on its rows after the
     * resume), rather than every earlier run's counted against it. */
    int no_late_base = b.load == 1 && m.no_late_base && m.row_base > 0;
    if (b.load == 2 || no_late_base) {
        /* The chain's rejected and late rows so far: the loaded statistics
         * (a state file is written after the run's last window, so they
         * are all earlier runs'). Collective: every rank loads, and reads
         * the same snapshot attributes. */
        int64_t r[2] = {k->s.st->tot.rejected_events, k->s.st->tot.late_events};
        rc = comm_sum_i64(c, r, 2, 1, err);
        if (rc != CS_OK)
            return rc;
        if (b.load == 2)
            k->rejected_base = (uint64_t)r[0];
        k->late_base = (uint64_t)r[1];
    }
    if (b.load == 1) {
        k->seq = b.seq;
        if (m.next_row != b.next_row && c->rank == 0)
            cs_err_set(err, CS_EINPUT, "%s: the snapshot is at row %llu, MANIFEST says %llu",
                       b.snapshot, (unsigned long long)m.next_row,
                       (unsigned long long)b.next_row);
        plan_skip(plan, b.next_row);
    } else if (c->rank == 0) {
        state_check_loaded(k, &m, plan, err);
    }
    if (comm_agree(c, err) != CS_OK)
        return err->code;
    return stopped_before_start(k, b.load, err);
}

uint64_t ckpt_extra_windows(const cs_ckpt *k)
{
    return k->hold ? 1 : 0;
}


int ckpt_window_end(cs_ckpt *k, const cs_plan *plan, uint64_t w, cs_err *err)
{
    const cs_config *cfg = k->cfg;
    int64_t f[3] = {stop_signal, 0, 0};
    k->since++;
    if (k->c->rank == 0 && cfg->checkpoint_interval_us > 0 &&
        timer_now() - k->last_t >= (double)cfg->checkpoint_interval_us / 1e6)
        f[1] = 1;
    if (cfg->checkpoint_every > 0 && k->since >= (uint64_t)cfg->checkpoint_every)
        f[2] = 1;
    int rc = comm_max_i64(k->c, f, 3, 1, err);
    if (rc != CS_OK)
        return rc;
    if (k->hold && w + 1 == plan->nwindows)
        return state_stage(k, plan, err);
    if (!f[0] && !f[1] && !f[2])
        return CS_OK;
    uint64_t next = plan->start_row + (w + 1) * plan->window_rows;
    if (next > plan->total_rows)
        next = plan->total_rows;
    rc = save(k, plan, next, err);
    if (rc == CS_OK && f[0])
        rc = cs_err_set(err, CS_EINTR, "stopped by %s after %llu of %llu rows; checkpoint "
                        "saved in %s: run the same command with --resume to continue",
                        ckpt_signal_name((int)f[0]), (unsigned long long)next,
                        (unsigned long long)plan->total_rows, k->dir);
    return rc;
}

int ckpt_finish(cs_ckpt *k, cs_err *err)
{
    int rc = CS_OK;
    if (k->c->rank == 0) {
        if (k->staged)
            rc = state_commit(k, err);
        remove_snapshots(k->dir, NULL);
    }
    return comm_agree(k->c, err) != CS_OK ? err->code : rc;
}

void ckpt_end(cs_ckpt *k)
{
    if (k->installed) {
        sigaction(SIGUSR1, &k->old_usr1, NULL);
        sigaction(SIGTERM, &k->old_term, NULL);
        k->installed = 0;
    }
    if (k->staged && k->c && k->c->rank == 0)
        unlink(k->state_tmp);
    k->staged = 0;
    if (k->state_locked)   /* after the save or the unlink above */
        fs_unlock_output(k->state_path, k->state_lock_fd);
    k->state_locked = 0;
    free(k->hist);
    k->hist = NULL;
    free(k->dicts);
    k->dicts = NULL;
    k->ndicts = 0;
}
