/* fail_space.c — an LD_PRELOAD shim for test_full_disk.sh: a disk with
 * FAIL_SPACE bytes for each file whose path contains one of the
 * ':'-separated strings of FAIL_MATCH. What a file holds is its
 * st_blocks, as the file system reports it, so every rank writing the
 * file sees the same. A write that does not fit fails with ENOSPC and
 * leaves the disk full: the room left is allocated to the file, out of
 * sight past its end (fallocate FALLOC_FL_KEEP_SIZE), as another writer
 * would take it; truncating or removing the file gives it all back, as on
 * a real disk. Built by the test with cc -shared; everything else passes
 * through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int matches(int fd)
{
    const char *m = getenv("FAIL_MATCH");
    if (!m || !*m)
        return 0;
    char p[64], t[4096];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, t, sizeof t - 1);
    if (n < 0)
        return 0;
    t[n] = '\0';
    char pat[4096];
    snprintf(pat, sizeof pat, "%s", m);
    for (char *save = NULL, *s = strtok_r(pat, ":", &save); s; s = strtok_r(NULL, ":", &save))
        if (strstr(t, s))
            return 1;
    return 0;
}

/* Far past the end of any file the tests write: the room a failed write
 * fills goes there, where HDF5 never reads or writes. */
#define FAR_OFF ((off_t)1 << 40)

/* 1 when n more bytes fit in fd's file; else 0, errno ENOSPC, the room
 * left filled. */
static int fits(int fd, size_t n)
{
    const char *space = getenv("FAIL_SPACE");
    struct stat st;
    if (!space || !*space || !matches(fd) || fstat(fd, &st) != 0)
        return 1;
    unsigned long long used = (unsigned long long)st.st_blocks * 512,
                       cap = strtoull(space, NULL, 10);
    if (used + n <= cap)
        return 1;
    if (used < cap)
        fallocate(fd, FALLOC_FL_KEEP_SIZE, FAR_OFF, (off_t)(cap - used));
    errno = ENOSPC;
    return 0;
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
    return fits(fd, n) ? real(fd, b, n) : -1;
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t o)
{
    REAL("pwrite", pwrite_fn);
    return fits(fd, n) ? real(fd, b, n, o) : -1;
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t o)
{
    REAL("pwrite64", pwrite_fn);
    return fits(fd, n) ? real(fd, b, n, o) : -1;
}

ssize_t writev(int fd, const struct iovec *v, int k)
{
    REAL("writev", writev_fn);
    return fits(fd, iov_bytes(v, k)) ? real(fd, v, k) : -1;
}

ssize_t pwritev(int fd, const struct iovec *v, int k, off_t o)
{
    REAL("pwritev", pwritev_fn);
    return fits(fd, iov_bytes(v, k)) ? real(fd, v, k, o) : -1;
}

ssize_t pwritev64(int fd, const struct iovec *v, int k, off_t o)
{
    REAL("pwritev64", pwritev_fn);
    return fits(fd, iov_bytes(v, k)) ? real(fd, v, k, o) : -1;
}

ssize_t pwritev2(int fd, const struct iovec *v, int k, off_t o, int flags)
{
    REAL("pwritev2", pwritev2_fn);
    return fits(fd, iov_bytes(v, k)) ? real(fd, v, k, o, flags) : -1;
}
