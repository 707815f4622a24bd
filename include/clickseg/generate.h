/* generate.h — the synthetic archive maker behind `clickseg generate`.
 *
 * Makes a realistic, time-ordered archive of exactly N events over D days in
 * F files, with every session's planted intent in /truth/intent, and a
 * profile table. Every 2-hour slot of the timeline is generated from
 * (seed, slot) alone, so the archive is the same whatever the rank count;
 * ranks write their slots in parallel into the same files. A user has at
 * most one session per slot, sessions start in the slot's first hour and
 * end before it ends, so planted sessions never merge: the planted intent is
 * a known answer for the segment rules. Called by the CLI; collective. */
#ifndef CLICKSEG_GENERATE_H
#define CLICKSEG_GENERATE_H

#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/progress.h"

enum cs_intent {
    INTENT_SIMPLE_BROWSER = 0,
    INTENT_INFORMATION_COLLECTOR = 1,
    INTENT_IMMEDIATE_BUYER = 2,
    INTENT_BOT = 3
};

typedef struct cs_gen_params {
    uint64_t events;     /* exact number of events */
    int days;            /* span of the timeline */
    int files;           /* number of event files */
    uint64_t seed;
    int64_t start_ts;    /* µs; midnight UTC of the first day */
    int profiles;        /* write profiles.h5 */
    char outdir[1200];
} cs_gen_params;

typedef struct cs_gen_summary {
    uint64_t events;
    uint64_t sessions[4];   /* by planted intent */
    uint64_t users;         /* size of the user population */
    uint64_t profiles;
    int64_t ts_min, ts_max;
} cs_gen_summary;

/* generate makes a day in 12 slots of 2 hours, each held in memory whole
 * while it is written (about 100 bytes an event): at most this many events
 * a slot (3.3 GB), 10^10 events over 30 days. */
#define CS_GEN_MAX_SLOT_EVENTS (UINT64_C(1) << 25)

/* Collective. Writes OUTDIR/events-NNNN.h5 (and profiles.h5). The directory
 * must exist. tick (may be NULL; rank 0's) is told the share of the events
 * written, rank 0's share standing for every rank's. On error every rank
 * returns the same code and message. */
int gen_archive(const cs_comm *c, const cs_gen_params *p, cs_ticker *tick,
                cs_gen_summary *sum, cs_err *err);

/* The user id of population index idx (a bijection, so ids look random). */
uint64_t gen_user_id(uint64_t idx);

#endif
