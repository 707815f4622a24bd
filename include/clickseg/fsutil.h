/* fsutil.h — file-system chores for commands: expanding --input arguments
 * (files, directories, globs) into a sorted file list, and output
 * directories that appear complete or not at all (written under a temporary
 * name, renamed at the end; an existing output is kept unless forced), and
 * disk space set aside for a file about to be written.
 * Called by the CLI on rank 0. POSIX (and Linux's fallocate), no MPI. */
#ifndef CLICKSEG_FSUTIL_H
#define CLICKSEG_FSUTIL_H

#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/fscommit.h"   /* fs_commit_output, which ends what fs_begin_output starts */

/* Bytes an input file's path takes with its end (the plan's, the --state
 * history's and the dictionary list's fixed fields): fs_expand_input
 * refuses a longer path, or one whose real path is longer, rather than
 * let those fields cut it. */
#define CS_PATH_LEN 1024

typedef struct cs_pathlist {
    int n, cap;
    char **path;
    /* which files are listed, by device and inode (a hash table of cap2
     * slots holding index + 1), so a long list is checked for repeats in
     * constant time a path */
    struct cs_fileid { unsigned long long dev, ino; } *id;
    int *slot, cap2;
} cs_pathlist;

/* Appends the files named by `arg`: a file as is, a directory's *.h5 files
 * (sorted, not recursive), or a glob's matches. An argument that names
 * nothing is CS_EINPUT ("no such file", "directory holds no .h5 files",
 * "pattern matches nothing"). Duplicates (same real path) are CS_EINPUT,
 * as is a path of CS_PATH_LEN bytes or more (as typed or real). */
int fs_expand_input(cs_pathlist *pl, const char *arg, cs_err *err);
void fs_pathlist_free(cs_pathlist *pl);

/* CS_EUSAGE when a file of pl lies directly in directory `out` (the same
 * directory by device and inode, whatever the spelling): a job's outputs
 * written there would be inputs of the next job over that directory.
 * CS_OK when out does not exist yet. */
int fs_inputs_outside(const cs_pathlist *pl, const char *out, cs_err *err);

/* *same = 1 when files a and b hold the same bytes (read until the first
 * difference). CS_EINPUT when one cannot be read. */
int fs_same_bytes(const char *a, const char *b, int *same, cs_err *err);

/* Drops trailing slashes from a directory path ("out/" -> "out", "/" stays):
 * the names made from it ("out.lock", "out.tmp.PID", "out.checkpoint")
 * must be the same however the user wrote it, or two jobs would not see
 * each other's lock. Called on every output directory a command takes. */
void fs_trim_slashes(char *path);

/* 1 when name matches one of the NULL-terminated fnmatch patterns (an
 * `outputs` list as fs_begin_output's; FNM_PERIOD: no pattern matches a
 * hidden name by a wildcard). */
int fs_is_output(const char *name, const char *const *outputs);

/* Sets aside `bytes` of disk from the start of the existing file at path
 * (fallocate, the file's size unchanged), so that writes within them
 * cannot fail for want of space: parallel HDF5 cannot fail a collective
 * write or close on some ranks and carry on on the others (they wait
 * inside HDF5 for ever), so a full disk must be found before HDF5 writes.
 * CS_EIO ("not enough space (...): DIR has ... free, the file needs about
 * ...", for the caller to prefix with the file's name) when
 * the disk (or a quota) has not the room. When the file system cannot set
 * space aside: the same error if statvfs shows too little free, or if a
 * ballast of close_room bytes ("<path>.room", written and synced) does
 * not fit; else CS_OK, the data's writes unprotected but the close's room
 * kept in the ballast until fs_release_room. */
int fs_reserve(const char *path, uint64_t bytes, uint64_t close_room, cs_err *err);

/* Deletes the ballast of path, if any (fs_reserve): right before the
 * file's close, whose metadata writes then find its room. */
void fs_release_room(const char *path);

/* Gives back what fs_reserve set aside past the end of the file at path,
 * now complete (best effort: what cannot be given back stays allocated),
 * and its ballast. */
void fs_unreserve(const char *path);

/* Creates dir and its parents (like mkdir -p). */
int fs_mkdir_p(const char *dir, cs_err *err);

/* Prepares a fresh temporary directory "<final>.tmp.<pid>" beside `final`,
 * after checking `final` may be written: when it exists and holds any of
 * `outputs` (NULL-terminated file names or fnmatch patterns such as
 * "*.h5": every file the command writes there), CS_EIO unless force.
 * Called with final's lock held (fs_lock_output): the other
 * "<final>.tmp.<digits>" directories with the mark file this writes
 * (".clickseg-partial": pid and host; fs_commit_output removes it) are
 * then those of killed jobs, and are removed. */
int fs_begin_output(const char *final, const char *const *outputs, int force,
                    char *tmp, size_t tmpsize, cs_err *err);

/* CS_EIO naming it when final holds a directory at one of `names` (exact
 * file names the command will write, NULL-terminated): a file cannot be
 * moved over it. run checks before its job; fs_commit_output checks the
 * names it moves before moving any. */
int fs_check_no_dir(const char *final, const char *const *names, cs_err *err);

/* The first by name of dir's files that match the fnmatch `pattern` but
 * none of `outputs` (NULL: any match), into name; 0 when there is none (or
 * no dir). generate and import refuse a directory with other .h5 files,
 * which run would read as part of the archive but --force must not
 * remove. */
int fs_first_other(const char *dir, const char *pattern, const char *const *outputs,
                   char *name, size_t size);

/* Removes tmp and what it holds (on failure paths). */
void fs_abandon_output(const char *tmp);

#endif
