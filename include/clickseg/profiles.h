/* profiles.h — /customers profile tables (docs/ranking.md, Profiles): their
 * shape checked by archive_scan, their values checked before the job by
 * the ranks in slices (run's prolog; inspect on its own), and their rows
 * loaded into the users' rankings after it.
 *
 * For the load the ranks read a table's rows in turns of a block each and
 * send each row to the rank that owns its user, so a table is read once by
 * the job, not once a rank. rank_customers calls it, collectively, for
 * every profile table of the plan, in input order, once users->rank is
 * allocated. */
#ifndef CLICKSEG_PROFILES_H
#define CLICKSEG_PROFILES_H

#include "clickseg/comm.h"
#include "clickseg/error.h"
#include "clickseg/rank.h"
#include "clickseg/users.h"

/* Checks the shape of the table in `path`: a user_id and at most
 * CS_MAX_PROFILE_COLS profile columns, each a 1-D integer dataset of as
 * many rows (*rows), names of at most CS_PROFILE_NAME_MAX characters.
 * Reads metadata only. */
int profiles_scan(const char *path, uint64_t *rows, cs_err *err);

/* Checks rows [from, to) of the table's values: user ids not negative,
 * profile values 0..254. On a bad value err names the column and the
 * lowest bad row. Reads a block of rows at a time. */
int profiles_check_rows(const char *path, uint64_t from, uint64_t to, cs_err *err);

/* Collective. profiles_check_rows of this rank's contiguous 1/size of the
 * table's `rows` rows; every rank returns the same code, and for bad
 * values the message names the table's first bad row, whatever the
 * number of ranks. */
int profiles_check(const cs_comm *c, const char *path, uint64_t rows, cs_err *err);

/* Collective. Sets users->rank[].profile of this rank's users from the
 * table in `path` (a later table's or row's value wins, and each value it
 * changes from a known one counts in r->profile_conflicts); the first
 * table sets r's profile columns, a later one must have the same. Every
 * rank returns the same code; on failure err names the file, and for a
 * bad value the column and row. */
int profiles_load(const cs_comm *c, const char *path, cs_users *users, cs_ranking *r,
                  cs_err *err);

#endif
