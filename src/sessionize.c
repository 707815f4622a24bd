/* sessionize.c — sessions and features from ordered events (see sessionize.h). */
#include "clickseg/sessionize.h"

#include <stdlib.h>
#include <string.h>

#include "sess_ids.h"

void sess_init(cs_sessionizer *s)
{
    memset(s, 0, sizeof *s);
    s->split_period = -1;
    s->need_ids = s->need_entry_time = 1;
    s->close_timer.mask = SESS_CLOSE_SAMPLE - 1;
}

void sess_free(cs_sessionizer *s)
{
    for (int k = 0; k < 3; k++)
        free(s->scratch[k]);
    free(s->set);
    for (uint64_t i = 0; i < s->npool; i++)
        free(s->pool[i].ids);
    free(s->pool);
    free(s->cur.ids);
    memset(s, 0, sizeof *s);
}

/* Records are cs_event or, when the job reads no ids and sessions come
 * from gaps, cs_event_narrow (event.h): time, type and price are read
 * through rec_*, the ids and session_id, only there when needed, through
 * wide(). */
static inline const cs_event *wide(const char *e)
{
    return (const cs_event *)(const void *)e;
}

static void begin(cs_sessionizer *s, cs_sess_state *st, const char *e)
{
    free(st->ids);
    /* Field by field: a compound literal of the whole state compiles to a
     * rep stos, slow to start, and this runs once a session. */
    st->user_id = 0;
    st->user_pos = 0;
    st->start_ts = st->last_ts = rec_ts(e);
    st->session_id = s->source_mode ? wide(e)->session_id : 0;
    st->first_purchase_ts = -1;
    st->views_before = 0;
    st->min_gap_us = -1;
    memset(st->count, 0, sizeof st->count);
    st->revenue = st->refund_amount = 0;
    st->ids = NULL;
    st->nprod = st->ncat = st->nbrand = 0;
    st->active = 1;
    for (int k = 0; k < 3; k++)
        s->nscratch[k] = s->last_id[k] = 0;
    if (s->need_ids)
        sess_shrink_ids(s);
}

/* Adds e to st; `first` when e opened the session (no gap yet). The event
 * type picks what moves, through selects rather than branches: types
 * follow each other in no order a predictor learns. */
static inline int add(cs_sessionizer *s, cs_sess_state *st, const char *e, int first,
                      cs_err *err)
{
    /* Events are in ts order, so the gap is >= 0, and min_gap_us's "none"
     * (-1) is the largest value unsigned. */
    int64_t ts = rec_ts(e), price = rec_price(e);
    uint64_t g = (uint64_t)(ts - st->last_ts);
    if (!first && g < (uint64_t)st->min_gap_us)
        st->min_gap_us = (int64_t)g;
    st->last_ts = ts;
    unsigned t = rec_type(e);
    st->count[t]++;
    int purchase = t == EV_PURCHASE, unbought = st->first_purchase_ts < 0;
    st->revenue += purchase ? price : 0;
    st->refund_amount += t == EV_REFUND ? price : 0;
    st->views_before += ((t == EV_PAGE_VIEW) | (t == EV_PRODUCT_VIEW)) & unbought;
    st->first_purchase_ts = purchase & unbought ? ts : st->first_purchase_ts;
    if (!s->need_ids)
        return CS_OK;
    int rc = push_id(s, 0, wide(e)->product_id, err);
    rc |= push_id(s, 1, wide(e)->category_id, err);
    rc |= push_id(s, 2, wide(e)->brand_id, err);
    return rc ? CS_ENOMEM : CS_OK;
}

_Static_assert(F_NFEATURES == 21, "features_of sets every feature: a new one needs its line");

