/* userkeys.h — the original text of hashed user ids, for the target lists.
 *
 * `clickseg import` turns user ids that are not numbers (Google Analytics'
 * visitor ids, say) into stable 64-bit hashes and keeps the text in the
 * archive's dictionaries.h5 (/dictionaries/user/{id, key}, sorted by id).
 * At the end of a run, rank 0 looks up its targets and prospects there so
 * targets.csv, prospects.csv and report.json show the id the source used.
 * Called by run and merge on rank 0 only. Serial HDF5. */
#ifndef CLICKSEG_USERKEYS_H
#define CLICKSEG_USERKEYS_H

#include <stdint.h>

#include <stddef.h>

#include "clickseg/error.h"
#include "clickseg/rank.h"

/* keys[i] = the text of ids[i] in dict_path's user dictionary, or "" when
 * it has none (the id was a number in the source). *keys is NULL when the
 * file holds no user dictionary. CS_EINPUT naming the file when it cannot
 * be read. */
int userkeys_lookup(const char *dict_path, const uint64_t *ids, uint64_t n, char ***keys,
                    cs_err *err);

void userkeys_free(char **keys, uint64_t n);

/* The keys of r's targets and prospects (r->target_keys, r->prospect_keys)
 * from the user dictionaries dicts[0..n): an id takes its key from the
 * first that has one (merge gets one path from each run, often copies of
 * one dictionary). A path that is gone is skipped and named in *missing
 * (the first; "" none; missing_size 0: not named), for the caller's note.
 * Without any key found the lists stay without keys. Rank 0. */
int userkeys_for_ranking(cs_ranking *r, const char *const *dicts, int n, char *missing,
                         size_t missing_size, cs_err *err);

#endif
