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

/* The output patterns of an aside mark, into *pats (a NULL-ended array
 * pointing into *buf; both freed by the caller). */
static int read_aside_mark(const char *path, char **buf, char ***pats, cs_err *err)
{
    *buf = NULL;
    *pats = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return cs_err_set(err, CS_EIO, "%s: cannot read: %s", path, strerror(errno));
    size_t cap = 0, len = 0;
    int n = 0, ended = 0, c, rc = CS_OK;
    while (rc == CS_OK && (c = getc(f)) != EOF) {
        if (len + 1 >= cap) {
            cap = 2 * cap + 256;
            char *p = cs_realloc(*buf, cap, err, "the commit mark");
            rc = p ? CS_OK : CS_ENOMEM;
            *buf = p ? p : *buf;
        }
        if (rc == CS_OK)
            (*buf)[len++] = (char)c;
    }
    fclose(f);
    if (rc != CS_OK)
        return rc;
    if (!*buf)
        return cs_err_set(err, CS_EIO, "%s: the mark of an interrupted commit is empty: move "
                          "the user's files of that directory into the output and remove it",
                          path);
    char *text = *buf;
    text[len] = '\0';
    for (char *s = text; *s; s++)
        n += *s == '\n';
    *pats = cs_calloc((size_t)n + 1, sizeof **pats, err, "the commit mark");
    if (!*pats)
        return CS_ENOMEM;
    n = 0;
    for (char *s = text, *nl; !ended && (nl = strchr(s, '\n')); s = nl + 1) {
        *nl = '\0';
        if (strncmp(s, "output ", 7) == 0)
            (*pats)[n++] = s + 7;
        ended = strcmp(s, "end") == 0;
    }
    if (!ended)
        return cs_err_set(err, CS_EIO, "%s: the mark of an interrupted commit is incomplete: "
                          "move the user's files of that directory into the output and remove "
                          "it", path);
    return CS_OK;
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

/* The entries of dir but its aside mark (-1: dir cannot be read). */
static int entries_but_mark(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
             strcmp(e->d_name, FS_ASIDE_MARK) != 0;
    closedir(d);
    return n;
}

/* Removes the earlier outputs from aside, then aside with its mark when
 * nothing else is left. What is (an open file's .nfsXXXX on NFS, counted
 * afresh since it appears as we unlink; a file of the user's the new
 * outputs left no room for) keeps aside and its mark: the next job's
 * fs_recover_output tries again. A kill between the mark's removal and
 * the rmdir leaves an empty directory, which fs_recover_output removes. */
static int clear_aside(const char *aside, const char *const *outputs, cs_err *err)
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
    if (rc != CS_OK || entries_but_mark(aside) != 0)
        return rc;
    char m[PATH_MAX + 32];
    snprintf(m, sizeof m, "%s/" FS_ASIDE_MARK, aside);
    fs_commit_step("remove the aside mark");
    unlink(m);
    fs_commit_step("remove the aside directory");
    rmdir(aside);
    return CS_OK;
}

/* After the new outputs took final's name: the partial mark they came
 * with goes, the user's files come back from aside, aside goes. */
int fs_finish_forward(const char *aside, const char *final, const char *const *outputs,
                      cs_err *err)
{
    char m[PATH_MAX + 32];
    snprintf(m, sizeof m, "%s/" FS_TMP_MARK, final);
    fs_commit_step("remove the partial mark");
    unlink(m);
    int rc = carry_back(aside, final, outputs, err);
    return rc == CS_OK ? clear_aside(aside, outputs, err) : rc;
}

/* 1 when name is base + suffix + digits (at least one). */
static int named_like(const char *name, const char *base, const char *suffix)
{
    size_t b = strlen(base), s = strlen(suffix);
    return strncmp(name, base, b) == 0 && strncmp(name + b, suffix, s) == 0 &&
           name[b + s] && strspn(name + b + s, "0123456789") == strlen(name + b + s);
}

/* One "<final>.old.N" left by a killed commit: undone (kill point 3) or
 * finished (4 to 6), see commit_swap. */
static int recover_aside(const char *aside, const char *final, cs_err *err)
{
    char m[PATH_MAX + 32];
    struct stat st;
    snprintf(m, sizeof m, "%s/" FS_ASIDE_MARK, aside);
    if (lstat(m, &st) != 0) {
        rmdir(aside);   /* kill point 6; only ever removes an empty directory */
        return CS_OK;
    }
    if (lstat(final, &st) != 0 && errno == ENOENT) {
        fs_commit_step("rename the aside directory back");
        if (rename(aside, final) != 0)
            return cs_err_set(err, CS_EIO, "%s: cannot put the earlier output back from %s: %s",
                              final, aside, strerror(errno));
        return CS_OK;   /* the mark, now in final: below */
    }
    char *buf = NULL, **pats = NULL;
    int rc = read_aside_mark(m, &buf, &pats, err);
    if (rc == CS_OK)
        rc = fs_finish_forward(aside, final, (const char *const *)pats, err);
    free(pats);
    free(buf);
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
        rc = recover_aside(p, final, err);
    }
    closedir(d);
    if (rc != CS_OK)
        return rc;
    /* An output never holds the marks: kill points 2 and 3 (after the
     * undo) of commit_swap, the fresh commit's last one. */
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
