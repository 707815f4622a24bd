/* fail_space.c — an LD_PRELOAD shim for test_full_disk.sh: a disk with
 * FAIL_SPACE bytes for each file whose path contains one of the
 * ':'-separated strings of FAIL_MATCH. What a file holds is its
 * st_blocks, as the file system reports it, so every rank writing the
 * file sees the same. A write (or fallocate) needs room for the part of
 * its range the file has no blocks for yet (FIEMAP; all of it where that
 * cannot be told); one that does not fit fails with ENOSPC and leaves the
 * disk full: the room left is allocated to the file, out of sight past its
 * end (fallocate FALLOC_FL_KEEP_SIZE), as another writer would take it;
 * truncating or removing the file gives it all back, as on a real disk.
 * fstatvfs on such a file reports the room left as free (FAIL_STATVFS
 * bytes when set: a disk another job fills after the check). With
 * FAIL_NOFALLOCATE set, fallocate on such a file fails with EOPNOTSUPP, as
 * on a file system that cannot set space aside. With FAIL_POOL set, the
 * matched files of one directory share one disk of FAIL_SPACE bytes (a
 * file and its ballast, "<file>.room"). With FAIL_NOFLOCK set, flock on
 * a file whose path contains it fails with ENOSYS, as on Lustre mounted
 * without flock. Built by the test with cc -shared; everything else passes
 * through. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim_fd.h"

static int path_matches(const char *t)
{
    const char *m = getenv("FAIL_MATCH");
    if (!m || !*m)
        return 0;
    char pat[4096];
    snprintf(pat, sizeof pat, "%s", m);
    for (char *save = NULL, *s = strtok_r(pat, ":", &save); s; s = strtok_r(NULL, ":", &save))
        if (strstr(t, s))
            return 1;
    return 0;
}

static int matches(int fd)
{
    char t[4096];
    return shim_fd_path(fd, t, sizeof t) && path_matches(t);
}

/* With FAIL_POOL: the bytes every matched file in fd's directory holds,
 * the files sharing one disk of FAIL_SPACE (a file and its ballast). */
static unsigned long long pool_used(int fd)
{
    char t[4096];
    if (!shim_fd_path(fd, t, sizeof t))
        return 0;
    char *slash = strrchr(t, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    DIR *d = opendir(*t ? t : "/");
    if (!d)
        return 0;
    unsigned long long used = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[8192];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", t, e->d_name);
        if (path_matches(p) && stat(p, &st) == 0 && S_ISREG(st.st_mode))
            used += (unsigned long long)st.st_blocks * 512;
    }
    closedir(d);
    return used;
}

/* Far past the end of any file the tests write: the room a failed write
 * fills goes there, where HDF5 never reads or writes. */
#define FAR_OFF ((off_t)1 << 40)

typedef int (*fallocate_fn)(int, int, off_t, off_t);

static int real_fallocate(int fd, int mode, off_t off, off_t len)
{
    static fallocate_fn real;
    if (!real)
        real = (fallocate_fn)dlsym(RTLD_NEXT, "fallocate");
    return real(fd, mode, off, len);
}

/* Bytes of [off, off + n) that fd's file has no blocks for (n when FIEMAP
 * cannot say): what writing them takes from the disk. */
static unsigned long long unallocated(int fd, off_t off, unsigned long long n)
{
    union {
        struct fiemap f;
        char room[sizeof(struct fiemap) + 32 * sizeof(struct fiemap_extent)];
    } u;
    unsigned long long pos = (unsigned long long)off, end = pos + n, have = 0;
    while (pos < end) {
        memset(&u, 0, sizeof u);
        u.f.fm_start = pos;
        u.f.fm_length = end - pos;
        u.f.fm_extent_count = 32;
        if (ioctl(fd, FS_IOC_FIEMAP, &u.f) != 0)
            return n;
        if (u.f.fm_mapped_extents == 0)
            break;
        for (unsigned i = 0; i < u.f.fm_mapped_extents; i++) {
            const struct fiemap_extent *e = &u.f.fm_extents[i];
            unsigned long long lo = e->fe_logical > pos ? e->fe_logical : pos,
                               hi = e->fe_logical + e->fe_length < end
                                        ? e->fe_logical + e->fe_length : end;
            if (hi > lo)
                have += hi - lo;
            pos = e->fe_logical + e->fe_length;
            if (e->fe_flags & FIEMAP_EXTENT_LAST)
                pos = end;
        }
    }
    return have < n ? n - have : 0;
}

