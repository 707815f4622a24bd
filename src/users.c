/* users.c — open-addressing user table (see users.h). */
#include "clickseg/users.h"

#include <stdlib.h>
#include <string.h>

#include "clickseg/event.h"

static void init_entry(cs_user *u, uint64_t id)
{
    memset(u, 0, sizeof *u);
    u->user_id = id;
    u->used = 1;
    u->first_ts = INT64_MAX;
    u->last_ts = INT64_MIN;
    for (int s = 0; s < CS_MAX_SEGMENTS; s++)
        u->last_period[s] = -1;
    memset(u->profile, CS_PROFILE_UNKNOWN, sizeof u->profile);
}

int users_init(cs_users *t, uint64_t expect, cs_err *err)
{
    uint64_t cap = 1024;
    while (cap < expect * 2)
        cap <<= 1;
    t->slot = cs_calloc(cap, sizeof *t->slot, err, "user table");
    t->cap = t->slot ? cap : 0;
    t->n = 0;
    return t->slot ? CS_OK : CS_ENOMEM;
}

void users_free(cs_users *t)
{
    for (uint64_t i = 0; i < t->cap; i++)
        if (t->slot[i].used)
            free(t->slot[i].open.ids);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

static cs_user *probe(cs_user *slot, uint64_t cap, uint64_t id)
{
    uint64_t i = cs_mix64(id) & (cap - 1);
    while (slot[i].used && slot[i].user_id != id)
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

static int grow(cs_users *t, cs_err *err)
{
    uint64_t cap = t->cap * 2;
    cs_user *ns = cs_calloc(cap, sizeof *ns, err, "user table");
    if (!ns)
        return CS_ENOMEM;
    for (uint64_t i = 0; i < t->cap; i++)
        if (t->slot[i].used)
            *probe(ns, cap, t->slot[i].user_id) = t->slot[i];
    free(t->slot);
    t->slot = ns;
    t->cap = cap;
    return CS_OK;
}

cs_user *users_get(cs_users *t, uint64_t user_id, cs_err *err)
{
    if ((t->n + 1) * 10 > t->cap * 7 && grow(t, err) != CS_OK)
        return NULL;
    cs_user *u = probe(t->slot, t->cap, user_id);
    if (!u->used) {
        init_entry(u, user_id);
        t->n++;
    }
    return u;
}

cs_user *users_find(const cs_users *t, uint64_t user_id)
{
    if (!t->cap)
        return NULL;
    cs_user *u = probe(t->slot, t->cap, user_id);
    return u->used ? u : NULL;
}

uint64_t users_bytes(const cs_users *t)
{
    uint64_t b = t->cap * sizeof *t->slot;
    for (uint64_t i = 0; i < t->cap; i++)
        if (t->slot[i].used && t->slot[i].open.ids)
            b += (t->slot[i].open.nprod + t->slot[i].open.ncat + t->slot[i].open.nbrand) * 8ULL;
    return b;
}
