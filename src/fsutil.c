/* fsutil.c — input expansion and output directories: their checks, the
 * temporary directory a job writes in (the commit is fscommit.c). */
#include "clickseg/fsutil.h"
#include "clickseg/fslock.h"
#include "clickseg/numfmt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fscommit_priv.h"   /* fs_split_parent */

static unsigned id_hash(struct cs_fileid id)
{
    uint64_t h = (id.dev * 0x9e3779b97f4a7c15ULL) ^ id.ino;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    return (unsigned)(h ^ (h >> 29));
}

/* The slot of id: where it is listed, or the empty slot it would take. */
static int id_slot(const cs_pathlist *pl, struct cs_fileid id)
{
    int m = pl->cap2 - 1, k = (int)(id_hash(id) & (unsigned)m);
    while (pl->slot[k] && (pl->id[pl->slot[k] - 1].dev != id.dev ||
                           pl->id[pl->slot[k] - 1].ino != id.ino))
        k = (k + 1) & m;
    return k;
}

/* Room for one more path, the hash table at most half full. */
static int grow(cs_pathlist *pl, cs_err *err)
{
    if (pl->n == pl->cap) {
        int cap = pl->cap ? 2 * pl->cap : 16;
        char **np = cs_realloc(pl->path, (size_t)cap * sizeof *np, err, "input list");
        if (!np)
            return CS_ENOMEM;
        pl->path = np;
        struct cs_fileid *ni = cs_realloc(pl->id, (size_t)cap * sizeof *ni, err, "input list");
        if (!ni)
            return CS_ENOMEM;
        pl->id = ni;
        pl->cap = cap;
    }
    if (2 * (pl->n + 1) <= pl->cap2)
        return CS_OK;
    int cap2 = pl->cap2 ? 2 * pl->cap2 : 64;
    int *ns = cs_calloc((size_t)cap2, sizeof *ns, err, "input list");
    if (!ns)
        return CS_ENOMEM;
    free(pl->slot);
    pl->slot = ns;
    pl->cap2 = cap2;
    for (int i = 0; i < pl->n; i++)
        pl->slot[id_slot(pl, pl->id[i])] = i + 1;
    return CS_OK;
}

/* CS_EINPUT when p, or the real path it names, needs more than CS_PATH_LEN
 * bytes (the plan, the --state history and report.h5 keep real paths). */
static int check_length(const char *p, cs_err *err)
{
    char real[PATH_MAX];
    size_t typed = strlen(p), full = realpath(p, real) ? strlen(real) : 0;
    if (typed >= CS_PATH_LEN)
        return cs_err_set(err, CS_EINPUT, "%.200s...: the path is %zu bytes long; clickseg keeps "
                          "input paths of up to %d bytes: name the files by a shorter path "
                          "(relative to the directory the job starts in)", p, typed,
                          CS_PATH_LEN - 1);
    if (full >= CS_PATH_LEN)   /* a link does not shorten it: the real path is kept */
        return cs_err_set(err, CS_EINPUT, "%.200s: its real path is %zu bytes long; clickseg "
                          "keeps input paths of up to %d bytes: move the files to a shorter "
                          "path", p, full, CS_PATH_LEN - 1);
    return CS_OK;
}

/* Appends p unless it names a file already listed: the same file through
 * any path, a symbolic link or a hard link (the same device and inode). A
 * path that cannot be stat'ed is listed; opening it later says why. */
