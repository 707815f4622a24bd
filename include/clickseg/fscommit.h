/* fscommit.h — moving a finished output from its temporary directory
 * (fs_begin_output's "<final>.tmp.<pid>") into place. Called on rank 0 by
 * run, merge, import and generate, with the output's lock held
 * (fs_lock_output). Pure POSIX, no MPI. */
#ifndef CLICKSEG_FSCOMMIT_H
#define CLICKSEG_FSCOMMIT_H

#include "clickseg/error.h"

/* The mark fs_commit_output leaves in the earlier output while it moves
 * it aside ("<final>.old.<pid>"): what commit it belongs to (holder, both
 * directories) and the output patterns. */
#define FS_ASIDE_MARK ".clickseg-replaced"

/* Makes what tmp holds the output final, as a whole: a kill at any moment
 * leaves final the earlier output whole or the new one whole (or, for
 * the moment between two renames, no final and the earlier output in
 * "<final>.old.<pid>"), never a mix; the next job's fs_recover_output
 * ends what a kill left. No final yet: one rename. Otherwise final moves
 * aside, tmp takes its name, the entries of the earlier final that are
 * not outputs (the user's files and directories, a directory at an
 * output's name) come back, and the earlier outputs go with the aside
 * directory: also those tmp did not replace, which would contradict the
 * new ones (--force over a run with --sessions, say). Kill points: the
 * comment of commit_swap in fscommit.c. `outputs` as fs_begin_output's.
 * A file of tmp where final holds a directory is CS_EIO before anything
 * moves. Where final cannot be renamed (a symbolic link, a mount point),
 * may not be (EPERM, EACCES: another user's in a sticky directory), or
 * is the process's working directory (whose relative paths must still
 * lead into it), the files move one by one, with no such promise. CS_EIO when a move
 * fails (final then is the earlier output, or the new one with what
 * failed to move back left in the aside directory, named). */
int fs_commit_output(const char *tmp, const char *final, const char *const *outputs,
                     cs_err *err);

/* Ends a commit a kill interrupted: a "<final>.old.<digits>" directory
 * that is the aside of final's own commit (its mark names it, and the
 * commit's partial mark is in final or in the temporary directory the
 * mark names) goes back to final's name when final is missing or empty
 * (the commit undone), or gives its non-outputs back to final and is
 * removed when final holds the new outputs (the commit finished); any
 * other directory of the name is left as it is; empty ones of that name
 * are removed; the marks are removed from final. Called by fs_lock_output
 * once the lock is taken (the only time no commit can be running), so
 * every command that writes an output finds it whole. Idempotent: a kill
 * within it is ended by the next. CS_EIO naming what could not be moved. */
int fs_recover_output(const char *final, cs_err *err);

/* NULL but in tests: called with a word on the change about to be made
 * before each change a commit or a recovery makes (the kill points).
 * Returns 0, or an errno that the commit's renames then fail with (a
 * rename the file system refuses: EPERM in a sticky directory). */
extern int (*fs_commit_hook)(const char *step);

#endif
