/* checkpoint.h — long runs: checkpoints at window boundaries, --resume,
 * stopping on SIGTERM/SIGUSR1, and --state FILE (incremental runs).
 *
 * run calls ckpt_begin after its prolog (it may load a checkpoint or a
 * state file into the run's state and move the plan's start), ckpt_window_end
 * after every window but the last (it checkpoints when checkpoint.every or
 * checkpoint.interval says so, or when a signal arrived: then it returns
 * CS_EINTR and the run stops), ckpt_finish once the outputs are in place,
 * and ckpt_end always.
 *
 * A checkpoint directory holds MANIFEST (text: config hash, the plan's
 * files with rows, sizes and modification times, the position, the
 * snapshot's name) and the snapshot it names (snapshot.h). A new snapshot
 * is written under a temporary name, synced and renamed; then MANIFEST is
 * replaced the same way (the atomic switch); then older snapshots are
 * removed. A run killed at any point leaves the previous checkpoint usable.
 *
 * With --state FILE the run keeps its last window's unfinished sessions and
 * carried events open: the state is staged (written to FILE.tmp.PID) after
 * the last window, then one extra, empty window closes everything for the
 * report, and ckpt_finish moves the staged state into place once the report
 * is committed. Signal handlers are process-wide (a sig_atomic_t flag, the
 * one global clickseg keeps); the flag is combined across ranks at window
 * ends so every rank stops after the same window. Collective. */
#ifndef CLICKSEG_CHECKPOINT_H
#define CLICKSEG_CHECKPOINT_H

#include <signal.h>
#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/config.h"
#include "clickseg/error.h"
#include "clickseg/plan.h"
#include "clickseg/run.h"
#include "clickseg/snapshot.h"

/* Hex digits of a run id: one run and all its resumes share it
 * (report.json run.run_id, report.h5 /run attribute run_id). */
#define CS_RUN_ID_LEN 16

typedef struct cs_ckpt {
    const cs_comm *c;
    const cs_config *cfg;
    cs_run_state s;
    char dir[CS_PATH_MAX];          /* checkpoint directory */
    uint64_t seq;                   /* number of the newest snapshot */
    double last_t;                  /* start, or the last checkpoint */
    uint64_t since;                 /* windows since then */
    uint64_t row_base;              /* rows of earlier runs of a --state chain */
    uint64_t rejected_base;         /* of them rejected: each run is judged on its own
                                     * rows (max_reject_share), whatever its resume point */
    uint64_t late_base;             /* of them late (max_late_share), the same way */
    int hold;                       /* --state: keep the last window's sessions open */
    int staged;                     /* the state file is staged */
    /* rank 0: "<state>.lock" held for the whole run, so that two runs of
     * a chain never load one state at once (the second save would drop
     * the first run's files from the chain) */
    int state_locked, state_lock_fd;
    char state_path[CS_PATH_MAX], state_tmp[CS_PATH_MAX + 32];
    /* rank 0: the state file as this run found it (there, size, mtime):
     * every checkpoint records it, and a resume refuses a state file that
     * another run has changed since, whose update the resumed run's final
     * save would otherwise undo */
    int state_there;
    int64_t state_size, state_mtime_s, state_mtime_ns;
    int nhist;                      /* rank 0: files of earlier --state runs */
    cs_hist_file *hist;
    /* rank 0: the user dictionaries every snapshot records (real paths):
     * ckpt_begin loads the state's or checkpoint's, the run then sets its
     * whole list (ckpt_set_dicts) */
    int ndicts;
    char (*dicts)[CS_DICT_PATH_LEN];
    int quiet;                      /* no progress lines (--quiet) */
    char run_id[CS_RUN_ID_LEN + 1]; /* new at a fresh start, the checkpoint's on a resume */
    int installed;
    struct sigaction old_usr1, old_term;
} cs_ckpt;