static void features_of(cs_sessionizer *s, const cs_sess_state *st, cs_features *f)
{
    /* Every feature is set below, none by a memset: that compiles to a rep
     * stos, slow to start, and this runs once a session. */
    int64_t *v = f->v;
    int64_t events = 0;
    for (int t = 0; t < EV_NTYPES; t++)
        events += st->count[t];
    v[F_EVENTS] = events;
    v[F_DURATION_S] = (st->last_ts - st->start_ts) / 1000000;
    v[F_PAGE_VIEWS] = st->count[EV_PAGE_VIEW];
    v[F_PRODUCT_VIEWS] = st->count[EV_PRODUCT_VIEW];
    v[F_SEARCHES] = st->count[EV_SEARCH];
    v[F_CART_ADDS] = st->count[EV_ADD_TO_CART];
    v[F_CART_REMOVES] = st->count[EV_REMOVE_FROM_CART];
    v[F_CHECKOUTS] = st->count[EV_CHECKOUT];
    v[F_PURCHASES] = st->count[EV_PURCHASE];
    v[F_REFUNDS] = st->count[EV_REFUND];
    v[F_DISTINCT_PRODUCTS] = s->need_ids ? (int64_t)sess_count_distinct(s, 0, NULL) : 0;
    v[F_DISTINCT_CATEGORIES] = s->need_ids ? (int64_t)sess_count_distinct(s, 1, NULL) : 0;
    v[F_DISTINCT_BRANDS] = s->need_ids ? (int64_t)sess_count_distinct(s, 2, NULL) : 0;
    v[F_REVENUE] = st->revenue;
    v[F_REFUND_AMOUNT] = st->refund_amount;
    int bought = st->first_purchase_ts >= 0;
    v[F_TIME_TO_PURCHASE_S] = bought ? (st->first_purchase_ts - st->start_ts) / 1000000 : -1;
    v[F_VIEWS_BEFORE_PURCHASE] = bought ? st->views_before : -1;
    int hour = 0, weekday = 0;
    if (s->tz && s->need_entry_time)
        tz_hour_weekday(s->tz, st->start_ts, &hour, &weekday);
    v[F_ENTRY_HOUR] = hour;
    v[F_ENTRY_WEEKDAY] = weekday;
    int64_t d = v[F_DURATION_S] > 0 ? v[F_DURATION_S] : 1;
    v[F_EVENTS_PER_MINUTE] = events * 60 / d;
    v[F_MIN_GAP_MS] = st->min_gap_us >= 0 ? st->min_gap_us / 1000 : -1;
}

/* Closes u's session st (its ids in scratch): features, segment, emit. */
static int close_session(cs_sessionizer *s, cs_user *u, cs_sess_state *st, cs_err *err)
{
    cs_session out;
    out.user_id = u->user_id;
    out.start_ts = st->start_ts;
    out.end_ts = st->last_ts;
    features_of(s, st, &out.f);
    out.segment = rules_match(s->rules, &out.f);
    free(st->ids);
    st->ids = NULL;
    st->active = 0;
    return s->emit(s->emit_ctx, u, &out, err);
}

/* close_session, timed (sess_close_seconds); out of line, so the usual
 * path stays one test. */
static __attribute__((noinline)) int finish_timed(cs_sessionizer *s, cs_user *u,
                                                  cs_sess_state *st, cs_err *err)
{
    double t0 = timer_now();
    int rc = close_session(s, u, st, err);
    double t1 = timer_now(), t2 = timer_now();
    sample_add(&s->close_timer, t0, t1, t2);
    return rc;
}

static inline int finish(cs_sessionizer *s, cs_user *u, cs_sess_state *st, cs_err *err)
{
    if (__builtin_expect(sample_due(&s->close_timer), 0))
        return finish_timed(s, u, st, err);
    return close_session(s, u, st, err);
}

double sess_close_seconds(const cs_sessionizer *s)
{
    return sample_estimate(&s->close_timer);
}

/* 1 when ts lies in a later split period (session.split) than the session's start. */
static int crosses_split(const cs_sessionizer *s, const cs_sess_state *st, int64_t ts)
{
    return s->split_period >= 0 && s->tz && ts > st->start_ts &&
           period_key(s->tz, s->split_period, ts) != period_key(s->tz, s->split_period, st->start_ts);
}

/* 1 when event e cannot belong to the unfinished session st. */
static int breaks(const cs_sessionizer *s, const cs_sess_state *st, const char *e)
{
    int64_t ts = rec_ts(e);
    if (crosses_split(s, st, ts))
        return 1;
    if (s->source_mode)
        return wide(e)->session_id != st->session_id;
    if (ts - st->last_ts > s->gap_us)
        return 1;
    return s->max_duration_us > 0 && ts - st->start_ts > s->max_duration_us;
}

/* 1 when no event at or after `watermark` could extend st. */
static int can_close(const cs_sessionizer *s, const cs_sess_state *st, int64_t watermark)
{
    if (crosses_split(s, st, watermark))
        return 1;
    if (s->source_mode)
        return 0;
    if (watermark - st->last_ts > s->gap_us)
        return 1;
    return s->max_duration_us > 0 && watermark - st->start_ts > s->max_duration_us;
}

