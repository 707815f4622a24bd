/* features.c — names of event types and session features. */
#include "clickseg/features.h"

#include <string.h>

static const char *const ev_names[EV_NTYPES] = {
    "page_view", "product_view", "search", "add_to_cart",
    "remove_from_cart", "checkout", "purchase", "refund",
};

static const char *const feat_names[F_NFEATURES] = {
    "events", "duration_s", "page_views", "product_views", "searches",
    "cart_adds", "cart_removes", "checkouts", "purchases", "refunds",
    "distinct_products", "distinct_categories", "distinct_brands",
    "revenue", "refund_amount", "time_to_purchase_s",
    "views_before_purchase", "entry_hour", "entry_weekday",
    "events_per_minute", "min_gap_ms",
};

const char *ev_type_name(int type)
{
    return (type >= 0 && type < EV_NTYPES) ? ev_names[type] : NULL;
}

const char *feature_name(int f)
{
    return (f >= 0 && f < F_NFEATURES) ? feat_names[f] : NULL;
}

int feature_index(const char *name)
{
    for (int i = 0; i < F_NFEATURES; i++)
        if (strcmp(feat_names[i], name) == 0)
            return i;
    return -1;
}
