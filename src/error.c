/* error.c — the error context: message formatting and checked allocation. */
#include "clickseg/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* Large buffers allocated once (window columns, shuffle and sort buffers)
 * ask for transparent huge pages: one fault per 2 MiB instead of per 4 KiB,
 * which matters on VMs where first touch of a page is slow. Advice only:
 * where THP is off or the range is unaligned, nothing changes. */
static void *hint_huge(void *p, size_t n)
{
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (!p || n < ((size_t)8 << 20))
        return p;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(huge - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_HUGEPAGE);
    return p;
}

void *cs_malloc(size_t n, cs_err *err, const char *what)
{
    void *p = hint_huge(malloc(n ? n : 1), n);
    if (!p)
        cs_err_set(err, CS_ENOMEM, "out of memory allocating %zu bytes for %s; "
                   "lower memory_per_rank or use more ranks", n, what);
    return p;
}

void *cs_calloc(size_t n, size_t size, cs_err *err, const char *what)
{
    void *p = hint_huge(calloc(n ? n : 1, size ? size : 1), n * size);
    if (!p)
        cs_err_set(err, CS_ENOMEM, "out of memory allocating %zu x %zu bytes for %s; "
                   "lower memory_per_rank or use more ranks", n, size, what);
    return p;
}

/* No huge-page advice here: glibc grows a large block with mremap, and
 * moving a range advised MADV_HUGEPAGE costs a transient second copy of
 * it in RSS (measured: a 450 MiB user table grown by 1/8 peaked at twice
 * its size), which would break memory_per_rank for the user table. */
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
