/* fscommit_priv.h — private to fscommit.c, fsrecover.c and fslock.c (not a public
 * header): what the commit and the recovery of a killed commit share. */
#ifndef CLICKSEG_FSCOMMIT_PRIV_H
#define CLICKSEG_FSCOMMIT_PRIV_H

#include <stddef.h>

#include "clickseg/error.h"

/* Called before every change a kill could interrupt (fs_commit_hook):
 * 0, or an errno a rename then fails with (tests only). */
int fs_commit_step(const char *what);

/* The directory that holds path ("." or "/" at the top) and path's last
 * component. */
void fs_split_parent(const char *path, char *parent, size_t size, const char **base);

/* The end of a swap (fscommit.c's commit_swap), which the commit runs and
 * fs_recover_output finishes after a kill: see fsrecover.c. */
int fs_finish_forward(const char *aside, const char *final, const char *const *outputs,
                      cs_err *err);

#endif
