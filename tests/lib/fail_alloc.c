/* fail_alloc.c — an LD_PRELOAD shim for test_alloc_fail.sh: on the MPI rank
 * FAIL_ALLOC_RANK (default 0), the FAIL_ALLOC_AT-th allocation made by
 * clickseg's own code fails (NULL, errno ENOMEM); later ones succeed, as
 * they would once a peak has passed. Only calls from the main executable
 * count: Open MPI, HDF5 and libc allocate on their own behalf, and their
 * failures are theirs to handle, not clickseg's. FAIL_ALLOC_COUNT=1 prints
 * "fail_alloc: N allocations" to stderr at exit on that rank instead, so a
 * test knows the range to try; FAIL_ALLOC_WHERE=1 prints where the failing
 * call is made (an address in the executable, for addr2line). A process
 * started without mpirun (`clickseg report` alone) is rank 0; the orted
 * such a singleton starts for itself inherits the shim but is no rank.
 * Built by the test with cc -shared. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);

static malloc_fn real_malloc;
static calloc_fn real_calloc;
static realloc_fn real_realloc;
static free_fn real_free;

/* dlsym itself may calloc (its error buffer) before real_calloc is known:
 * those few bytes come from here, and free must recognise them. */
static _Alignas(16) char boot[4096];
static size_t boot_used;
static int resolving;

static int is_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (boot_used + n > sizeof boot)
        return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p;   /* static storage: already zero */
}

static void resolve(void)
{
    if (real_free || resolving)
        return;
    resolving = 1;
    real_malloc = (malloc_fn)dlsym(RTLD_NEXT, "malloc");
    real_calloc = (calloc_fn)dlsym(RTLD_NEXT, "calloc");
    real_realloc = (realloc_fn)dlsym(RTLD_NEXT, "realloc");
    real_free = (free_fn)dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

/* The main executable's mapped range, where clickseg's code lives. */
static uintptr_t exe_lo, exe_hi, exe_base;
static int armed = -1;   /* -1 not yet decided, 0 off, 1 on this rank */
static long fail_at, count_only, where;
static long seen;

static int find_exe(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size; (void)data;
    exe_base = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!exe_lo || lo < exe_lo) exe_lo = lo;
        if (hi > exe_hi) exe_hi = hi;
    }
    return 1;   /* the first object listed is the executable */
}

static void report(void)
{
    fprintf(stderr, "fail_alloc: %ld allocations\n", seen);
}

static void arm(void)
{
    const char *want = getenv("FAIL_ALLOC_RANK"), *me = getenv("OMPI_COMM_WORLD_RANK");
    const char *at = getenv("FAIL_ALLOC_AT"), *cnt = getenv("FAIL_ALLOC_COUNT");
    armed = 0;
    if (!me && strcmp(program_invocation_short_name, "orted") != 0)
        me = "0";   /* a singleton, not its orted */
    if (!me || atol(me) != (want ? atol(want) : 0))
        return;
    fail_at = at ? atol(at) : 0;
    count_only = cnt ? atol(cnt) : 0;
    where = getenv("FAIL_ALLOC_WHERE") != NULL;
    if (fail_at <= 0 && !count_only)
        return;
    dl_iterate_phdr(find_exe, NULL);
    if (count_only)
        atexit(report);
    armed = 1;
}

/* 1 when this allocation, made from caller, is the one to fail. */
static int should_fail(const void *caller)
{
    if (armed < 0) {
        armed = 0;   /* what arm() calls may allocate: not ours */
        arm();
    }
    uintptr_t a = (uintptr_t)caller;
    if (armed != 1 || a < exe_lo || a >= exe_hi)
        return 0;
    if (++seen != fail_at || count_only)
        return 0;
    if (where)   /* for addr2line -f -e clickseg ADDR, to name the call */
        fprintf(stderr, "fail_alloc: allocation %ld fails, called from 0x%lx\n", seen,
                (unsigned long)(a - exe_base));
    errno = ENOMEM;
    return 1;
}

void *malloc(size_t n)
{
    resolve();
    if (!real_malloc)
        return boot_alloc(n);
    if (should_fail(__builtin_return_address(0)))
        return NULL;
    return real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    resolve();
    if (!real_calloc)
        return size && n > SIZE_MAX / size ? NULL : boot_alloc(n * size);
    if (should_fail(__builtin_return_address(0)))
        return NULL;
    return real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    resolve();
    if (is_boot(p) || !real_realloc) {
        void *q = real_malloc ? real_malloc(n) : boot_alloc(n);
        size_t left = p ? (size_t)(boot + sizeof boot - (char *)p) : 0;
        if (q && p)
            memcpy(q, p, n < left ? n : left);   /* never past boot's end */
        return q;
    }
    if (should_fail(__builtin_return_address(0)))
        return NULL;
    return real_realloc(p, n);
}

void free(void *p)
{
    if (!p || is_boot(p))
        return;
    resolve();
    if (real_free)
        real_free(p);
}

/* strdup allocates inside libc, on behalf of its caller. */
char *strdup(const char *s)
{
    resolve();
    if (real_malloc && should_fail(__builtin_return_address(0)))
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = real_malloc ? real_malloc(n) : boot_alloc(n);
    return p ? memcpy(p, s, n) : NULL;
}
