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

/* A sampling timer: of the calls to sample_due, one in mask + 1 says to
 * time the step (not the first: it is cold). The caller reads the clock
 * before the step and twice after it (sample_add): the second interval is
 * the clock's own cost, whose least value is taken off every sample. A
 * sample longer than SAMPLE_SLOW_S is left out and counted: it is the rank
 * being descheduled (on a shared or oversubscribed node), not the step,
 * and scaled up by mask + 1 it would swamp the estimate. */
typedef struct cs_sampler {
    uint64_t mask;          /* a power of two less one */
    uint64_t calls, timed, slow;
    double sum_s, clock_s;
} cs_sampler;

#define SAMPLE_SLOW_S 50e-6

static inline int sample_due(cs_sampler *t)
{
    return (t->calls++ & t->mask) == t->mask;
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
