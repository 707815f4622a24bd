/* features.h — the per-session feature vector and its names.
 *
 * sessionize fills one cs_features per closed session; rules matches them
 * against the configured conditions; report and the sessions table write
 * them out. Every feature is an int64 so rules and statistics stay exact.
 * Pure C, no MPI. */
#ifndef CLICKSEG_FEATURES_H
#define CLICKSEG_FEATURES_H

#include <stdint.h>

/* The event types of archive format v1 (values are the on-disk codes). */
enum cs_event_type {
    EV_PAGE_VIEW = 0,
    EV_PRODUCT_VIEW = 1,
    EV_SEARCH = 2,
    EV_ADD_TO_CART = 3,
    EV_REMOVE_FROM_CART = 4,
    EV_CHECKOUT = 5,
    EV_PURCHASE = 6,
    EV_REFUND = 7,
    EV_NTYPES = 8
};

/* Name of an event type ("page_view", ...) or NULL when out of range. */
const char *ev_type_name(int type);

/* Indices into cs_features.v; the order is the order of the sessions table. */
enum cs_feature {
    F_EVENTS = 0,            /* events in the session */
    F_DURATION_S,            /* last ts - first ts, whole seconds */
    F_PAGE_VIEWS,
    F_PRODUCT_VIEWS,
    F_SEARCHES,
    F_CART_ADDS,
    F_CART_REMOVES,
    F_CHECKOUTS,
    F_PURCHASES,
    F_REFUNDS,
    F_DISTINCT_PRODUCTS,     /* distinct non-zero product ids */
    F_DISTINCT_CATEGORIES,
    F_DISTINCT_BRANDS,
    F_REVENUE,               /* sum of price over purchases, minor units */
    F_REFUND_AMOUNT,         /* sum of price over refunds, minor units */
    F_TIME_TO_PURCHASE_S,    /* first purchase ts - first ts; -1 when none */
    F_VIEWS_BEFORE_PURCHASE, /* page+product views before the first purchase; -1 when none */
    F_ENTRY_HOUR,            /* hour 0..23 of the first event, report timezone */
    F_ENTRY_WEEKDAY,         /* 0 = Monday .. 6 = Sunday, report timezone */
    F_EVENTS_PER_MINUTE,     /* events * 60 / max(duration_s, 1): a bot signal */
    F_MIN_GAP_MS,            /* smallest gap between consecutive events, ms; -1 for one event */
    F_NFEATURES
};

typedef struct cs_features {
    int64_t v[F_NFEATURES];
} cs_features;

/* Name of a feature ("events", "duration_s", ...) or NULL when out of range. */
const char *feature_name(int f);

/* Index of a named feature, or -1 when the name is unknown. */
int feature_index(const char *name);

#endif
