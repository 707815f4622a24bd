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
                 uint64_t row0, cs_err *err)
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
        e->row = row0 + i;
        e->product_id = cols->product_id[i];
        e->session_id = cols->session_id[i];
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
