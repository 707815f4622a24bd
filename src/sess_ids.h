/* sess_ids.h — private to sessionize.c and sess_ids.c (not a public
 * header): the distinct product, category and brand ids a session keeps
 * for its distinct_* features. The session being built keeps them in the
 * sessionizer's scratch lists (push_id, once per id of every event, is
 * here to be inlined in sessionize's loop); an unfinished session carried
 * to the next window keeps them saved in its pool entry. */
#ifndef CLICKSEG_SESS_IDS_H
#define CLICKSEG_SESS_IDS_H

#include "clickseg/sessionize.h"

/* Lists past this many ids are made unique before they grow, and given
 * back when the next session begins (1 MiB each). */
#define IDS_COMPACT ((uint64_t)1 << 17)

/* Makes room in full scratch list k: made unique when long, grown when
 * that does not halve it. Out of line: push_id's rare path. */
int sess_grow_ids(cs_sessionizer *s, int k, cs_err *err) __attribute__((noinline));

/* Once per id of every event, without a branch the data decides (ids are
 * 0 where the event has none, and repeats are common): the id is written
 * in any case and the count moves on when it is kept. An id equal to the
 * last one kept (several products of one category or brand in a row) is
 * not kept again: the distinct count is the same, the lists shorter. The
 * growth is out of line. */
static inline int push_id(cs_sessionizer *s, int k, uint64_t id, cs_err *err)
{
    uint64_t n = s->nscratch[k];
    if (__builtin_expect(n == s->capscratch[k], 0)) {
        if (sess_grow_ids(s, k, err) != CS_OK)
            return CS_ENOMEM;
        n = s->nscratch[k];   /* less when the list was made unique */
    }
    s->scratch[k][n] = id;
    uint64_t last = s->last_id[k];
    int keep = (id != 0) & (id != last);
    s->nscratch[k] = n + (uint64_t)keep;
    s->last_id[k] = keep ? id : last;
    return CS_OK;
}

/* Number of distinct ids in scratch list k. */
uint64_t sess_count_distinct(cs_sessionizer *s, int k, cs_err *err);

/* Gives back the lists and set a long session grew. */
void sess_shrink_ids(cs_sessionizer *s);

/* Moves an unfinished session's saved lists into scratch. */
int sess_load_ids(cs_sessionizer *s, cs_sess_state *st, cs_err *err);

/* Saves scratch (made unique) into an unfinished session. */
int sess_save_ids(cs_sessionizer *s, cs_sess_state *st, cs_err *err);

#endif
