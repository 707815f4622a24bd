/* profiles.h — loading /customers profile tables into the users' rankings
 * (docs/ranking.md, Profiles).
 *
 * The ranks read a table's rows in turns of a block each and send each
 * row to the rank that owns its user, so a table is read once by the job,
 * not once a rank. rank_customers calls it, collectively, for every profile
 * table of the plan, in input order, once users->rank is allocated. */
#ifndef CLICKSEG_PROFILES_H
#define CLICKSEG_PROFILES_H

#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/rank.h"
#include "clickseg/users.h"

/* Collective. Sets users->rank[].profile of this rank's users from the
 * table in `path` (a later table's or row's value wins, and each value it
 * changes from a known one counts in r->profile_conflicts); the first
 * table sets r's profile columns, a later one must have the same. Every
 * rank returns the same code; on failure err names the file, and for a
 * bad value the column and row. */
int profiles_load(const cs_comm *c, const char *path, cs_users *users, cs_ranking *r,
                  cs_err *err);

#endif
