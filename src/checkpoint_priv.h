/* checkpoint_priv.h — private to checkpoint*.c (not a public header): the
 * MANIFEST of a checkpoint directory and the --state steps. */
#ifndef CLICKSEG_CHECKPOINT_PRIV_H
#define CLICKSEG_CHECKPOINT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/checkpoint.h"

/* One input file as the checkpointed run saw it. */
typedef struct cs_mfile {
    uint64_t rows;
    int64_t size, mtime_s, mtime_ns;
    char path[1024];      /* real path */
} cs_mfile;

/* MANIFEST: a text file, one "key value" a line, then one line per file:
 * "file ROWS SIZE MTIME_S.MTIME_NS PATH" (the path last, so it may hold
 * spaces); then "profiles N" and a "profile ..." line per profile table,
 * alike (the table is read at the end of the run: a resume must see the
 * same one). */
typedef struct cs_manifest {
    char snapshot[256];
    uint64_t seq, config_hash, next_row, total_rows;
    int sessions, state, ranks;
    /* the --state file as the run found it: 1 there (size, mtime), 0 not
     * there, -1 unknown (a MANIFEST from before this line existed) */
    int state_there;
    int64_t state_size, state_mtime_s, state_mtime_ns;
    char written[32];
    char run_id[CS_RUN_ID_LEN + 1];   /* "" in a MANIFEST from before run ids */
    int nfiles;
    cs_mfile *files;
    int nprofiles;               /* -1: a MANIFEST from before profiles were listed */
    cs_mfile *profiles;
} cs_manifest;

/* Rank 0: reads dir/MANIFEST. Returns 1 when read, 0 when there is none,
 * -1 (err set, CS_EINPUT) when it cannot be parsed. */
int manifest_read(const char *dir, cs_manifest *mf, cs_err *err);
void manifest_free(cs_manifest *mf);

/* Rank 0: writes dir/MANIFEST for mf and the plan's files (stat'ed now):
 * temporary name, fsync, rename, fsync of the directory. */
int manifest_write(const char *dir, const cs_manifest *mf, const cs_plan *plan, cs_err *err);

/* Rank 0: CS_OK when the checkpoint belongs to this run: same config hash
 * (else CS_ECONFIG), same --sessions and --state use (else CS_EUSAGE),
 * same files with the same rows, sizes and modification times (else
 * CS_EINPUT naming the first difference). */
int manifest_check(const cs_manifest *mf, const char *dir, const cs_config *cfg, int state,
                   const cs_plan *plan, cs_err *err);

/* Rank 0: 1 when the checkpoint is another run's rather than an earlier
 * start of this one: another config hash, or other input files (by real
 * path; changed contents of the same files do not count); `why` (n bytes)
 * then says which, as "with another configuration (...)" or "over other
 * input files (...)". A shared checkpoint.dir can hold another job's
 * checkpoint, which --force would delete. */
int manifest_other_run(const cs_manifest *mf, const cs_config *cfg, const cs_plan *plan,
                       char *why, size_t n);

/* "SIGUSR1", "SIGTERM". */
const char *ckpt_signal_name(int sig);

/* checkpoint.dir, or the output directory's name + ".checkpoint". */
void ckpt_default_dir(const cs_config *cfg, char *dir, size_t n);

/* fsync of a directory (after a rename in it). */
int ckpt_sync_dir(const char *dir, cs_err *err);

/* Collective: writes the state file under its temporary name (after the
 * plan's last window; sessions still open stay open in it). */
int state_stage(cs_ckpt *k, const cs_plan *plan, cs_err *err);

/* Rank 0: moves the staged state file into place. */
int state_commit(cs_ckpt *k, cs_err *err);

/* Rank 0: checks a loaded state file against this run: config hash,
 * sessions, and that no input file was already processed into it. */
int state_check_loaded(const cs_ckpt *k, const cs_snap_meta *m, const cs_plan *plan,
                       cs_err *err);

#endif