/* Room for one more pool entry. */
static int pool_reserve(cs_sessionizer *s, cs_err *err)
{
    if (s->npool >= UINT32_MAX - 1)   /* cs_user.open_slot holds index + 1 */
        return cs_err_set(err, CS_ENOMEM, "more than %u unfinished sessions on one rank",
                          UINT32_MAX - 2);
    if (s->npool < s->cappool)
        return CS_OK;
    uint64_t cap = s->cappool ? 2 * s->cappool : 1024;
    cs_sess_state *p = cs_realloc(s->pool, cap * sizeof *p, err, "unfinished sessions");
    if (!p)
        return CS_ENOMEM;
    s->pool = p;
    s->cappool = cap;
    return CS_OK;
}

/* Drops pool[i] (its ids already freed): the last entry moves into the
 * hole and its user's handle follows. */
static void pool_remove(cs_sessionizer *s, cs_users *users, uint64_t i)
{
    cs_sess_state *p = s->pool;
    users->slot[p[i].user_pos].open_slot = 0;
    if (i != --s->npool) {
        p[i] = p[s->npool];
        users->slot[p[i].user_pos].open_slot = (uint32_t)(i + 1);
    }
}

/* One user's run of events: n records of w bytes at ev; the user sits at
 * users->slot[pos]. The session is built in s->cur; the pool is touched
 * only when the user had an unfinished session or still has one at the
 * end. */
static int process_user(cs_sessionizer *s, cs_users *users, uint64_t pos, const char *ev,
                        size_t w, uint64_t n, int64_t watermark, int final, cs_err *err)
{
    cs_user *u = &users->slot[pos];
    cs_sess_state *st = &s->cur;
    uint32_t slot = u->open_slot;
    int rc = CS_OK;
    if (slot) {
        if ((rc = sess_load_ids(s, &s->pool[slot - 1], err)) != CS_OK)
            return rc;   /* the entry keeps its ids */
        *st = s->pool[slot - 1];
    } else {
        st->active = 0;
    }
    for (uint64_t i = 0; rc == CS_OK && i < n; i++) {
        const char *e = ev + i * w;
        if (st->active && breaks(s, st, e))
            rc = finish(s, u, st, err);
        int first = rc == CS_OK && !st->active;
        if (first)
            begin(s, st, e);
        if (rc == CS_OK)
            rc = add(s, st, e, first, err);
    }
    u->events += (int64_t)n;
    if (rec_ts(ev) < u->first_ts) u->first_ts = rec_ts(ev);
    if (rec_ts(ev + (n - 1) * w) > u->last_ts) u->last_ts = rec_ts(ev + (n - 1) * w);
    if (rc != CS_OK)
        return rc;
    if (final || can_close(s, st, watermark)) {
        rc = finish(s, u, st, err);
        if (slot)
            pool_remove(s, users, slot - 1);
        return rc;
    }
    if (!slot) {
        if ((rc = pool_reserve(s, err)) != CS_OK)
            return rc;
        slot = (uint32_t)++s->npool;
        u->open_slot = slot;
    }
    rc = sess_save_ids(s, st, err);
    st->user_id = u->user_id;
    st->user_pos = pos;
    s->pool[slot - 1] = *st;   /* the pool owns the ids now */
    st->ids = NULL;
    st->active = 0;
    return rc;
}

/* Users looked up per batch: the lookups stream through the index (sorted
 * order, see cs_user_key), and the entries, scattered over the table,
 * are fetched ahead while earlier users are processed. */
#define BATCH 1024
#define AHEAD 6

/* The end of the run of record i's user (records of w bytes). */
static uint64_t run_end(const char *ev, size_t w, uint64_t n, uint64_t i)
{
    uint64_t j = i + 1, user = rec_user_id(ev + i * w);
    while (j < n && rec_user_id(ev + j * w) == user)
        j++;
    return j;
}

/* The lines of an entry this window touches (users.h: entries are line
 * aligned). */
static void prefetch_user(const cs_user *u, size_t hot)
{
    const char *p = (const char *)u;
    for (size_t off = 0; off < hot; off += 64)
        __builtin_prefetch(p + off, 1, 1);
}

int sess_process(cs_sessionizer *s, cs_users *users, const cs_event *ev, uint64_t n,
                 int64_t watermark, int final, cs_event *carry, uint64_t *ncarry, cs_err *err)
{
    uint64_t runs = 0;
    for (uint64_t k = 0; k < n; k++)
        runs += (k == 0 || ev[k].user_id != ev[k - 1].user_id) && ev_ts(&ev[k]) < watermark;
    return sess_process_counted(s, users, ev, sizeof *ev, n, runs, watermark, final, carry,
                                ncarry, err);
}

/* Appends records [from, to) (w bytes each) to the carry as cs_event. */
static void carry_out(cs_event *carry, uint64_t *ncarry, const char *ev, size_t w,
                      uint64_t from, uint64_t to)
{
    rec_convert_n(carry + *ncarry, sizeof *carry, ev + from * w, w, to - from);
    *ncarry += to - from;
}

