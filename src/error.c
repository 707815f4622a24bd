/* error.c — the error context: message formatting and checked allocation. */
#include "clickseg/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_err_clear(cs_err *err)
{
    if (!err)
        return;
    err->code = CS_OK;
    err->msg[0] = '\0';
}

int cs_err_set(cs_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int cs_err_wrap(cs_err *err, const char *fmt, ...)
{
    if (!err)
        return CS_EINTERNAL;
    char prefix[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the old message right and put "prefix: " in front of it. */
    size_t plen = strlen(prefix), cap = sizeof err->msg;
    if (plen + 2 >= cap)
        plen = cap - 3;
    size_t olen = strnlen(err->msg, cap - 1);
    if (plen + 2 + olen >= cap)
        olen = cap - 1 - plen - 2;
    memmove(err->msg + plen + 2, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[plen + 2 + olen] = '\0';
    if (err->code == CS_OK)
        err->code = CS_EINTERNAL;
    return err->code;
}

int cs_exit_status(int code)
{
    return code;
}

/* No transparent-huge-page advice on large buffers: it was given to the
 * window's buffers for fewer first-touch faults, and measured at 10^8
 * events, 2 ranks, on these VMs the run was 2.5% slower with it (median
 * of 10 alternating runs 3.84 -> 3.74 s without; with the user table
 * advised too, slower still): a fault on an advised range compacts memory
 * for a 2 MiB page in line, which costs more here than the faults saved. */
void *cs_malloc(size_t n, cs_err *err, const char *what)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        cs_err_set(err, CS_ENOMEM, "out of memory allocating %zu bytes for %s; "
                   "lower memory_per_rank or use more ranks", n, what);
    return p;
}

void *cs_calloc(size_t n, size_t size, cs_err *err, const char *what)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        cs_err_set(err, CS_ENOMEM, "out of memory allocating %zu x %zu bytes for %s; "
                   "lower memory_per_rank or use more ranks", n, size, what);
    return p;
}

void *cs_realloc(void *p, size_t n, cs_err *err, const char *what)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        cs_err_set(err, CS_ENOMEM, "out of memory growing %s to %zu bytes; "
                   "lower memory_per_rank or use more ranks", what, n);
    return q;
}

int cs_reserve(void **p, uint64_t *cap, uint64_t n, size_t size, cs_err *err, const char *what)
{
    if (n <= *cap)
        return CS_OK;
    n += n / 16;
    void *q = cs_realloc(*p, n * size, err, what);
    if (!q)
        return CS_ENOMEM;
    *p = q;
    *cap = n;
    return CS_OK;
}
