/* timer.h — per-phase wall-clock timers of a run (plan, read, shuffle,
 * sort, sessionize, features, reduce, write), printed with --verbose and
 * stored in report.json so a slow phase is visible. The features phase is
 * not timed around a loop of its own: sessions close one at a time inside
 * sessionize, and run takes the sessionizer's sampled estimate of their
 * closing time out of the sessionize phase (sessionize.h). Header-only;
 * no MPI. */
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

static inline const char *timer_phase_name(int ph)
{
    static const char *const names[PH_N] = {"plan", "read", "shuffle", "sort",
                                            "sessionize", "features", "reduce", "write"};
    return ph >= 0 && ph < PH_N ? names[ph] : "?";
}

#endif
