/* shuffle.c — pack by owner and exchange (see shuffle.h). */
#include "clickseg/shuffle.h"

#include <stdlib.h>
#include <string.h>

int shuffle_init(cs_shuffle *s, int nranks, cs_err *err)
{
    memset(s, 0, sizeof *s);
    s->nranks = nranks;
    s->counts = cs_calloc((size_t)nranks * 2, sizeof *s->counts, err, "shuffle counts");
    s->fill = s->counts ? s->counts + nranks : NULL;
    return s->counts ? CS_OK : CS_ENOMEM;
}

void shuffle_free(cs_shuffle *s)
{
    free(s->counts);
    free(s->dest);
    free(s->send);
    free(s->recv);
    memset(s, 0, sizeof *s);
}

void shuffle_release(cs_shuffle *s)
{
    free(s->dest);
    free(s->send);
    free(s->recv);
    s->dest = NULL;
    s->send = s->recv = NULL;
    s->dest_cap = s->send_cap = s->recv_cap = 0;
    s->nsend = s->nrecv = 0;
}

static int reserve(void **p, uint64_t *cap, uint64_t n, size_t size, cs_err *err, const char *what)
{
    if (n <= *cap)
        return CS_OK;
    void *q = cs_realloc(*p, n * size, err, what);
    if (!q)
        return CS_ENOMEM;
    *p = q;
    *cap = n;
    return CS_OK;
}

int shuffle_pack(cs_shuffle *s, const cs_columns *cols, const uint8_t *keep, uint64_t n,
                 cs_err *err)
{
    int nr = s->nranks;
    if (reserve((void **)&s->dest, &s->dest_cap, n, sizeof *s->dest, err, "shuffle scratch") ||
        reserve((void **)&s->send, &s->send_cap, n, sizeof *s->send, err, "shuffle send buffer"))
        return CS_ENOMEM;
    memset(s->counts, 0, (size_t)nr * sizeof *s->counts);
    for (uint64_t i = 0; i < n; i++) {
        int d = keep[i] ? cs_owner(cols->user_id[i], nr) : -1;
        s->dest[i] = d;
        if (d >= 0)
            s->counts[d]++;
    }
    uint64_t at = 0;
    for (int r = 0; r < nr; r++) {
        s->fill[r] = at;
        at += s->counts[r];
    }
    s->nsend = at;
    for (uint64_t i = 0; i < n; i++) {
        int d = s->dest[i];
        if (d < 0)
            continue;
        cs_event *e = &s->send[s->fill[d]++];
        e->user_id = cols->user_id[i];
        e->ts = cols->ts[i];
        e->product_id = cols->product_id[i];
        e->session_id = cols->session_id ? cols->session_id[i] : 0;
        e->price = cols->price[i];
        e->category_id = cols->category_id[i];
        e->brand_id = cols->brand_id[i];
        e->type = cols->event_type[i];
        memset(e->pad, 0, sizeof e->pad);
    }
    return CS_OK;
}

int shuffle_exchange(const cs_comm *c, cs_shuffle *s, cs_err *err)
{
    return comm_alltoallv(c, s->send, s->counts, sizeof(cs_event), &s->recv, &s->recv_cap,
                          &s->nrecv, err);
}

int shuffle_route(const cs_comm *c, const void *recs, uint64_t n, size_t size,
                  const uint64_t *extra, const uint64_t *nx, void **out, uint64_t *nout,
                  uint64_t **xout, uint64_t *nxout, cs_err *err)
{
    int R = c->size;
    uint64_t *cnt = cs_calloc((size_t)R * 4, sizeof *cnt, err, "redistribution counts");
    int *dest = cs_malloc((n + 1) * sizeof *dest, err, "redistribution");
    uint64_t totx = 0;
    for (uint64_t i = 0; extra && i < n; i++)
        totx += nx[i];
    char *send = cs_malloc(n * size + 1, err, "redistribution");
    uint64_t *xsend = extra ? cs_malloc((totx + 1) * 8, err, "redistribution") : NULL;
    int rc = cnt && dest && send && (!extra || xsend) ? CS_OK : CS_ENOMEM;
    if (rc == CS_OK) {
        uint64_t *xc = cnt + R, *at = cnt + 2 * R, *xat = cnt + 3 * R;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t uid;
            memcpy(&uid, (const char *)recs + i * size, 8);
            dest[i] = cs_owner(uid, R);
            cnt[dest[i]]++;
            xc[dest[i]] += extra ? nx[i] : 0;
        }
        for (int r = 1; r < R; r++) {
            at[r] = at[r - 1] + cnt[r - 1];
            xat[r] = xat[r - 1] + xc[r - 1];
        }
        const uint64_t *xp = extra;
        for (uint64_t i = 0; i < n; i++) {
            int d = dest[i];
            memcpy(send + at[d]++ * size, (const char *)recs + i * size, size);
            if (extra) {
                memcpy(xsend + xat[d], xp, nx[i] * 8);
                xat[d] += nx[i];
                xp += nx[i];
            }
        }
    }
    *out = NULL;
    if (xout)
        *xout = NULL;
    rc = comm_agree(c, err);
    if (rc == CS_OK) {
        uint64_t cap = 0, xcap = 0;
        rc = comm_alltoallv(c, send, cnt, size, out, &cap, nout, err);
        if (extra && rc == CS_OK)
            rc = comm_alltoallv(c, xsend, cnt + R, 8, (void **)xout, &xcap, nxout, err);
        rc = comm_agree(c, err);
    }
    free(cnt); free(dest); free(send); free(xsend);
    return rc;
}
