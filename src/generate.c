/* generate.c — synthetic clickstream archives (see generate.h for the model).
 *
 * Timeline: slot k covers [t0 + k*2h, t0 + (k+1)*2h) with t0 = start - 1h, so
 * sessions that start late in a day cross midnight. Slot k holds exactly
 * base + (k < rem) events, so every file's and every rank's row offsets are
 * known before anything is generated. */
#include "clickseg/generate.h"
#include "clickseg/numfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/archive.h"
#include "clickseg/features.h"

#define HOUR_US 3600000000LL
#define SLOT_US (2 * HOUR_US)
#define BATCH_EVENTS (1u << 22)
#define NPRODUCTS 100000u

typedef struct rng { uint64_t s; } rng;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnext(rng *r) { return splitmix(&r->s); }
static uint64_t rbelow(rng *r, uint64_t n) { return n ? rnext(r) % n : 0; }
static double runit(rng *r) { return (double)(rnext(r) >> 11) * 0x1.0p-53; }

static uint64_t hash2(uint64_t a, uint64_t b)
{
    uint64_t s = a * 0x2545f4914f6cdd1dULL ^ b;
    return splitmix(&s);
}

uint64_t gen_user_id(uint64_t idx)
{
    /* Odd multiplication is a bijection modulo 2^40. */
    return ((idx + 1) * 0x9e3779b97f4a7c15ULL) & ((1ULL << 40) - 1);
}

/* One generated event before the slot is put in time order. */
typedef struct gev {
    int64_t ts;
    uint64_t seq;        /* generation order: ties keep it, so output is stable */
    uint64_t user_id, product_id, session_id;
    int64_t price;
    uint32_t category_id, brand_id;
    uint8_t type, intent;
} gev;

typedef struct slot_buf {
    gev *ev;
    uint64_t n, cap;
} slot_buf;

typedef struct model {
    uint64_t seed, users;
    int64_t t0;
} model;

static int is_bot_user(const model *m, uint64_t idx) { return hash2(m->seed ^ 0xb07, idx) % 1000 < 3; }
static int is_loyal_user(const model *m, uint64_t idx) { return hash2(m->seed ^ 0x10a1, idx) % 100 < 6; }

/* Zipf-like activity: a few users are very active, most are seen once. */
static uint64_t pick_user(const model *m, rng *r)
{
    double u = runit(r);
    return (uint64_t)((double)m->users * u * u * u) % m->users;
}

static uint64_t pick_product(rng *r)
{
    double u = runit(r);
    return 1 + (uint64_t)((double)NPRODUCTS * u * u);
}

static void put(slot_buf *b, int64_t ts, uint64_t uid, uint64_t sid, uint8_t type,
                uint64_t product, uint8_t intent)
{
    gev *e = &b->ev[b->n];
    e->ts = ts;
    e->seq = b->n++;
    e->user_id = uid;
    e->session_id = sid;
    e->type = type;
    e->intent = intent;
    e->product_id = product;
    e->category_id = product ? (uint32_t)(product % 500 + 1) : 0;
    e->brand_id = product ? (uint32_t)(product % 200 + 1) : 0;
    e->price = (type == EV_PURCHASE || type == EV_REFUND || type == EV_ADD_TO_CART ||
                type == EV_PRODUCT_VIEW) && product ? (int64_t)(199 + hash2(7, product) % 49800) : 0;
}