int sess_process_counted(cs_sessionizer *s, cs_users *users, const void *records, size_t w,
                         uint64_t n, uint64_t runs, int64_t watermark, int final,
                         cs_event *carry, uint64_t *ncarry, cs_err *err)
{
    const char *ev = records;
    if (w != sizeof(cs_event) && w != sizeof(cs_event_narrow))
        return cs_err_set(err, CS_EINTERNAL, "sessionize: records of %zu bytes (not 24 or 48)", w);
    if (w == sizeof(cs_event_narrow) && (s->need_ids || s->source_mode))
        return cs_err_set(err, CS_EINTERNAL, "sessionize: 24-byte records hold no ids or "
                          "session ids, which this job's sessions need");
    uint64_t start[BATCH], pos[BATCH];
    uint64_t i = 0, end[BATCH];
    /* A user's run is ts-ordered, so its events at or after the watermark
     * are a suffix; a run that starts there is skipped whole. The index
     * gets room for every run's user (most exist already: slots grow only
     * for the new ones). */
    if (users_reserve_index(users, runs, err) != CS_OK)
        return CS_ENOMEM;
    const size_t hot = users_hot_bytes(s->rules ? s->rules->nsegments : CS_MAX_SEGMENTS);
    while (i < n) {
        int g = 0;
        /* The batch's runs first, each user's index cell fetched as its
         * run is found; then the lookups, which find the cells in cache. */
        while (g < BATCH && i < n) {
            uint64_t j = run_end(ev, w, n, i), e = j;
            while (e > i && rec_ts(ev + (e - 1) * w) >= watermark)
                e--;
            if (e < j && carry)
                carry_out(carry, ncarry, ev, w, e, j);
            if (e > i) {
                users_prefetch(users, rec_user_id(ev + i * w));
                start[g] = i;
                end[g++] = e;
            }
            i = j;
        }
        for (int k = 0; k < g; k++) {
            cs_user *u = users_get(users, rec_user_id(ev + start[k] * w), err);
            if (!u)
                return CS_ENOMEM;
            pos[k] = (uint64_t)(u - users->slot);
        }
        for (int k = 0; k < g && k < AHEAD; k++)
            prefetch_user(&users->slot[pos[k]], hot);
        for (int k = 0; k < g; k++) {
            if (k + AHEAD < g)
                prefetch_user(&users->slot[pos[k + AHEAD]], hot);
            int rc = process_user(s, users, pos[k], ev + start[k] * w, w, end[k] - start[k],
                                  watermark, final, err);
            if (rc != CS_OK)
                return rc;
        }
    }
    return CS_OK;
}

int sess_close_idle(cs_sessionizer *s, cs_users *users, int64_t watermark, int final,
                    cs_err *err)
{
    uint64_t i = 0;
    while (i < s->npool) {
        cs_sess_state *p = &s->pool[i];
        if (!final && !can_close(s, p, watermark)) {
            i++;
            continue;
        }
        /* pool[i] is refilled by the last entry: look at i again. */
        int rc = sess_load_ids(s, p, err);
        if (rc != CS_OK)
            return rc;   /* the entry keeps its ids */
        rc = finish(s, &users->slot[p->user_pos], p, err);
        pool_remove(s, users, i);
        if (rc != CS_OK)
            return rc;
    }
    return CS_OK;
}

int sess_pool_append(cs_sessionizer *s, const cs_sess_state *st, cs_err *err)
{
    if (pool_reserve(s, err) != CS_OK)
        return err->code;
    s->pool[s->npool++] = *st;
    return CS_OK;
}

int sess_reopen(cs_sessionizer *s, cs_users *users, cs_err *err)
{
    s->open_id_bytes = 0;
    for (uint64_t i = 0; i < s->npool; i++) {
        cs_sess_state *p = &s->pool[i];
        cs_user *u = users_find(users, p->user_id);
        if (!u || u->open_slot)
            return cs_err_set(err, CS_EINPUT, "unfinished session of user %llu %s",
                              (unsigned long long)p->user_id,
                              u ? "saved twice" : "without the user's record");
        u->open_slot = (uint32_t)(i + 1);
        p->user_pos = (uint64_t)(u - users->slot);
        p->active = 1;
        s->open_id_bytes += ((uint64_t)p->nprod + p->ncat + p->nbrand) * sizeof *p->ids;
    }
    return CS_OK;
}

uint64_t sess_bytes(const cs_sessionizer *s)
{
    return s->cappool * sizeof *s->pool + sess_id_bytes(s);
}
