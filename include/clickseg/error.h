/* error.h — the error context every fallible function fills.
 *
 * A function that can fail returns an int code (CS_OK on success) and writes
 * a one-line message into a cs_err supplied by its caller. Callers add
 * context with cs_err_wrap() and pass the code up; only the command's top
 * level decides to print and exit. Used by every module. */
#ifndef CLICKSEG_ERROR_H
#define CLICKSEG_ERROR_H

#include <stddef.h>
#include <stdint.h>

enum cs_code {
    CS_OK = 0,
    CS_EINTERNAL = 1, /* a bug or an unexpected library failure */
    CS_EUSAGE = 2,    /* bad command-line flags */
    CS_ECONFIG = 3,   /* bad configuration file or value */
    CS_EINPUT = 4,    /* unusable input archive or data */
    CS_EIO = 5,       /* I/O failure, or an output that already exists */
    CS_ENOMEM = 6,    /* allocation failed or would exceed the budget */
    CS_EINTR = 7      /* stopped by a signal (checkpoint written) */
};

typedef struct cs_err {
    int code;
    char msg[2048];
} cs_err;

/* Clears the context. */
void cs_err_clear(cs_err *err);

/* Sets code and message (printf format); returns code so callers can
 * `return cs_err_set(...)`. A NULL err is allowed and ignored. */
int cs_err_set(cs_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context ("ctx: old message"); returns
 * the existing code. */
int cs_err_wrap(cs_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The process exit status for a code (the codes are the exit statuses). */
int cs_exit_status(int code);

/* Allocation helpers that fill err on failure (NULL is returned). */
void *cs_malloc(size_t n, cs_err *err, const char *what);
void *cs_calloc(size_t n, size_t size, cs_err *err, const char *what);
void *cs_realloc(void *p, size_t n, cs_err *err, const char *what);

/* Room for n items of `size` bytes in *p, which holds *cap of them: when n
 * is more, *p grows (contents kept) to n + n/16 items, the headroom that
 * keeps buffers whose need creeps from window to window from being
 * remapped (fresh, kernel-zeroed pages) every window. CS_ENOMEM with err
 * filled, *p and *cap unchanged, when it cannot. */
int cs_reserve(void **p, uint64_t *cap, uint64_t n, size_t size, cs_err *err, const char *what);

#endif
