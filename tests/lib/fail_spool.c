/* fail_spool.c — an LD_PRELOAD shim for test_spool_errors.sh: the sessions
 * spool (a file whose name holds ".sessions-spool") of rank FAIL_RANK
 * (OMPI_COMM_WORLD_RANK, or "all") cannot be created (FAIL_OPEN=1, EROFS)
 * or its writes fail with ENOSPC after FAIL_AFTER good ones (unset or
 * empty: off). Built by the
 * test with cc -shared; everything else passes through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "shim_fd.h"

static int this_rank(void)
{
    const char *r = getenv("FAIL_RANK"), *me = getenv("OMPI_COMM_WORLD_RANK");
    return r && me && (strcmp(r, "all") == 0 || strcmp(r, me) == 0);
}

static int is_spool_fd(int fd)
{
    char t[4096];
    return shim_fd_path(fd, t, sizeof t) && strstr(t, ".sessions-spool") != NULL;
}

static int fail_write(int fd)
{
    static int calls;
    const char *after = getenv("FAIL_AFTER");
    return after && *after && this_rank() && is_spool_fd(fd) && ++calls > atoi(after);
}

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

ssize_t pwrite(int fd, const void *b, size_t n, off_t o)
{
    static pwrite_fn real;
    if (!real)
        real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
    if (fail_write(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, b, n, o);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t o)
{
    static pwrite_fn real;
    if (!real)
        real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
    if (fail_write(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, b, n, o);
}

typedef int (*open_fn)(const char *, int, ...);

static int open_as(const char *sym, const char *path, int flags, mode_t mode)
{
    open_fn real = (open_fn)dlsym(RTLD_NEXT, sym);
    const char *on = getenv("FAIL_OPEN");
    if (on && *on && this_rank() && strstr(path, ".sessions-spool")) {
        errno = EROFS;
        return -1;
    }
    return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list a;
        va_start(a, flags);
        mode = (mode_t)va_arg(a, int);
        va_end(a);
    }
    return open_as("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list a;
        va_start(a, flags);
        mode = (mode_t)va_arg(a, int);
        va_end(a);
    }
    return open_as("open64", path, flags, mode);
}
