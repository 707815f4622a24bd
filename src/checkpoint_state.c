/* checkpoint_state.c — --state FILE: the state of a chain of runs over
 * successive inputs (see checkpoint.h). The file is a snapshot whose
 * row_base counts every row of the chain so far and whose history lists
 * every input file the chain consumed. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint_priv.h"
#include "clickseg/fsutil.h"

/* Appends path to list (len of them) unless it is there. */
static void add_dict(char (*list)[CS_DICT_PATH_LEN], int *len, const char *path)
{
    for (int i = 0; i < *len; i++)
        if (strcmp(list[i], path) == 0)
            return;
    snprintf(list[*len], CS_DICT_PATH_LEN, "%s", path);
    (*len)++;
}

int ckpt_chain_dicts(cs_ckpt *k, const char (*own)[CS_DICT_PATH_LEN], int n, cs_err *err)
{
    char (*d)[CS_DICT_PATH_LEN] = cs_calloc((size_t)(n + k->ndicts + 1), sizeof *d, err,
                                            "dictionary list");
    if (!d)
        return CS_ENOMEM;
    int len = 0;
    for (int i = 0; i < n; i++) {
        char buf[PATH_MAX];
        add_dict(d, &len, realpath(own[i], buf) ? buf : own[i]);
    }
    for (int i = 0; i < k->ndicts; i++) {
        char buf[PATH_MAX];
        add_dict(d, &len, realpath(k->dicts[i], buf) ? buf : k->dicts[i]);
    }
    free(k->dicts);
    k->dicts = d;
    k->ndicts = len;
    return CS_OK;
}

int state_stage(cs_ckpt *k, const cs_plan *plan, cs_err *err)
{
    const cs_comm *c = k->c;
    cs_hist_file *h = NULL;
    int n = 0;
    if (c->rank == 0) {
        h = cs_calloc((size_t)(k->nhist + plan->nfiles + 1), sizeof *h, err, "state history");
        if (h) {
            if (k->nhist)
                memcpy(h, k->hist, (size_t)k->nhist * sizeof *h);
            n = k->nhist;
            for (int i = 0; i < plan->nfiles; i++, n++) {
                char buf[PATH_MAX];
                const cs_plan_file *pf = &plan->files[i];
                const char *r = realpath(pf->path, buf) ? buf : pf->path;
                size_t len = strlen(r) < sizeof h[n].path ? strlen(r) : sizeof h[n].path - 1;
                memcpy(h[n].path, r, len);
                h[n].path[len] = '\0';
                h[n].rows = pf->rows;
                h[n].ts_first = pf->ts_first;
                h[n].ts_last = pf->ts_last;
            }
        }
        snprintf(k->state_tmp, sizeof k->state_tmp, "%s.tmp.%ld", k->state_path, (long)getpid());
    }
    if (comm_agree(c, err) != CS_OK ||
        comm_bcast(c, k->state_tmp, sizeof k->state_tmp, err) != CS_OK) {
        free(h);
        return err->code;
    }
    /* A state file's rejected_base and late_base are not read back: the
     * next run sums the loaded statistics instead (ckpt_begin). */
    cs_snap_meta m = {config_hash(k->cfg), 0, k->row_base + plan->total_rows, 0, 0,
                      k->cfg->output_sessions, c->size, n, h, 0, 0, k->ndicts, k->dicts};
    k->staged = 1;
    int rc = snapshot_write(c, k->state_tmp, &k->s, &m, err);
    free(h);
    if (rc != CS_OK)
        cs_err_wrap(err, "saving the state (--state %s)", k->state_path);
    return rc;
}

int state_commit(cs_ckpt *k, cs_err *err)
{
    if (rename(k->state_tmp, k->state_path) != 0)
        return cs_err_set(err, CS_EIO, "the report is complete, but the state could not be "
                          "saved: cannot rename %s to %s: %s", k->state_tmp, k->state_path,
                          strerror(errno));
    k->staged = 0;
    char dir[CS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", k->state_path);
    return ckpt_sync_dir(dirname(dir), err);
}

int state_check_loaded(const cs_ckpt *k, const cs_snap_meta *m, const cs_plan *plan,
                       cs_err *err)
{
    uint64_t h = config_hash(k->cfg);
    if (m->config_hash != h)
        return cs_err_set(err, CS_ECONFIG, "state %s was saved with another configuration "
                          "(config hash %016" PRIx64 ", this run %016" PRIx64 "): every run of "
                          "a --state chain needs the same session, report and rules settings",
                          k->state_path, m->config_hash, h);
    if (m->sessions != k->cfg->output_sessions)
        return cs_err_set(err, CS_EUSAGE, "state %s was saved by runs %s sessions.h5: keep "
                          "--sessions the same for every run of the chain", k->state_path,
                          m->sessions ? "with" : "without");
    for (int i = 0; i < plan->nfiles; i++) {
        char buf[PATH_MAX];
        const char *p = realpath(plan->files[i].path, buf) ? buf : plan->files[i].path;
        const cs_plan_file *f = &plan->files[i];
        for (int j = 0; j < m->nhist; j++) {
            const cs_hist_file *was = &m->hist[j];
            if (strcmp(p, was->path) == 0)
                return cs_err_set(err, CS_EINPUT, "%s was already processed into state %s "
                                  "by an earlier run: a --state run takes only new files",
                                  f->path, k->state_path);
            /* A copy under another name (a re-delivered day): the rows and
             * first and last times of a file already in the state, and its
             * bytes when that file is still there (shards of one day by
             * user can share the rest; plan_build compares one run's
             * inputs so too). */
            int same = f->rows == was->rows && f->ts_first == was->ts_first &&
                       f->ts_last == was->ts_last;
            if (same && access(was->path, R_OK) == 0 &&
                fs_same_bytes(f->path, was->path, &same, err) != CS_OK)
                return err->code;
            if (same)
                return cs_err_set(err, CS_EINPUT, "%s looks like a copy of %s, already "
                                  "processed into state %s (%llu rows, the same first and "
                                  "last time): its events would be counted twice",
                                  f->path, was->path, k->state_path,
                                  (unsigned long long)f->rows);
        }
    }
    return CS_OK;
}