/* The disk's size (0: no simulated disk for fd) and what fd's file holds. */
static unsigned long long simulated(int fd, unsigned long long *used)
{
    const char *space = getenv("FAIL_SPACE");
    struct stat st;
    if (!space || !*space || !matches(fd) || fstat(fd, &st) != 0)
        return 0;
    const char *pool = getenv("FAIL_POOL");
    *used = pool && *pool ? pool_used(fd) : (unsigned long long)st.st_blocks * 512;
    return strtoull(space, NULL, 10);
}

/* 1 when n bytes written at off fit in fd's file; else 0, errno ENOSPC,
 * the room left filled. */
static int fits(int fd, off_t off, size_t n)
{
    unsigned long long used = 0, cap = simulated(fd, &used);
    if (!cap)
        return 1;
    unsigned long long need = unallocated(fd, off, n);
    if (used + need <= cap)
        return 1;
    if (used < cap)
        real_fallocate(fd, FALLOC_FL_KEEP_SIZE, FAR_OFF, (off_t)(cap - used));
    errno = ENOSPC;
    return 0;
}

/* Where write(2) on fd writes. */
static off_t here(int fd)
{
    off_t o = lseek(fd, 0, SEEK_CUR);
    return o < 0 ? 0 : o;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    if (!(mode & FALLOC_FL_PUNCH_HOLE) && matches(fd)) {
        const char *no = getenv("FAIL_NOFALLOCATE");
        if (no && *no) {
            errno = EOPNOTSUPP;
            return -1;
        }
        if (!fits(fd, off, (size_t)len))
            return -1;
    }
    return real_fallocate(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
    return fallocate(fd, mode, off, len);
}

typedef int (*fstatvfs_fn)(int, struct statvfs *);

int fstatvfs(int fd, struct statvfs *v)
{
    static fstatvfs_fn real;
    if (!real)
        real = (fstatvfs_fn)dlsym(RTLD_NEXT, "fstatvfs");
    int rc = real(fd, v);
    unsigned long long used = 0, cap = rc == 0 ? simulated(fd, &used) : 0;
    const char *lie = getenv("FAIL_STATVFS");
    unsigned long long room = lie && *lie ? strtoull(lie, NULL, 10) : used < cap ? cap - used : 0;
    if (cap && v->f_frsize)
        v->f_bavail = v->f_bfree = room / v->f_frsize;
    return rc;
}

/* The same struct on 64-bit Linux, where the tests run. */
int fstatvfs64(int fd, struct statvfs64 *v)
{
    return fstatvfs(fd, (struct statvfs *)(void *)v);
}

static size_t iov_bytes(const struct iovec *v, int k)
{
    size_t n = 0;
    for (int i = 0; i < k; i++)
        n += v[i].iov_len;
    return n;
}

#define REAL(name, type) \
    static type real; \
    if (!real) \
        real = (type)dlsym(RTLD_NEXT, name)

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);

ssize_t write(int fd, const void *b, size_t n)
{
    REAL("write", write_fn);
    return fits(fd, here(fd), n) ? real(fd, b, n) : -1;
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t o)
{
    REAL("pwrite", pwrite_fn);
    return fits(fd, o, n) ? real(fd, b, n, o) : -1;
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t o)
{
    REAL("pwrite64", pwrite_fn);
    return fits(fd, o, n) ? real(fd, b, n, o) : -1;
}

ssize_t writev(int fd, const struct iovec *v, int k)
{
    REAL("writev", writev_fn);
    return fits(fd, here(fd), iov_bytes(v, k)) ? real(fd, v, k) : -1;
}

ssize_t pwritev(int fd, const struct iovec *v, int k, off_t o)
{
    REAL("pwritev", pwritev_fn);
    return fits(fd, o, iov_bytes(v, k)) ? real(fd, v, k, o) : -1;
}

ssize_t pwritev64(int fd, const struct iovec *v, int k, off_t o)
{
    REAL("pwritev64", pwritev_fn);
    return fits(fd, o, iov_bytes(v, k)) ? real(fd, v, k, o) : -1;
}

ssize_t pwritev2(int fd, const struct iovec *v, int k, off_t o, int flags)
{
    REAL("pwritev2", pwritev2_fn);
    return fits(fd, o, iov_bytes(v, k)) ? real(fd, v, k, o, flags) : -1;
}

typedef int (*flock_fn)(int, int);

int flock(int fd, int op)
{
    const char *m = getenv("FAIL_NOFLOCK");
    char t[4096];
    if (m && *m && shim_fd_path(fd, t, sizeof t) && strstr(t, m)) {
        errno = ENOSYS;
        return -1;
    }
    REAL("flock", flock_fn);
    return real(fd, op);
}
