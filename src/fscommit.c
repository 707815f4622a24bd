/* fscommit.c — moves a finished output from its temporary directory into
 * place (fs_commit_output) so that a kill at any moment leaves the earlier
 * outputs or the new ones, never a mix of both. Called on rank 0 by run,
 * merge, import and generate with the output's lock held. What a kill
 * leaves is finished or undone by fs_recover_output (fsrecover.c). */
#include "clickseg/fscommit.h"
#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "fscommit_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* The commit of old: file by file, into final as it is. Only where final
 * cannot be renamed (a symbolic link to the output, a mount point), we
 * may not rename it (another user's, in a sticky directory) or must not
 * (our working directory): a kill among the renames leaves a mix there,
 * as the docs say. */
static int commit_by_file(const char *tmp, const char *final, const char *const *outputs,
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
        fs_commit_step("move a file into place");
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
        fs_commit_step("remove an earlier output");
        if (unlink(b) != 0 && errno != ENOENT)
            rc = cs_err_set(err, CS_EIO, "%s: cannot remove the earlier output: %s", b,
                            strerror(errno));
    }
    free(stale);
    if (rc == CS_OK)
        rmdir(tmp);
    return rc;
}


int (*fs_commit_hook)(const char *step);

/* Before every change a kill could interrupt: the test's kill points. */
int fs_commit_step(const char *what)
{
    return fs_commit_hook ? fs_commit_hook(what) : 0;
}

/* rename(2) after its step, which a test may fail with an errno. */
static int step_rename(const char *what, const char *from, const char *to)
{
    int e = fs_commit_step(what);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return rename(from, to);
}

void fs_split_parent(const char *path, char *parent, size_t size, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(parent, size, ".");
    else if (slash == path)
        snprintf(parent, size, "/");
    else
        snprintf(parent, size, "%.*s", (int)(slash - path), path);
}

/* The renames of directories reach the disk in order: after a node's
 * power loss (not a mere kill) a local file system could otherwise show
 * a later rename without an earlier one. Best effort: NFS commits each
 * rename on the server anyway. */
