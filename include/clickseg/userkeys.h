/* userkeys.h — the original text of hashed user ids, for the target lists.
 *
 * `clickseg import` turns user ids that are not numbers (Google Analytics'
 * visitor ids, say) into stable 64-bit hashes and keeps the text in the
 * archive's dictionaries.h5 (/dictionaries/user/{id, key}, sorted by id).
 * At the end of a run, rank 0 looks up its targets and prospects there so
 * targets.csv, prospects.csv and report.json show the id the source used.
 * Called by run on rank 0 only. Serial HDF5. */
#ifndef CLICKSEG_USERKEYS_H
#define CLICKSEG_USERKEYS_H

#include <stdint.h>

#include "clickseg/error.h"

/* keys[i] = the text of ids[i] in dict_path's user dictionary, or "" when
 * it has none (the id was a number in the source). *keys is NULL when the
 * file holds no user dictionary. CS_EINPUT naming the file when it cannot
 * be read. */
int userkeys_lookup(const char *dict_path, const uint64_t *ids, uint64_t n, char ***keys,
                    cs_err *err);

void userkeys_free(char **keys, uint64_t n);

#endif