/* Catches SIGUSR1 and SIGTERM into the stop flag from the start of the
 * process (main calls it before MPI_Init for `run`): a signal in start-up
 * or in the plan then stops the run cleanly at ckpt_begin instead of
 * killing the rank. */
void ckpt_catch_signals(void);

/* Installs the signal handlers (keeping a stop already caught); CS_EINTR
 * when one was, before the first window; checks checkpoint.dir (refuses to start
 * over a checkpoint of an unfinished run unless opts->force); with
 * opts->resume loads the newest checkpoint after checking that its config
 * hash (CS_ECONFIG) and its files (CS_EINPUT) are this run's, and moves
 * the plan's start to where it stopped; with opts->state_path loads the
 * state file when it exists (refusing files it already holds). */
int ckpt_begin(cs_ckpt *k, const cs_comm *c, const cs_config *cfg, const cs_run_opts *opts,
               cs_plan *plan, const cs_run_state *s, cs_err *err);

/* Rank 0, after ckpt_begin: the run's user dictionaries (own, n of them,
 * its inputs', in input order) followed by those the loaded state file or
 * checkpoint recorded (earlier runs' of a --state chain), as real paths
 * (a path that no longer resolves is kept as it is), each once. The list
 * replaces k->dicts: every snapshot from here on records it. */
int ckpt_chain_dicts(cs_ckpt *k, const char (*own)[CS_DICT_PATH_LEN], int n, cs_err *err);

/* Rank 0, holding the output lock, before anything in checkpoint.dir is
 * read, removed or written (ckpt_published, ckpt_begin): CS_EIO when the
 * directory (or its nearest existing parent) cannot be written, or when
 * another run holds it, naming the holder; else an exclusive flock on
 * "<dir>.lock" beside it, *fd its descriptor (-1 when none is needed: the
 * directory is the output directory, whose lock covers it). Two runs of a
 * shared config (checkpoint.dir set there, a job array) would otherwise
 * delete each other's snapshots. Held until ckpt_unlock_dir, after
 * ckpt_finish has removed the checkpoint. */
int ckpt_lock_dir(const cs_config *cfg, int *fd, cs_err *err);

/* Removes "<dir>.lock" and drops the lock (fd -1: nothing). */
void ckpt_unlock_dir(const cs_config *cfg, int fd);

/* Rank 0, holding the output lock, before the run makes its temporary
 * output directory. A run killed after it published its outputs and
 * before it removed its checkpoint (a node failure, a SIGKILL after the
 * time limit's grace) leaves both. With --resume or --resume=auto this
 * finds that case by the run id: the checkpoint's, in MANIFEST, is the one
 * in OUTPUT/report.h5, and the checkpoint is this job's (manifest_check:
 * the same config, inputs, --sessions and --state use; else the usual
 * refusals follow). Then *done: the run was complete, the checkpoint is
 * removed and nothing is left to do; or, with --state when the state file
 * is still as the run found it (the kill came before its save), *own: the
 * resume must redo the rest to save the state, and may replace the
 * outputs, which are its own. Both 0 otherwise (the usual case). */
int ckpt_published(const cs_config *cfg, const cs_run_opts *opts, const cs_plan *plan,
                   int *done, int *own, cs_err *err);

/* Windows run must do after the plan's: 1 with --state (the closing one). */
uint64_t ckpt_extra_windows(const cs_ckpt *k);

/* After window w (not the run's last): checkpoints when due or signalled;
 * stages the state after the plan's last window. CS_EINTR (with the
 * message to print) when a signal stopped the run. */
int ckpt_window_end(cs_ckpt *k, const cs_plan *plan, uint64_t w, cs_err *err);

/* After the outputs are committed: moves the staged state into place and
 * removes the checkpoint (the run is complete). */
int ckpt_finish(cs_ckpt *k, cs_err *err);

/* Restores the signal handlers, removes a staged state that was not
 * committed, frees. Safe after a failed or partial ckpt_begin. */
void ckpt_end(cs_ckpt *k);

#endif