static int push(cs_pathlist *pl, const char *p, cs_err *err)
{
    struct stat st;
    int rc = check_length(p, err);
    if (rc != CS_OK)
        return rc;
    rc = grow(pl, err);
    if (rc != CS_OK)
        return rc;
    struct cs_fileid id = {0, 0};
    int k = -1;
    if (stat(p, &st) == 0) {
        id.dev = (unsigned long long)st.st_dev;
        id.ino = (unsigned long long)st.st_ino;
        k = id_slot(pl, id);
        if (pl->slot[k])
            return cs_err_set(err, CS_EINPUT, "%s: named twice among the inputs (also as %s)",
                              p, pl->path[pl->slot[k] - 1]);
    }
    pl->path[pl->n] = strdup(p);
    if (!pl->path[pl->n])
        return cs_err_set(err, CS_ENOMEM, "out of memory for the input list");
    pl->id[pl->n] = id;
    if (k >= 0)
        pl->slot[k] = pl->n + 1;
    pl->n++;
    return CS_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int expand_dir(cs_pathlist *pl, const char *dir, cs_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cs_err_set(err, CS_EINPUT, "%s: cannot read directory: %s", dir, strerror(errno));
    cs_pathlist tmp = {0};
    int rc = CS_OK, others = 0;
    struct dirent *e;
    while (rc == CS_OK && (e = readdir(d))) {
        size_t L = strlen(e->d_name);
        if (L < 4 || strcmp(e->d_name + L - 3, ".h5") != 0 || e->d_name[0] == '.') {
            others += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
            continue;
        }
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        rc = push(&tmp, p, err);
    }
    closedir(d);
    if (rc == CS_OK && tmp.n == 0)
        rc = others ? cs_err_set(err, CS_EINPUT, "%s: directory holds no .h5 files (%d other "
                                 "entr%s; archive files must end in .h5)", dir, others,
                                 others == 1 ? "y" : "ies")
                    : cs_err_set(err, CS_EINPUT, "%s: directory holds no .h5 files (it is empty)",
                                 dir);
    if (rc == CS_OK)
        qsort(tmp.path, (size_t)tmp.n, sizeof *tmp.path, cmp_str);
    for (int i = 0; rc == CS_OK && i < tmp.n; i++)
        rc = push(pl, tmp.path[i], err);
    fs_pathlist_free(&tmp);
    return rc;
}

/* Why `arg` cannot be used, for a failed stat: a dangling link or a path
 * through a file say so; otherwise the system's reason. */
static int stat_error(const char *arg, int e, cs_err *err)
{
    struct stat lst;
    if (e == ENOENT && lstat(arg, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char to[PATH_MAX];
        ssize_t n = readlink(arg, to, sizeof to - 1);
        to[n > 0 ? n : 0] = '\0';
        return cs_err_set(err, CS_EINPUT, "%s: a symbolic link to '%s', which does not exist",
                          arg, to);
    }
    if (e == ENOENT)
        return cs_err_set(err, CS_EINPUT, "%s: no such file or directory", arg);
    return cs_err_set(err, CS_EINPUT, "%s: cannot use this input: %s", arg, strerror(e));
}

int fs_expand_input(cs_pathlist *pl, const char *arg, cs_err *err)
{
    struct stat st;
    if (stat(arg, &st) == 0)
        return S_ISDIR(st.st_mode) ? expand_dir(pl, arg, err) : push(pl, arg, err);
    int e = errno;
    if (!strpbrk(arg, "*?["))
        return stat_error(arg, e, err);
    glob_t g;
    int grc = glob(arg, 0, NULL, &g);
    if (grc == GLOB_NOMATCH || (grc == 0 && g.gl_pathc == 0)) {
        globfree(&g);
        return cs_err_set(err, CS_EINPUT, "%s: pattern matches nothing", arg);
    }
    int rc = grc == 0 ? CS_OK : cs_err_set(err, CS_EINPUT, "%s: cannot expand pattern", arg);
    for (size_t i = 0; rc == CS_OK && i < g.gl_pathc; i++)
        rc = stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode)
                 ? expand_dir(pl, g.gl_pathv[i], err) : push(pl, g.gl_pathv[i], err);
    globfree(&g);
    return rc;
}

int fs_inputs_outside(const cs_pathlist *pl, const char *out, cs_err *err)
{
    struct stat o, d;
    if (stat(out, &o) != 0 || !S_ISDIR(o.st_mode))
        return CS_OK;
    for (int i = 0; i < pl->n; i++) {
        char parent[PATH_MAX];
        const char *base;
        fs_split_parent(pl->path[i], parent, sizeof parent, &base);
        if (stat(parent, &d) == 0 && d.st_dev == o.st_dev && d.st_ino == o.st_ino)
            return cs_err_set(err, CS_EUSAGE, "--output %s holds the input %s: the report's "
                              "files would join the archive's (and the next run over it would "
                              "read its customers.h5 as a profile table); write the report to "
                              "another directory", out, pl->path[i]);
    }
    return CS_OK;
}

void fs_pathlist_free(cs_pathlist *pl)
{
    for (int i = 0; i < pl->n; i++)
        free(pl->path[i]);
    free(pl->path);
    free(pl->id);
    free(pl->slot);
    memset(pl, 0, sizeof *pl);
}

/* read() until n bytes or the end; -1 on error. */
static ssize_t read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

int fs_same_bytes(const char *a, const char *b, int *same, cs_err *err)
{
    enum { BLOCK = 1 << 20 };
    *same = 0;
    int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
    char *ba = malloc(2 * (size_t)BLOCK), *bb = ba ? ba + BLOCK : NULL;
    int rc = CS_OK;
    if (fa < 0 || fb < 0)
        rc = cs_err_set(err, CS_EINPUT, "%s: cannot open: %s", fa < 0 ? a : b, strerror(errno));
    else if (!ba)
        rc = cs_err_set(err, CS_ENOMEM, "out of memory comparing %s and %s", a, b);
    while (rc == CS_OK) {
        ssize_t na = read_full(fa, ba, BLOCK), nb = read_full(fb, bb, BLOCK);
        if (na < 0 || nb < 0) {
            rc = cs_err_set(err, CS_EINPUT, "%s: read error: %s", na < 0 ? a : b, strerror(errno));
            break;
        }
        if (na != nb || memcmp(ba, bb, (size_t)na) != 0)
            break;
        if (na == 0) {
            *same = 1;
            break;
        }
    }
    free(ba);
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return rc;
}

void fs_trim_slashes(char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
}

int fs_mkdir_p(const char *dir, cs_err *err)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return cs_err_set(err, CS_EIO, "%s: cannot create directory: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return cs_err_set(err, CS_EIO, "%s: cannot create directory: %s", p, strerror(errno));
    return CS_OK;
}

int fs_is_output(const char *name, const char *const *outputs)
{
    for (int i = 0; outputs && outputs[i]; i++)
        if (fnmatch(outputs[i], name, FNM_PERIOD) == 0)
            return 1;
    return 0;
}

/* The first by name of dir's entries that match `want` and none of
 * `except` (NULL: none), into name (the same one whatever order readdir
 * gives); 0 when none or dir cannot be read. */
static int first_match(const char *dir, const char *const *want, const char *const *except,
                       char *name, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)))
        if (fs_is_output(e->d_name, want) && !fs_is_output(e->d_name, except) &&
            (!found || strcmp(e->d_name, name) < 0)) {
            snprintf(name, size, "%s", e->d_name);
            found = 1;
        }
    closedir(d);
    return found;
}

