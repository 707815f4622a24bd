/* fsrecover.c — ends a commit a kill interrupted (fs_recover_output,
 * called by fs_lock_output as it takes the output's lock, before any
 * command looks at the output), and the end of a swap, which the commit
 * itself runs and the recovery finishes (fs_finish_forward). The kill
 * points: the comment of commit_swap in fscommit.c. */
#include "clickseg/fscommit.h"
#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "fscommit_priv.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An aside mark, read: its lines, pointing into buf. */
struct amark {
    char *buf;
    char **pats;   /* the output patterns, NULL-ended */
    const char *holder, *tmp, *aside;   /* "pid N on HOST", the "new" and "old" lines */
};

/* Reads the aside mark at path into *a (free_amark frees it): 1 when it
 * is whole, 0 when not (no mark our commit leaves in an aside: it is
 * whole before the output moves), -1 (CS_ENOMEM in err) out of memory. */
static int read_aside_mark(const char *path, struct amark *a, cs_err *err)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t cap = 0, len = 0;
    int n = 0, ended = 0, c;
    while ((c = getc(f)) != EOF) {
        if (len + 1 >= cap) {
            cap = 2 * cap + 256;
            char *p = cs_realloc(a->buf, cap, err, "the commit mark");
            if (!p) {
                fclose(f);
                return -1;
            }
            a->buf = p;
        }
        a->buf[len++] = (char)c;
    }
    fclose(f);
    if (!a->buf)
        return 0;
    a->buf[len] = '\0';
    for (char *s = a->buf; *s; s++)
        n += *s == '\n';
    if (!(a->pats = cs_calloc((size_t)n + 1, sizeof *a->pats, err, "the commit mark")))
        return -1;
    n = 0;
    for (char *s = a->buf, *nl; !ended && (nl = strchr(s, '\n')); s = nl + 1) {
        *nl = '\0';
        if (strncmp(s, "output ", 7) == 0)
            a->pats[n++] = s + 7;
        else if (strncmp(s, "pid ", 4) == 0)
            a->holder = s;
        else if (strncmp(s, "new ", 4) == 0)
            a->tmp = s + 4;
        else if (strncmp(s, "old ", 4) == 0)
            a->aside = s + 4;
        ended = strcmp(s, "end") == 0;
    }
    return ended && a->holder && a->tmp && a->aside;
}

static void free_amark(struct amark *a)
{
    free(a->pats);
    free(a->buf);
}

/* 1 when the file at path holds exactly line and a newline: a partial
 * mark of the holder an aside mark names. */
static int holds_line(const char *path, const char *line)
{
    char got[512];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    size_t l = strlen(line);
    return n == l + 1 && strncmp(got, line, l) == 0 && got[l] == '\n';
}

/* 1 for an entry of the aside directory the user's files do not include:
 * the commit's marks and NFS's .nfsXXXX (an unlinked file some process
 * still holds open: it goes when that process closes it, and would be
 * no file of the user's in the output). */
static int not_users(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
           strcmp(name, FS_ASIDE_MARK) == 0 || strcmp(name, FS_TMP_MARK) == 0 ||
           strncmp(name, ".nfs", 4) == 0;
}

/* 1 when entry `name` of dir is one of the earlier outputs: a file or a
 * link that matches `outputs` (a directory of such a name is the
 * user's, as the commit of old left it alone). */
static int earlier_output(const char *dir, const char *name, const char *const *outputs)
{
    char p[PATH_MAX];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return fs_is_output(name, outputs) && lstat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Moves the user's entries of aside (all but the earlier outputs) into
 * final. One final already has stays in aside (and so does aside): the
 * new outputs are never replaced. Again from the start after a kill: what
 * moved is no longer in aside. */
static int carry_back(const char *aside, const char *final, const char *const *outputs,
                      cs_err *err)
{
    DIR *d = opendir(aside);
    if (!d)
        return cs_err_set(err, CS_EIO, "%s: cannot read directory: %s", aside, strerror(errno));
    struct dirent *e;
    int rc = CS_OK;
    while (rc == CS_OK && (e = readdir(d))) {
        if (not_users(e->d_name) || earlier_output(aside, e->d_name, outputs))
            continue;
        char a[PATH_MAX], b[PATH_MAX];
        struct stat st;
        snprintf(a, sizeof a, "%s/%s", aside, e->d_name);
        snprintf(b, sizeof b, "%s/%s", final, e->d_name);
        if (lstat(b, &st) == 0)
            continue;
        fs_commit_step("carry back");
        if (rename(a, b) != 0)
            rc = cs_err_set(err, CS_EIO, "%s: cannot move back into %s (it is in %s; the next "
                            "clickseg job on %s tries again): %s", e->d_name, final, aside, final,
                            strerror(errno));
    }
    closedir(d);
    return rc;
}

/* Removes the earlier outputs from aside. */
static int clear_outputs(const char *aside, const char *const *outputs, cs_err *err)
{
    DIR *d = opendir(aside);
    if (!d)
        return cs_err_set(err, CS_EIO, "%s: cannot read directory: %s", aside, strerror(errno));
    struct dirent *e;
    int rc = CS_OK;
    while (rc == CS_OK && (e = readdir(d))) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", aside, e->d_name);
        if (!earlier_output(aside, e->d_name, outputs))
            continue;
        fs_commit_step("remove an earlier output");
        if (unlink(p) != 0 && errno != ENOENT)
            rc = cs_err_set(err, CS_EIO, "%s: cannot remove the earlier output: %s", p,
                            strerror(errno));
    }
    closedir(d);
    return rc;
}