/* Event types of a planted session of `len` events. */
static void session_types(int intent, int len, rng *r, uint8_t *t)
{
    if (intent == INTENT_BOT) {
        for (int i = 0; i < len; i++)
            t[i] = rbelow(r, 10) ? EV_PRODUCT_VIEW : EV_PAGE_VIEW;
        return;
    }
    if (intent == INTENT_SIMPLE_BROWSER) {
        int pv = 0;
        for (int i = 0; i < len; i++) {
            int prod = i > 0 && pv < 2 && rbelow(r, 2);
            t[i] = prod ? EV_PRODUCT_VIEW : EV_PAGE_VIEW;
            pv += prod;
        }
        if (len >= 2 && rbelow(r, 8) == 0)
            t[0] = EV_SEARCH;
        return;
    }
    if (intent == INTENT_IMMEDIATE_BUYER) {
        int i = 0, npurch = len >= 6 ? 2 : 1, head = len - 2 - npurch;
        if (head >= 2 && rbelow(r, 2))
            t[i++] = EV_SEARCH;
        while (i < head)
            t[i++] = EV_PRODUCT_VIEW;
        t[i++] = EV_ADD_TO_CART;
        t[i++] = EV_CHECKOUT;
        while (i < len)
            t[i++] = EV_PURCHASE;
        return;
    }
    /* information collector: research, compare, maybe cart, maybe buy later in the visit */
    int converts = len >= 8 && rbelow(r, 10) == 0, tail = converts ? 3 : 0;
    t[0] = rbelow(r, 2) ? EV_SEARCH : EV_PAGE_VIEW;
    for (int i = 1; i < len - tail; i++) {
        uint64_t x = rbelow(r, 20);
        t[i] = x < 3 ? EV_SEARCH : x == 3 ? EV_ADD_TO_CART : x == 4 ? EV_REMOVE_FROM_CART
             : x == 5 ? EV_PAGE_VIEW : EV_PRODUCT_VIEW;
    }
    /* The research signature: at least 3 product views (4 when it converts,
     * so a converting collector never looks like a short-path buyer). */
    int pv = 0, need = converts ? 4 : 3;
    for (int i = 1; i < len - tail; i++)
        pv += t[i] == EV_PRODUCT_VIEW;
    for (int i = 1; i < len - tail && pv < need; i++)
        if (t[i] != EV_PRODUCT_VIEW) {
            t[i] = EV_PRODUCT_VIEW;
            pv++;
        }
    if (converts) {
        t[len - 3] = EV_ADD_TO_CART;
        t[len - 2] = EV_CHECKOUT;
        t[len - 1] = EV_PURCHASE;
    }
}

/* Length and intent of the next session of user idx. */
static int plan_session(const model *m, uint64_t idx, rng *r, int *len)
{
    if (is_bot_user(m, idx)) {
        *len = 100 + (int)rbelow(r, 301);
        return INTENT_BOT;
    }
    double p_buy = is_loyal_user(m, idx) ? 0.35 : 0.01, u = runit(r);
    if (u < p_buy) {
        *len = 4 + (int)rbelow(r, 4);
        return INTENT_IMMEDIATE_BUYER;
    }
    if (u < p_buy + 0.08) {
        *len = 4 + (int)rbelow(r, 27);
        return INTENT_INFORMATION_COLLECTOR;
    }
    *len = 1 + (int)rbelow(r, 3);
    return INTENT_SIMPLE_BROWSER;
}

/* Appends one session's events starting at `start`. A refund visit (a
 * simple-browser session returning an earlier purchase) is planted now and
 * then for loyal users. */
static void emit_session(const model *m, slot_buf *b, uint64_t idx, int intent, int len,
                         int64_t start, uint64_t sid, rng *r)
{
    uint8_t types[400];
    session_types(intent, len, r, types);
    if (intent == INTENT_SIMPLE_BROWSER && len == 2 && is_loyal_user(m, idx) && rbelow(r, 4) == 0)
        types[1] = EV_REFUND;
    uint64_t uid = gen_user_id(idx), product = pick_product(r);
    int64_t ts = start;
    for (int i = 0; i < len; i++) {
        if (i > 0) {
            int64_t gap_ms = intent == INTENT_BOT ? (int64_t)rbelow(r, 2001)
                           : rbelow(r, 50) == 0 ? 0 : 5000 + (int64_t)rbelow(r, 85001);
            ts += gap_ms * 1000 + (gap_ms ? (int64_t)rbelow(r, 1000) : 0);
        }
        uint8_t t = types[i];
        /* Browsing moves between products; a buyer's cart and purchase lines
         * are the products just looked at. */
        if (t == EV_PRODUCT_VIEW || (t == EV_PURCHASE && i > 0 && types[i - 1] == EV_PURCHASE))
            product = pick_product(r);
        uint64_t pid = t == EV_PAGE_VIEW || t == EV_SEARCH || t == EV_CHECKOUT ? 0 : product;
        put(b, ts, uid, sid, t, pid, (uint8_t)intent);
    }
}

/* Small open-addressing set of the users already given a session in a slot. */
typedef struct uset { uint64_t *k; uint64_t cap; } uset;

