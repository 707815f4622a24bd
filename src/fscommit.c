/* fscommit.c — moves a finished output from its temporary directory into
 * place (fs_commit_output). Called on rank 0 by run, merge, import and
 * generate, with the output's lock held (fs_lock_output). */
#include "clickseg/fscommit.h"
#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fs_check_no_dir for the files tmp holds, the names the commit moves. */
static int check_tmp_names(const char *tmp, const char *final, cs_err *err)
{
    DIR *d = opendir(tmp);
    if (!d)
        return cs_err_set(err, CS_EIO, "%s: cannot read directory: %s", tmp, strerror(errno));
    struct dirent *e;
    int rc = CS_OK;
    while (rc == CS_OK && (e = readdir(d))) {
        const char *one[] = {e->d_name, NULL};
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            rc = fs_check_no_dir(final, one, err);
    }
    closedir(d);
    return rc;
}

/* The names (each NUL-ended, one after another, into *names, *len bytes) of
 * final's outputs that tmp does not replace: a forced rerun that writes
 * fewer files (no --sessions this time, an archive of fewer files) must
 * not leave the last run's beside its own, contradicting them. Only files
 * and links: a directory that matches is no output of ours. */
static int stale_outputs(const char *tmp, const char *final, const char *const *outputs,
                         char **names, size_t *len, cs_err *err)
{
    *names = NULL;
    *len = 0;
    DIR *d = opendir(final);
    if (!d)
        return CS_OK;   /* nothing there yet */
    struct dirent *e;
    int rc = CS_OK;
    size_t cap = 0;
    while (rc == CS_OK && (e = readdir(d))) {
        char a[PATH_MAX], b[PATH_MAX];
        struct stat st;
        snprintf(a, sizeof a, "%s/%s", tmp, e->d_name);
        snprintf(b, sizeof b, "%s/%s", final, e->d_name);
        if (!fs_is_output(e->d_name, outputs) || access(a, F_OK) == 0 || lstat(b, &st) != 0 ||
            S_ISDIR(st.st_mode))
            continue;
        size_t n = strlen(e->d_name) + 1;
        if (*len + n > cap) {
            cap = 2 * (*len + n) + 256;
            char *p = cs_realloc(*names, cap, err, "earlier outputs");
            if (!p) {
                rc = CS_ENOMEM;
                break;
            }
            *names = p;
        }
        memcpy(*names + *len, e->d_name, n);
        *len += n;
    }
    closedir(d);
    return rc;
}

int fs_commit_output(const char *tmp, const char *final, const char *const *outputs,
                     cs_err *err)
{
    char *stale = NULL;
    size_t nstale = 0;
    /* The mark is no output; from here a failure abandons tmp anyway. */
    char m[PATH_MAX + 32];
    snprintf(m, sizeof m, "%s/" FS_TMP_MARK, tmp);
    unlink(m);
    int rc = fs_mkdir_p(final, err);
    /* Before the first file moves: all the outputs move, or none. */
    if (rc == CS_OK)
        rc = check_tmp_names(tmp, final, err);
    if (rc == CS_OK)
        rc = stale_outputs(tmp, final, outputs, &stale, &nstale, err);
    DIR *d = rc == CS_OK ? opendir(tmp) : NULL;
    if (rc == CS_OK && !d)
        rc = cs_err_set(err, CS_EIO, "%s: cannot read directory: %s", tmp, strerror(errno));
    struct dirent *e;
    while (rc == CS_OK && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char a[PATH_MAX], b[PATH_MAX];
        snprintf(a, sizeof a, "%s/%s", tmp, e->d_name);
        snprintf(b, sizeof b, "%s/%s", final, e->d_name);
        if (rename(a, b) != 0)
            rc = cs_err_set(err, CS_EIO, "%s: cannot move into place: %s", b, strerror(errno));
    }
    if (d)
        closedir(d);
    /* The new outputs are in place before the old ones go: a failure here
     * leaves an extra file, never a directory with neither. */
    for (size_t at = 0; rc == CS_OK && at < nstale; at += strlen(stale + at) + 1) {
        char b[PATH_MAX];
        snprintf(b, sizeof b, "%s/%s", final, stale + at);
        if (unlink(b) != 0 && errno != ENOENT)
            rc = cs_err_set(err, CS_EIO, "%s: cannot remove the earlier output: %s", b,
                            strerror(errno));
    }
    free(stale);
    if (rc == CS_OK)
        rmdir(tmp);
    return rc;
}