int fs_first_other(const char *dir, const char *pattern, const char *const *outputs,
                   char *name, size_t size)
{
    const char *const want[] = {pattern, NULL};
    return first_match(dir, want, outputs, name, size);
}

/* A directory in final at one of names (exact file names): rename()
 * cannot put a file in its place, so a commit would stop half done. */
int fs_check_no_dir(const char *final, const char *const *names, cs_err *err)
{
    for (int i = 0; names && names[i]; i++) {
        char p[PATH_MAX];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", final, names[i]);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            return cs_err_set(err, CS_EIO, "%s: a directory where an output file goes "
                              "(--force replaces files only): move it away or choose another "
                              "output directory", p);
    }
    return CS_OK;
}

int fs_begin_output(const char *final, const char *const *outputs, int force,
                    char *tmp, size_t tmpsize, cs_err *err)
{
    struct stat st;
    char name[256];
    if (stat(final, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return cs_err_set(err, CS_EIO, "%s: exists and is not a directory", final);
        if (!force && first_match(final, outputs, NULL, name, sizeof name))
            return cs_err_set(err, CS_EIO, "%s/%s: output exists; use --force to overwrite "
                              "or choose another output directory", final, name);
    }
    snprintf(tmp, tmpsize, "%s.tmp.%ld", final, (long)getpid());
    fs_abandon_output(tmp);
    fs_sweep_stale_tmps(final, tmp, 1);
    if (fs_mkdir_p(tmp, err) != CS_OK)
        return cs_err_wrap(err, "%s: cannot create the output directory", final);
    char m[PATH_MAX + 32], line[256];
    fs_holder_line(line, sizeof line);
    snprintf(m, sizeof m, "%s/" FS_TMP_MARK, tmp);
    FILE *f = fopen(m, "w");
    int ok = f && fputs(line, f) >= 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        return cs_err_set(err, CS_EIO, "%s: cannot write in the output's temporary directory %s: "
                          "%s", final, tmp, strerror(errno));
    return CS_OK;
}

void fs_abandon_output(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmp);
}