static void sync_parent(const char *path)
{
    char parent[PATH_MAX];
    const char *base;
    fs_split_parent(path, parent, sizeof parent, &base);
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* The aside mark: the commit it belongs to (holder, both directories) and
 * the output patterns, which the job that finishes the commit needs to
 * tell the earlier outputs from the user's files. Whole on disk before
 * the output moves aside (an "end" line tells it is). */
static int write_aside_mark(const char *path, const char *tmp, const char *aside,
                            const char *const *outputs, cs_err *err)
{
    FILE *f = fopen(path, "w");
    char line[256];
    fs_holder_line(line, sizeof line);
    int ok = f && fputs(line, f) >= 0 && fprintf(f, "new %s\nold %s\n", tmp, aside) > 0;
    for (int i = 0; ok && outputs && outputs[i]; i++)
        ok = fprintf(f, "output %s\n", outputs[i]) > 0;
    ok = ok && fputs("end\n", f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        int e = errno;
        unlink(path);
        return cs_err_set(err, CS_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    return CS_OK;
}

/* A name for final's earlier self beside it, "<final>.old.<pid>" (with
 * more digits when a leftover holds that name), which fs_recover_output
 * finds by its mark. */
static int aside_name(const char *final, char *aside, size_t size, cs_err *err)
{
    struct stat st;
    for (int k = 0; k < 1000; k++) {
        if (k == 0)
            snprintf(aside, size, "%s.old.%ld", final, (long)getpid());
        else
            snprintf(aside, size, "%s.old.%ld%d", final, (long)getpid(), k);
        if (lstat(aside, &st) != 0 && errno == ENOENT)
            return CS_OK;
    }
    return cs_err_set(err, CS_EIO, "%s: no free name to move the earlier output aside", final);
}

/* The commit over an existing, non-empty final: it moves aside whole, the
 * temporary directory takes its name, the user's files come back. Kill
 * points, and what the next job's fs_recover_output (under the lock,
 * before any command looks at final) finds:
 *  1. before the aside mark is written (in final): nothing changed; the
 *     temporary directory keeps its partial mark and is swept.
 *  2. the mark written (whole or in part), final not yet moved: final is
 *     the earlier output plus the hidden mark, which recovery removes.
 *  3. final moved aside, the temporary directory not yet renamed: no
 *     final, the only moment without one; recovery renames aside back
 *     (a kill before the new outputs took the name undoes the commit;
 *     into an empty final too, a job script's mkdir -p) and the
 *     temporary directory is swept as in 1.
 *  4. the temporary directory renamed to final (the one step that makes
 *     the new outputs the output, as a whole): final is the new output,
 *     with the partial mark still in it, and the user's files are in
 *     aside; recovery finishes: moves the user's files back, removes the
 *     earlier outputs, aside's mark, aside, and the partial mark last
 *     (fs_finish_forward, which may start over at any point: what it did
 *     is no longer to do).
 *  5. within fs_finish_forward: as 4, some of it done.
 *  6. the aside mark removed: aside unmarked (empty, but for what could
 *     not go), which recovery removes once empty (rmdir: only ever an
 *     empty one), and the partial mark in final, which it removes.
 *  7. aside removed, the partial mark not yet: as 6.
 * Recovery tells this commit's aside by the names its mark gives and the
 * partial mark (its holder's line): see recover_aside in fsrecover.c.
 * final is thus the earlier output whole or the new one whole at every
 * point, but in 3, where it is missing until the next job (or the next
 * rename, if not killed: two renames apart). A user's file is in final
 * or in aside at every point, never lost. final's mode and group pass to
 * the new directory (fs_commit_output: a group-shared output stays so);
 * not its owner, nor its inode: a shell whose working directory was final
 * is left in the removed aside (this process is not: fs_commit_output
 * commits into its working directory file by file). A rename refused for want of rights
 * (EPERM, EACCES) falls back to commit_by_file, with final as it was. */
static int commit_swap(const char *tmp, const char *final, const char *const *outputs,
                       cs_err *err)
{
    char aside[PATH_MAX], m[PATH_MAX + 32];
    int rc = check_tmp_names(tmp, final, err);
    if (rc == CS_OK)
        rc = aside_name(final, aside, sizeof aside, err);
    if (rc != CS_OK)
        return rc;
    snprintf(m, sizeof m, "%s/" FS_ASIDE_MARK, final);
    fs_commit_step("write the aside mark");
    rc = write_aside_mark(m, tmp, aside, outputs, err);
    if (rc != CS_OK)
        return rc;
    if (step_rename("move the output aside", final, aside) != 0) {
        int e = errno;
        unlink(m);
        /* a mount point, a final we may not move (another user's in a
         * sticky directory): as of old */
        if (e == EBUSY || e == EXDEV || e == EPERM || e == EACCES)
            return commit_by_file(tmp, final, outputs, err);
        return cs_err_set(err, CS_EIO, "%s: cannot move aside to %s: %s", final, aside,
                          strerror(e));
    }
    sync_parent(final);
    if (step_rename("rename the temporary directory to the output", tmp, final) != 0) {
        int e = errno;
        if (rename(aside, final) != 0)
            return cs_err_set(err, CS_EIO, "%s: cannot move into place: %s; the earlier output "
                              "is in %s, and the next clickseg job on %s puts it back", final,
                              strerror(e), aside, final);
        unlink(m);
        /* final is back as it was (a kill in between leaves it so, with
         * the mark recovery removes): what the file system refused the
         * new directory it may allow its files */
        if (e == EPERM || e == EACCES)
            return commit_by_file(tmp, final, outputs, err);
        return cs_err_set(err, CS_EIO, "%s: cannot move into place: %s", final, strerror(e));
    }
    sync_parent(final);
    return fs_finish_forward(aside, final, outputs, err);
}

int fs_commit_output(const char *tmp, const char *final, const char *const *outputs,
                     cs_err *err)
{
    char m[PATH_MAX + 32];
    struct stat st;
    /* final's mode and group pass to the new directory, also an empty
     * final's, which the rename below replaces (mkdir -m 2770 OUT).
     * Best effort: a group we are not in leaves ours; the group first, as
     * a change of group may clear the set-group-ID bit. */
    int have = lstat(final, &st) == 0 && S_ISDIR(st.st_mode);
    if (have && chown(tmp, (uid_t)-1, st.st_gid) != 0) {
        /* the new directory keeps our group */
    }
    if (have && chmod(tmp, st.st_mode & 07777) != 0) {
        /* the new directory keeps its mode */
    }
    /* Kill points. No final yet (or an empty one): one rename makes it,
     * the partial mark inside until then, so that a kill before leaves
     * no final and a marked temporary directory, which the next job's
     * sweep removes, and a kill after leaves the new output whole with
     * the mark, which the next job's fs_recover_output removes. Over an
     * existing output: commit_swap, whose comment goes through its own. */
    if (step_rename("rename the temporary directory to the output", tmp, final) == 0) {
        sync_parent(final);
        snprintf(m, sizeof m, "%s/" FS_TMP_MARK, final);
        fs_commit_step("remove the partial mark");
        unlink(m);
        return CS_OK;
    }
    int e = errno;
    /* A process whose working directory is final (cd OUT && clickseg run
     * -o $PWD --state week.state) would be left in the removed aside, its
     * relative paths (the --state file staged in OUT) leading nowhere:
     * into final itself, file by file. */
    struct stat cwd;
    if (have && (e == ENOTEMPTY || e == EEXIST) && stat(".", &cwd) == 0 &&
        cwd.st_dev == st.st_dev && cwd.st_ino == st.st_ino)
        return commit_by_file(tmp, final, outputs, err);
    if (have && (e == ENOTEMPTY || e == EEXIST))
        return commit_swap(tmp, final, outputs, err);
    /* A link, a mount point; a final we may not replace (another user's
     * in a sticky directory, refused before its emptiness is looked at):
     * into it, file by file, as of old. */
    if (e == ENOTDIR || e == EBUSY || e == EXDEV || (have && (e == EPERM || e == EACCES)))
        return commit_by_file(tmp, final, outputs, err);
    return cs_err_set(err, CS_EIO, "%s: cannot move %s into place: %s", final, tmp,
                      strerror(e));
}
