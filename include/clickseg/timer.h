/* timer.h — per-phase wall-clock timers of a run (plan, read, shuffle,
 * sort, sessionize, features, reduce, write), printed with --verbose and
 * stored in report.json so a slow phase is visible, and a sampling timer
 * for a step too short to time every time. The features phase is not
 * timed around a loop of its own: sessions close one at a time inside
 * sessionize, and run takes the sessionizer's sampled estimate of their
 * closing time out of the sessionize phase (sessionize.h, docs/run.md).
 * Header-only; no MPI. */
#ifndef CLICKSEG_TIMER_H
#define CLICKSEG_TIMER_H

#include <time.h>

enum cs_phase {
    PH_PLAN, PH_READ, PH_SHUFFLE, PH_SORT, PH_SESSIONIZE, PH_FEATURES, PH_REDUCE, PH_WRITE, PH_N
};

typedef struct cs_timers {
    double total[PH_N];
    double since[PH_N];
} cs_timers;

static inline double timer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void timer_start(cs_timers *t, int ph) { t->since[ph] = timer_now(); }
static inline void timer_stop(cs_timers *t, int ph) { t->total[ph] += timer_now() - t->since[ph]; }

/* A sampling timer: of the calls to sample_due, one in mask + 1 on
 * average says to time the step (not the first: it is cold; every call
 * when mask is 0). The gaps between timed calls are drawn at random, 1 to
 * 2 * mask + 1 calls: a fixed stride would time the same phase of any
 * periodic cost every time (with --sessions, every 256th session row
 * starts a fresh page of the sessions table, and a 1-in-256 stride timed
 * that page's fault every time: the estimate came out larger than the
 * whole loop). The caller reads the clock before the step and twice after
 * it (sample_add): the second interval is the clock's own cost, whose
 * least value is taken off every sample. A sample longer than
 * SAMPLE_SLOW_S is left out and counted: it is the rank being descheduled
 * (on a shared or oversubscribed node), not the step, and scaled up by
 * mask + 1 it would swamp the estimate. */
typedef struct cs_sampler {
    uint64_t mask;          /* a power of two less one */
    uint64_t calls, timed, slow;
    uint64_t next;          /* the call (0-based) that draws the next gap */
    uint64_t rng;           /* xorshift64 state (0: not seeded yet) */
    double sum_s, clock_s;
} cs_sampler;

#define SAMPLE_SLOW_S 50e-6

/* The gap to the next timed call: uniform over 1 .. 2 * mask + 1. */
static inline uint64_t sample_gap(cs_sampler *t)
{
    uint64_t x = t->rng ? t->rng : UINT64_C(0x9E3779B97F4A7C15);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t->rng = x;
    return 1 + x % (2 * t->mask + 1);
}

static inline int sample_due(cs_sampler *t)
{
    uint64_t i = t->calls++;
    if (__builtin_expect(i != t->next, 1))
        return 0;
    t->next = i + sample_gap(t);
    return i != 0 || t->mask == 0;
}

static inline void sample_add(cs_sampler *t, double t0, double t1, double t2)
{
    if (t1 - t0 > SAMPLE_SLOW_S) {
        t->slow++;
        return;
    }
    if (!t->timed++ || t2 - t1 < t->clock_s)
        t->clock_s = t2 - t1;
    t->sum_s += t1 - t0;
}

/* The time all the calls' steps took, estimated from the samples (0 before
 * any was timed). */
static inline double sample_estimate(const cs_sampler *t)
{
    double s = t->sum_s - (double)t->timed * t->clock_s;
    if (!t->timed || s <= 0)
        return 0;
    return s / (double)t->timed * (double)t->calls;
}

static inline const char *timer_phase_name(int ph)
{
    static const char *const names[PH_N] = {"plan", "read", "shuffle", "sort",
                                            "sessionize", "features", "reduce", "write"};
    return ph >= 0 && ph < PH_N ? names[ph] : "?";
}

#endif
