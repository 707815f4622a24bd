/* fslock.h — the lock that keeps two jobs off one output directory (run,
 * merge, import, generate), one --state file (checkpoint.c) or one
 * checkpoint directory (checkpoint_lock.c), and the removal, under that
 * lock, of the temporary files and directories that killed jobs left
 * beside it. Called on rank 0. Pure POSIX, no MPI. */
#ifndef CLICKSEG_FSLOCK_H
#define CLICKSEG_FSLOCK_H

#include <stddef.h>

#include "clickseg/error.h"

/* The file fs_begin_output puts in its temporary directory (and
 * fs_commit_output removes once the directory is the output): only a
 * directory holding it is ever swept, so a user's own "out.tmp.2024" is
 * not. */
#define FS_TMP_MARK ".clickseg-partial"

/* "pid N on HOST\n" of this process, what the lock file and the mark hold;
 * its length. */
int fs_holder_line(char *line, size_t n);

/* Rank 0 of run, merge, import and generate: an exclusive flock on
 * "<final>.lock" (made beside `final`, holding this process's pid and
 * host), so that two jobs never write one output, or its checkpoint, at
 * once (a requeued job and a resubmitted one; a --force rerun over a
 * running job). Not waited for:
 * CS_EIO naming the holder when another process has it. *fd gets the
 * descriptor (-1 when not taken). The kernel drops the lock when the
 * process dies, so a file left by a killed job does not block the next.
 * Creates final's parent directories, as the output would. Taken before
 * fs_begin_output, so that no two jobs ever make temporary directories
 * for one output at once. Once taken, ends a commit a kill interrupted
 * (fs_recover_output; its error drops the lock and is returned), so the
 * command finds final whole. */
int fs_lock_output(const char *final, int *fd, cs_err *err);

/* The same lock on "<final>.lock" for a file that is not an output
 * directory (--state, checkpoint.dir): `cannot` says what fails when the lock file cannot
 * be made ("cannot save the state"); `busy_hint` ends the message when
 * another job holds it (what to do instead; "" for none). */
int fs_lock_named(const char *final, const char *cannot, const char *busy_hint, int *fd,
                  cs_err *err);

/* Removes the "<final>.tmp.<digits>" entries other than keep (NULL: none
 * kept) that jobs killed before they could clean up left beside final:
 * when dirs (outputs), directories that hold fs_begin_output's mark file
 * (and whose writer, when of this host, is dead); otherwise (--state),
 * HDF5 files and their ballasts ("<final>.tmp.<digits>.room", fs_reserve).
 * A user's own entry of such a name is not touched. Only with
 * final's lock held (fs_lock_output), when no live job can own one: every
 * job takes the lock before it makes its own. */
void fs_sweep_stale_tmps(const char *final, const char *keep, int dirs);

/* Removes "<final>.lock" and drops the lock (fd -1: nothing). */
void fs_unlock_output(const char *final, int fd);

#endif
