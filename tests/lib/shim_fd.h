/* shim_fd.h — for the LD_PRELOAD shims of the tests (fail_space.c,
 * fail_spool.c): the path a file descriptor is open on, so a shim acts
 * only on the files it was told about. Header-only: each shim is built
 * alone with cc -shared. */
#ifndef CLICKSEG_TEST_SHIM_FD_H
#define CLICKSEG_TEST_SHIM_FD_H

#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* fd's path into t (n bytes, NUL-ended); 0 when /proc cannot say. */
static int shim_fd_path(int fd, char *t, size_t n)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(p, t, n - 1);
    if (k < 0)
        return 0;
    t[k] = '\0';
    return 1;
}

#endif
