/* fscommit.h — moving a finished output from its temporary directory
 * (fs_begin_output's "<final>.tmp.<pid>") into place. Called on rank 0 by
 * run, merge, import and generate, with the output's lock held
 * (fs_lock_output). Pure POSIX, no MPI. */
#ifndef CLICKSEG_FSCOMMIT_H
#define CLICKSEG_FSCOMMIT_H

#include "clickseg/error.h"

/* Moves every file of tmp into final (each rename atomic), removes tmp.
 * Then the files of final that match `outputs` (as fs_begin_output's) and
 * that tmp did not hold are removed (never a directory): they belong to an
 * earlier, forced-over output and would contradict the new one. CS_EIO
 * when a move or removal fails. */
int fs_commit_output(const char *tmp, const char *final, const char *const *outputs,
                     cs_err *err);

#endif