/* After the new outputs took final's name: the user's files come back
 * from aside, the earlier outputs go, then aside's mark and aside, and
 * last the partial mark the new outputs came with, which tells
 * fs_recover_output the commit is unfinished and this aside its own
 * (see recover_aside). What aside still holds (an open file's .nfsXXXX
 * on NFS; a file of the user's the new outputs left no room for) keeps
 * it, unmarked: the commit is done, and fs_recover_output removes it
 * once it is empty. Again from the start after a kill: what is done is
 * no longer to do. */
int fs_finish_forward(const char *aside, const char *final, const char *const *outputs,
                      cs_err *err)
{
    char m[PATH_MAX + 32];
    int rc = carry_back(aside, final, outputs, err);
    if (rc == CS_OK)
        rc = clear_outputs(aside, outputs, err);
    if (rc != CS_OK)
        return rc;
    snprintf(m, sizeof m, "%s/" FS_ASIDE_MARK, aside);
    fs_commit_step("remove the aside mark");
    unlink(m);
    fs_commit_step("remove the aside directory");
    rmdir(aside);
    snprintf(m, sizeof m, "%s/" FS_TMP_MARK, final);
    fs_commit_step("remove the partial mark");
    unlink(m);
    return CS_OK;
}

/* 1 when name is base + suffix + digits (at least one). */
static int named_like(const char *name, const char *base, const char *suffix)
{
    size_t b = strlen(base), s = strlen(suffix);
    return strncmp(name, base, b) == 0 && strncmp(name + b, suffix, s) == 0 &&
           name[b + s] && strspn(name + b + s, "0123456789") == strlen(name + b + s);
}

/* The last component of path. */
static const char *last_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* parent/name, a "<final>.old.N" directory: finished (kill points 4 to
 * 5), undone (3) or left as it is, see commit_swap. Taken over only as
 * the aside of final's own interrupted commit: its mark names it (by name:
 * the paths in the mark are as that job gave them), and that commit's
 * partial mark (its holder line) is in final, the new outputs (forward),
 * or in the temporary directory the mark names while final is missing or
 * empty (back; an empty final is a job script's mkdir -p). Any other
 * directory of the name (another output, "reports.old.2023"; an aside
 * kept by .nfs files) is left: taking it over made it the output, or
 * removed its outputs as a finished commit's. */
static int recover_aside(const char *parent, const char *name, const char *final,
                         cs_err *err)
{
    char aside[PATH_MAX], m[PATH_MAX + 32], pm[2 * PATH_MAX];
    struct stat st;
    struct amark a;
    /* Outputs' paths are refused from CS_OUTPUT_PATH_MAX on, far below
     * PATH_MAX, so a name that does not fit is no aside of ours: left
     * alone. */
    if ((size_t)snprintf(aside, sizeof aside, "%s/%s", parent, name) >= sizeof aside)
        return CS_OK;
    snprintf(m, sizeof m, "%s/" FS_ASIDE_MARK, aside);
    if (lstat(m, &st) != 0) {
        rmdir(aside);   /* kill points 6, 7; only ever removes an empty directory */
        return CS_OK;
    }
    int got = read_aside_mark(m, &a, err), rc = got < 0 ? CS_ENOMEM : CS_OK;
    if (got == 1 && strcmp(last_name(a.aside), name) == 0) {
        snprintf(pm, sizeof pm, "%s/" FS_TMP_MARK, final);
        if (holds_line(pm, a.holder)) {
            rc = fs_finish_forward(aside, final, (const char *const *)a.pats, err);
        } else {
            snprintf(pm, sizeof pm, "%s/%s/" FS_TMP_MARK, parent, last_name(a.tmp));
            int ours = holds_line(pm, a.holder);
            int gone = lstat(final, &st) != 0 && errno == ENOENT;
            if (ours && !gone) {
                fs_commit_step("remove an empty output");
                gone = rmdir(final) == 0;
            }
            if (ours && gone) {
                fs_commit_step("rename the aside directory back");
                if (rename(aside, final) != 0)
                    rc = cs_err_set(err, CS_EIO, "%s: cannot put the earlier output back "
                                    "from %s: %s", final, aside, strerror(errno));
            }   /* the mark, now in final: fs_recover_output's end */
        }
    }
    free_amark(&a);
    return rc;
}

int fs_recover_output(const char *final, cs_err *err)
{
    char parent[PATH_MAX], p[PATH_MAX], m[PATH_MAX + 32];
    const char *base;
    struct stat st;
    fs_split_parent(final, parent, sizeof parent, &base);
    DIR *d = opendir(parent);
    if (!d)
        return CS_OK;   /* nothing there yet */
    struct dirent *e;
    int rc = CS_OK;
    while (rc == CS_OK && (e = readdir(d))) {
        if (!named_like(e->d_name, base, ".old.") ||
            snprintf(p, sizeof p, "%s/%s", parent, e->d_name) >= (int)sizeof p ||
            lstat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        rc = recover_aside(parent, e->d_name, final, err);
    }
    closedir(d);
    if (rc != CS_OK)
        return rc;
    /* An output never holds the marks: kill points 2, 3 (after the undo)
     * and 6, 7 of commit_swap, the fresh commit's last one; or a commit
     * whose aside is gone or not its own. */
    const char *marks[] = {FS_ASIDE_MARK, FS_TMP_MARK};
    for (int i = 0; i < 2; i++) {
        snprintf(m, sizeof m, "%s/%s", final, marks[i]);
        if (lstat(m, &st) == 0) {
            fs_commit_step("remove a mark from the output");
            unlink(m);
        }
    }
    return CS_OK;
}