static int uset_add(uset *s, uint64_t key)
{
    uint64_t i = hash2(1, key) & (s->cap - 1);
    while (s->k[i] != UINT64_MAX) {
        if (s->k[i] == key)
            return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->k[i] = key;
    return 1;
}

static int cmp_gev(const void *a, const void *b)
{
    const gev *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Generates slot k's exactly `target` events into b (appending, time order). */
static int gen_slot(const model *m, uint64_t k, uint64_t target, slot_buf *b,
                    cs_gen_summary *sum, cs_err *err)
{
    rng r = {hash2(m->seed, k + 1)};
    uset used = {NULL, 64};
    while (used.cap < 4 * target + 64)
        used.cap <<= 1;
    used.k = cs_malloc(used.cap * sizeof *used.k, err, "generator user set");
    if (!used.k)
        return CS_ENOMEM;
    memset(used.k, 0xff, used.cap * sizeof *used.k);
    slot_buf sb = {b->ev + b->n, 0, target};
    int64_t slot0 = m->t0 + (int64_t)k * SLOT_US;
    uint64_t sidx = 0;
    while (sb.n < target) {
        uint64_t left = target - sb.n, idx = pick_user(m, &r);
        int len, intent = plan_session(m, idx, &r, &len), tries = 0;
        while ((!uset_add(&used, idx) || (uint64_t)len > left) && tries++ < 16) {
            idx = pick_user(m, &r);
            intent = plan_session(m, idx, &r, &len);
        }
        if (tries > 16) {
            /* Fill the slot's last few events with a short simple visit by a
             * fresh non-bot user (uniform pick: always finds one). */
            do {
                idx = rbelow(&r, m->users);
            } while (is_bot_user(m, idx) || !uset_add(&used, idx));
            intent = INTENT_SIMPLE_BROWSER;
            len = left < 3 ? (int)left : 3;
        }
        int64_t start = slot0 + (int64_t)rbelow(&r, (uint64_t)HOUR_US);
        emit_session(m, &sb, idx, intent, len, start, (k << 24) | ++sidx, &r);
        sum->sessions[intent]++;
    }
    free(used.k);
    for (uint64_t i = 0; i < sb.n; i++)
        sb.ev[i].seq += b->n;
    qsort(sb.ev, sb.n, sizeof *sb.ev, cmp_gev);
    b->n += sb.n;
    return CS_OK;
}

/* Rows of the first k slots when each holds base + (slot < rem) events. */
static uint64_t rows_before(uint64_t k, uint64_t base, uint64_t rem)
{
    return k * base + (k < rem ? k : rem);
}

typedef struct colbuf {
    cs_columns c;
    uint8_t *truth;
} colbuf;

static int colbuf_alloc(colbuf *cb, uint64_t n, cs_err *err)
{
    memset(cb, 0, sizeof *cb);
    cb->c.ts = cs_malloc(n * 8, err, "generator columns");
    cb->c.user_id = cs_malloc(n * 8, err, "generator columns");
    cb->c.product_id = cs_malloc(n * 8, err, "generator columns");
    cb->c.session_id = cs_malloc(n * 8, err, "generator columns");
    cb->c.price = cs_malloc(n * 8, err, "generator columns");
    cb->c.category_id = cs_malloc(n * 4, err, "generator columns");
    cb->c.brand_id = cs_malloc(n * 4, err, "generator columns");
    cb->c.event_type = cs_malloc(n, err, "generator columns");
    cb->truth = cs_malloc(n, err, "generator columns");
    return cb->truth && cb->c.event_type && cb->c.brand_id && cb->c.category_id && cb->c.price &&
           cb->c.session_id && cb->c.product_id && cb->c.user_id && cb->c.ts ? CS_OK : CS_ENOMEM;
}

static void colbuf_free(colbuf *cb)
{
    free(cb->c.ts); free(cb->c.user_id); free(cb->c.product_id); free(cb->c.session_id);
    free(cb->c.price); free(cb->c.category_id); free(cb->c.brand_id); free(cb->c.event_type);
    free(cb->truth);
}

static void to_columns(const slot_buf *b, colbuf *cb, int64_t *tmin, int64_t *tmax)
{
    for (uint64_t i = 0; i < b->n; i++) {
        const gev *e = &b->ev[i];
        cb->c.ts[i] = e->ts;
        cb->c.user_id[i] = e->user_id;
        cb->c.product_id[i] = e->product_id;
        cb->c.session_id[i] = e->session_id;
        cb->c.price[i] = e->price;
        cb->c.category_id[i] = e->category_id;
        cb->c.brand_id[i] = e->brand_id;
        cb->c.event_type[i] = e->type;
        cb->truth[i] = e->intent;
        if (e->ts < *tmin) *tmin = e->ts;
        if (e->ts > *tmax) *tmax = e->ts;
    }
}

typedef struct gen_ctx {
    const cs_comm *c;
    const cs_gen_params *p;
    model m;
    uint64_t nslots, base, rem, batch_slots;
    slot_buf buf;
    colbuf cols;
    cs_gen_summary *sum;
    cs_ticker *tick;      /* rank 0's progress, or NULL */
} gen_ctx;

/* Collective: one file holding slots [s0, s1); ranks take contiguous shares
 * and write in rounds of batch_slots slots. */
static int gen_file(gen_ctx *g, int f, uint64_t s0, uint64_t s1, cs_err *err)
{
    const cs_comm *c = g->c;
    char path[1300];
    snprintf(path, sizeof path, "%s/events-%04d.h5", g->p->outdir, f);
    uint64_t m = s1 - s0, file_row0 = rows_before(s0, g->base, g->rem);
    uint64_t a = s0 + m * (uint64_t)c->rank / (uint64_t)c->size;
    uint64_t b = s0 + m * (uint64_t)(c->rank + 1) / (uint64_t)c->size;
    uint64_t most = (m + (uint64_t)c->size - 1) / (uint64_t)c->size;
    uint64_t rounds = (most + g->batch_slots - 1) / g->batch_slots;
    cs_archive_writer *w = NULL;
    int rc = archive_create(c, path,
                            rows_before(s1, g->base, g->rem) - file_row0,
                            CS_ARCHIVE_TRUTH | CS_ARCHIVE_CHECKSUM, &w, err);
    if (comm_agree(c, err) != CS_OK) {
        if (w)   /* the file is open (a column could not be made): closed, emptied */
            archive_close(c, w, 0, 0, err);
        return err->code;
    }
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (uint64_t k = 0; k < rounds; k++) {
        uint64_t lo = a + k * g->batch_slots, hi = lo + g->batch_slots;
        if (lo > b) lo = b;
        if (hi > b) hi = b;
        g->buf.n = 0;
        for (uint64_t s = lo; rc == CS_OK && s < hi; s++)
            rc = gen_slot(&g->m, s, g->base + (s < g->rem), &g->buf, g->sum, err);
        to_columns(&g->buf, &g->cols, &tmin, &tmax);
        if (comm_agree(c, err) != CS_OK)
            break;
        rc = archive_write_rows(w, rows_before(lo, g->base, g->rem) - file_row0, g->buf.n,
                                &g->cols.c, g->cols.truth, err);
        if (g->tick && b > a)   /* this rank's share of the file stands for all */
            ticker_update(g->tick, ((double)s0 + (double)(s1 - s0) * (double)(hi - a) /
                                    (double)(b - a)) / (double)g->nslots, comm_wtime());
    }
    /* A failed write (a full disk) closes the file too: left open, HDF5
     * would close it in MPI_Finalize and crash there. */
    if (comm_agree(c, err) != CS_OK) {
        archive_close(c, w, 0, 0, err);
        return err->code;
    }
    if (comm_min_i64(c, &tmin, 1, 1, err) != CS_OK || comm_max_i64(c, &tmax, 1, 1, err) != CS_OK)
        return err->code;
    rc = archive_close(c, w, tmin, tmax, err);
    if (tmin < g->sum->ts_min) g->sum->ts_min = tmin;
    if (tmax > g->sum->ts_max) g->sum->ts_max = tmax;
    return comm_agree(c, err);
}

/* Collective: profiles for the users whose hash says they have one (4 in 5),
 * each rank taking a contiguous share of the population. */
static int gen_profiles(gen_ctx *g, cs_err *err)
{
    const cs_comm *c = g->c;
    uint64_t U = g->m.users, lo = U * (uint64_t)c->rank / (uint64_t)c->size;
    uint64_t hi = U * (uint64_t)(c->rank + 1) / (uint64_t)c->size, n = 0, before = 0;
    uint64_t *ids = cs_malloc((hi - lo) * 8 + 8, err, "profiles");
    uint8_t *attr = ids ? cs_malloc((hi - lo) * 3 + 3, err, "profiles") : NULL;
    int rc = attr ? CS_OK : CS_ENOMEM;
    for (uint64_t i = lo; rc == CS_OK && i < hi; i++) {
        uint64_t h = hash2(g->m.seed ^ 0x9f0f, i);
        if (h % 5 == 0)
            continue;
        ids[n] = gen_user_id(i);
        attr[n] = (uint8_t)(1 + (h >> 8) % 3);
        attr[(hi - lo) + 1 + n] = (uint8_t)(1 + (h >> 16) % 6);
        attr[2 * (hi - lo) + 2 + n] = (uint8_t)(1 + (h >> 24) % 10);
        n++;
    }
    if (comm_agree(c, err) != CS_OK) {
        free(ids); free(attr);
        return err->code;
    }
    uint64_t total = n;
    comm_exscan_u64(c, n, &before, err);
    int64_t t = (int64_t)total;
    comm_sum_i64(c, &t, 1, 1, err);
    char path[1300];
    snprintf(path, sizeof path, "%s/profiles.h5", g->p->outdir);
    rc = archive_write_profiles(c, path, (uint64_t)t, before, n, ids, attr,
                                attr + (hi - lo) + 1, attr + 2 * (hi - lo) + 2, err);
    g->sum->profiles = (uint64_t)t;
    free(ids);
    free(attr);
    return comm_agree(c, err);
}

int gen_archive(const cs_comm *c, const cs_gen_params *p, cs_ticker *tick,
                cs_gen_summary *sum, cs_err *err)
{
    memset(sum, 0, sizeof *sum);
    sum->ts_min = INT64_MAX;
    sum->ts_max = INT64_MIN;
    gen_ctx g = {.c = c, .p = p, .sum = sum, .tick = tick};
    g.nslots = (uint64_t)p->days * 12;
    g.base = p->events / g.nslots;
    g.rem = p->events % g.nslots;
    uint64_t per_slot = g.base + 1;
    g.m.seed = p->seed;
    /* Enough users that a slot always finds fresh ones. */
    g.m.users = p->events / 25 > 2 * per_slot + 64 ? p->events / 25 : 2 * per_slot + 64;
    g.m.t0 = p->start_ts - HOUR_US;
    g.batch_slots = BATCH_EVENTS / per_slot ? BATCH_EVENTS / per_slot : 1;
    uint64_t cap = g.batch_slots * per_slot;
    g.buf.ev = cs_malloc(cap * sizeof *g.buf.ev, err, "generator buffer");
    int rc = g.buf.ev ? colbuf_alloc(&g.cols, cap, err) : CS_ENOMEM;
    if (comm_agree(c, err) == CS_OK) {
        if (tick) {
            char n[32], step[96];
            snprintf(step, sizeof step, "writing %s events into %d file%s",
                     fmt_uint(n, sizeof n, p->events), p->files, p->files == 1 ? "" : "s");
            ticker_step(tick, step, comm_wtime());
        }
        for (int f = 0; f < p->files; f++) {
            uint64_t s0 = g.nslots * (uint64_t)f / (uint64_t)p->files;
            uint64_t s1 = g.nslots * (uint64_t)(f + 1) / (uint64_t)p->files;
            if ((rc = gen_file(&g, f, s0, s1, err)) != CS_OK)
                break;
        }
    }
    rc = err->code;
    if (rc == CS_OK && p->profiles && tick)
        ticker_step(tick, "writing profiles", comm_wtime());
    if (rc == CS_OK && p->profiles)
        rc = gen_profiles(&g, err);
    if (tick)
        ticker_end(tick);
    free(g.buf.ev);
    colbuf_free(&g.cols);
    if (rc == CS_OK) {
        int64_t v[4];
        for (int i = 0; i < 4; i++) v[i] = (int64_t)sum->sessions[i];
        rc = comm_sum_i64(c, v, 4, 1, err);
        for (int i = 0; i < 4; i++) sum->sessions[i] = (uint64_t)v[i];
        sum->events = p->events;
        sum->users = g.m.users;
    }
    return rc;
}
