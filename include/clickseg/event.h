/* event.h — the fixed-size event record that moves through the pipeline:
 * built from the archive's columns after READ, sent to the owning rank by
 * SHUFFLE, ordered by SORT, consumed by SESSIONIZE. 48 bytes (24 when the
 * job reads no ids: cs_event_narrow below), no padding
 * surprises, so MPI moves it as bytes (the event type rides in the low
 * bits of the time: every byte a record saves is saved four times, in the
 * pack, the exchange, the sort and the carry). It holds no row number: records
 * reach SORT in archive row order (the carry first, then each source
 * rank's rows in rank order) and SORT is stable, so equal (user, ts)
 * events keep their row order without carrying it. */
#ifndef CLICKSEG_EVENT_H
#define CLICKSEG_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The last valid ts, 9999-12-31T23:59:59.999999Z: a later time is no real
 * click but a corrupt or misscaled value (nanoseconds stored as µs pass
 * this bound from the year 2286 on, but seconds · 10^9 do not), so such rows
 * are rejected and counted like negative times. */
#define CS_TS_MAX INT64_C(253402300799999999)

/* The largest amount a row may carry, in minor units either way (10^12:
 * ten billion in a currency of cents, far above any item's price). Sums of
 * amounts are int64: with this bound they cannot wrap before 9.2 million
 * such amounts are added, where 5e16 units (an id read as a price) wrapped
 * in two. Import rejects a larger price (bad_price), run a larger |price|
 * (rejected_events). */
#define CS_PRICE_MAX INT64_C(1000000000000)

/* 1 when a row's price lies in -CS_PRICE_MAX..CS_PRICE_MAX: one compare. */
static inline int cs_price_ok(int64_t price)
{
    return (uint64_t)price + (uint64_t)CS_PRICE_MAX <= 2 * (uint64_t)CS_PRICE_MAX;
}

typedef struct cs_event {
    uint64_t user_id;
    int64_t ts_type;     /* ts << 3 | type: ev_ts and ev_type read it */
    int64_t price;       /* minor units */
    uint64_t product_id;
    uint64_t session_id; /* the archive's own session id (source mode) */
    uint32_t category_id;
    uint32_t brand_id;
} cs_event;

/* The event's time, µs since the epoch, UTC (0..CS_TS_MAX: rows outside
 * are rejected before a record is built, so ts << 3 cannot overflow). */
static inline int64_t ev_ts(const cs_event *e)
{
    return e->ts_type >> 3;
}

/* The event's type (enum cs_event_type, 0..7). */
static inline int ev_type(const cs_event *e)
{
    return (int)(e->ts_type & 7);
}

/* The ts_type field of an event at ts (0..CS_TS_MAX) of type (0..7). */
static inline int64_t ev_ts_type(int64_t ts, unsigned type)
{
    return (int64_t)((uint64_t)ts << 3 | (type & 7u));
}

/* The record a job that reads no ids moves (no rule counts distinct
 * products, categories or brands, no sessions.h5, gap sessions): half the
 * bytes to pack, exchange, sort and sessionize, and three columns fewer to
 * read. It is cs_event's first 24 bytes, so a cs_event is narrowed by
 * copying that prefix and a narrow record widened by zeroing the rest
 * (the carry keeps cs_event records either way). */
typedef struct cs_event_narrow {
    uint64_t user_id;
    int64_t ts_type;
    int64_t price;
} cs_event_narrow;

_Static_assert(sizeof(cs_event) == 48, "cs_event is moved as 48 bytes");
_Static_assert(sizeof(cs_event_narrow) == 24, "cs_event_narrow is moved as 24 bytes");
_Static_assert(offsetof(cs_event, user_id) == offsetof(cs_event_narrow, user_id) &&
               offsetof(cs_event, ts_type) == offsetof(cs_event_narrow, ts_type) &&
               offsetof(cs_event, price) == offsetof(cs_event_narrow, price),
               "a narrow record is the first 24 bytes of a cs_event");

/* A record of either layout: its user id, time, type and price (read as
 * the members' own types, so either struct may sit at p). The ids and
 * session_id exist only in cs_event records. */
static inline uint64_t rec_user_id(const void *p)
{
    return *(const uint64_t *)p;
}

static inline int64_t rec_ts(const void *p)
{
    return ((const int64_t *)p)[1] >> 3;
}

static inline unsigned rec_type(const void *p)
{
    return (unsigned)(((const int64_t *)p)[1] & 7);
}

static inline int64_t rec_price(const void *p)
{
    return ((const int64_t *)p)[2];
}

/* Copies a record of from_w bytes into one of to_w bytes (each 24 or 48):
 * the common prefix, and zero ids when widening. */
static inline void rec_convert(void *restrict to, size_t to_w, const void *restrict from,
                               size_t from_w)
{
    if (to_w <= from_w) {
        memcpy(to, from, to_w);
    } else {
        memcpy(to, from, from_w);
        memset((char *)to + from_w, 0, to_w - from_w);
    }
}

/* n records of from_w bytes into records of to_w bytes: one copy when the
 * widths agree, else record by record (rec_convert). */
static inline void rec_convert_n(void *restrict to, size_t to_w, const void *restrict from,
                                 size_t from_w, uint64_t n)
{
    if (to_w == from_w) {
        memcpy(to, from, n * to_w);
        return;
    }
    for (uint64_t i = 0; i < n; i++)
        rec_convert((char *)to + i * to_w, to_w, (const char *)from + i * from_w, from_w);
}

_Static_assert(CS_TS_MAX < (INT64_MAX >> 3), "ts << 3 fits an int64");

/* A 64-bit mix (splitmix64's finaliser): spreads user ids over ranks and
 * sort buckets whatever their distribution. */
static inline uint64_t cs_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The order in which a rank keeps its users: SORT groups events by the top
 * bits of this key and the user table's index homes each user at the top
 * bits of the same key, so walking sorted events walks the index forwards
 * (streaming memory, no random probe). The owner (below) takes the top
 * bits of the same mix, the key its low half rotated up, so a rank's users
 * still spread evenly over the key and one mix serves both. */
static inline uint64_t cs_key_of_mix(uint64_t mix)
{
    return mix << 32 | mix >> 32;
}

static inline uint64_t cs_user_key(uint64_t user_id)
{
    return cs_key_of_mix(cs_mix64(user_id));
}

/* The rank that owns a user: every event of a user meets on it. The high
 * half of mix * nranks: a fair range map without a division. */
static inline int cs_owner_of_mix(uint64_t mix, int nranks)
{
    return (int)(((unsigned __int128)mix * (uint64_t)nranks) >> 64);
}

static inline int cs_owner(uint64_t user_id, int nranks)
{
    return cs_owner_of_mix(cs_mix64(user_id), nranks);
}

#endif
