/* stats.h — mergeable segment statistics: integer sums and fixed-bin
 * histograms, so the cross-rank reduction is exact and order-free.
 *
 * Each rank accumulates its own sessions into a cs_stats (per segment
 * overall, and per report period × segment); run reduces them onto rank 0
 * with stats_reduce; report reads them. Quantiles come from the histograms
 * (bins of at most 25% relative width), identical for any rank count. */
#ifndef CLICKSEG_STATS_H
#define CLICKSEG_STATS_H

#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/features.h"
#include "clickseg/rules.h"

/* Bins 0..7 hold 0..7 exactly; then each power of two [2^e, 2^(e+1))
 * (e = 3..62) is cut into 4 bins of 2^(e-2), at most 25% of their lowest
 * value: 8 + 60 * 4 bins cover every int64, the last ending at INT64_MAX.
 * Reports and snapshots before format 4 (version 3) kept the first 64,
 * the last of which took every value from 114,688 up: a crawler's 2-day
 * session, a purchase of 1,146.88 (cents), all alike. */
#define CS_HIST_BINS 248
#define CS_HIST_BINS_V3 64


/* Per segment, overall. Every field is an int64 so the struct reduces as
 * one flat array. */
typedef struct cs_segstat {
    int64_t sessions, users, events, purchase_sessions, purchases;
    int64_t revenue, refunds, cart_sessions, abandoned_cart_sessions;
    int64_t duration_s_sum;
    int64_t product_view_sessions, checkout_sessions;   /* funnel steps */
    int64_t hist_duration[CS_HIST_BINS];   /* session duration, seconds */
    int64_t hist_events[CS_HIST_BINS];     /* events per session */
} cs_segstat;

/* Per period and segment. */
enum { PS_SESSIONS, PS_USERS, PS_EVENTS, PS_PURCHASE_SESSIONS, PS_REVENUE, PS_REFUNDS, PS_NFIELDS };

typedef struct cs_totals {
    int64_t rows_read;      /* rows read from the archive */
    int64_t events;         /* used events (bots included) */
    int64_t late_events;    /* rows later than session.max_lateness: counted, not used */
    int64_t rejected_events;/* rows with an invalid type or time: counted, not used */
    int64_t sessions, bot_sessions, bot_events;
    int64_t users;
    int64_t purchase_sessions, revenue, refunds;  /* business: bots excluded */
} cs_totals;

typedef struct cs_stats {
    int nseg;
    cs_totals tot;
    cs_segstat seg[CS_MAX_SEGMENTS];
    /* periods: keys sorted ascending; row i holds nseg * PS_NFIELDS values */
    int64_t *pkeys;
    int64_t *prow;
    uint64_t nperiods, pcap;
    /* recent lookups, direct-mapped on the key: index + 1 of its row (0
     * none). Sessions close user by user, so consecutive ones fall on
     * different periods; an entry is checked against pkeys before use, so
     * rows moving on insert cannot mislead it. */
    uint64_t hit[64];
} cs_stats;

int stats_init(cs_stats *s, int nseg, cs_err *err);
void stats_free(cs_stats *s);

/* The row of values for period key `key` (inserted zeroed when new);
 * NULL with CS_ENOMEM. Rows move on insert: do not keep the pointer. */
int64_t *stats_period_row(cs_stats *s, int64_t key, cs_err *err);

/* Values a period row holds: nseg * PS_NFIELDS. */
static inline size_t stats_period_width(const cs_stats *s)
{
    return (size_t)s->nseg * PS_NFIELDS;
}

/* Histogram bin of a non-negative value, and the largest value in a bin. */
int stats_bin(int64_t v);
int64_t stats_bin_max(int bin);

/* A 64-bin histogram of an older report or snapshot into CS_HIST_BINS
 * bins: bins 0..62 are the same; the old last bin (114,688 and up, the
 * values themselves unknown) goes to bin 63, its lowest values. Returns
 * that bin's count (0: the conversion is exact). */
int64_t stats_hist_from_v3(const int64_t *old, int64_t *hist);

/* The value at quantile q (0..1) of a histogram: the largest value of the
 * bin where the cumulative count reaches q * total. -1 when empty. */
int64_t stats_quantile(const int64_t *hist, double q);

/* a / b; NaN when b is 0 (a conversion of a segment without sessions is
 * not 0% but undefined: the writers give null, an empty CSV cell, a dash). */
double stats_ratio(int64_t a, int64_t b);

/* Share of segment seg's sessions: of the business (non-bot) sessions, or
 * of all sessions for the bot segment. */
double stats_share(const cs_stats *s, int seg, int bot_segment);

/* Adds one closed session of segment seg to the overall statistics. */
void stats_add_session(cs_stats *s, int seg, int is_bot, const cs_features *f);

/* Collective: sums every rank's statistics onto rank 0 (periods are merged
 * by key first, so ranks may know different periods). */
int stats_reduce(const cs_comm *c, cs_stats *s, cs_err *err);

#endif