/* The ballast beside path (fs_reserve): "<path>.room". */
static void room_path(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s.room", path);
}

/* Writes `bytes` to a new file at p and makes the file system commit them
 * (fsync: NFS reports a full disk or quota only there). 0, or the errno of
 * the first failure, with nothing left at p. The bytes are pseudo-random:
 * a file system that compresses (ZFS, btrfs) would store zeros in no
 * blocks, setting nothing aside. */
static int write_ballast(const char *p, uint64_t bytes)
{
    uint64_t noise[8192];   /* 64 KiB */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = x;
    }
    const char *fill = (const char *)noise;
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    int e = 0;
    for (uint64_t at = 0; !e && at < bytes;) {
        size_t k = bytes - at < sizeof noise ? (size_t)(bytes - at) : sizeof noise;
        ssize_t w = pwrite(fd, fill, k, (off_t)at);
        if (w <= 0)
            e = w < 0 ? errno : ENOSPC;
        else
            at += (uint64_t)w;
    }
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e)
        unlink(p);
    return e;
}

int fs_reserve(const char *path, uint64_t bytes, uint64_t close_room, cs_err *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_set(err, CS_EIO, "cannot open to set disk space aside: %s",
                          strerror(errno));
    /* What is free before: a failed fallocate may keep some of its blocks. */
    struct statvfs v;
    int have_free = fstatvfs(fd, &v) == 0;
    uint64_t avail = have_free ? (uint64_t)v.f_bavail * v.f_frsize : 0;
    int e = 0;
    if (bytes && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) != 0)
        e = errno;
    close(fd);
    /* Any other failure: the file system cannot set space aside (NFSv3,
     * Lustre before 2.14, some others). statvfs is a guard against a disk
     * that is full already; the ballast one against a quota (statvfs does
     * not see it) and for the close, whose metadata writes must not fail
     * on some ranks only: it is deleted just before HDF5 closes the file. */
    if (e && e != ENOSPC && e != EDQUOT) {
        e = have_free && avail < bytes ? ENOSPC : 0;
        char room[PATH_MAX + 8];
        room_path(path, room, sizeof room);
        int b = e || !close_room ? 0 : write_ballast(room, close_room);
        if (b && b != ENOSPC && b != EDQUOT)
            return cs_err_set(err, CS_EIO, "cannot write %s to set disk space aside: %s", room,
                              strerror(b));
        if (b) {
            char size[32];
            fmt_mib(size, sizeof size, (double)close_room / 1048576.0);
            return cs_err_set(err, CS_EIO, "not enough space (%s): writing %s beside the file "
                              "failed (its file system cannot set space aside; a quota?)",
                              strerror(b), size);
        }
    }
    if (!e)
        return CS_OK;
    char dir[PATH_MAX], need[32], freeb[32];
    const char *base;
    fs_split_parent(path, dir, sizeof dir, &base);
    fmt_mib(need, sizeof need, (double)bytes / 1048576.0);
    fmt_mib(freeb, sizeof freeb, (double)avail / 1048576.0);
    if (e == EDQUOT || !have_free)
        return cs_err_set(err, CS_EIO, "not enough space (%s): the file needs about %s",
                          strerror(e), need);
    return cs_err_set(err, CS_EIO, "not enough space (%s): %s has %s free, the file needs "
                      "about %s", strerror(e), dir, freeb, need);
}

void fs_release_room(const char *path)
{
    char room[PATH_MAX + 8];
    room_path(path, room, sizeof room);
    unlink(room);
}

void fs_unreserve(const char *path)
{
    fs_release_room(path);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    /* Truncating to its own size frees the blocks past the end (measured
     * on ext4), where punching a hole past the end does nothing there. */
    if (fstat(fd, &st) == 0) {
        int r = ftruncate(fd, st.st_size);
        (void)r;   /* when it fails the blocks stay allocated until the file goes */
    }
    close(fd);
}
