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

/* A dictionary userkeys_for_ranking could not use (the first such). */
typedef struct cs_dict_skip {
    char path[4096];      /* "" when none was skipped */
    int gone;             /* 1: no longer there; 0: there but unreadable */
    char cause[2048];     /* why it could not be read (gone == 0) */
} cs_dict_skip;

/* The keys of r's targets and prospects (r->target_keys, r->prospect_keys)
 * from the user dictionaries dicts[0..n): an id takes its key from the
 * first that has one (merge gets one path from each run, often copies of
 * one dictionary), and the later dictionaries are not opened once every
 * id has its key (a --state chain lists every earlier run's: reading them
 * all at each run's end grew with the chain). A dictionary that is gone
 * or cannot be read (damaged, not HDF5) is skipped and the first such
 * named in *skip, for the caller's note: it costs keys, not the run.
 * Without any key found the lists stay without keys. CS_ENOMEM only.
 * Rank 0. */
int userkeys_for_ranking(cs_ranking *r, const char *const *dicts, int n, cs_dict_skip *skip,
                         cs_err *err);

#endif
