/* checkpoint_lock.c — one run at a time in a checkpoint directory (see checkpoint.h). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_priv.h"
#include "clickseg/fslock.h"

/* CS_EIO unless the checkpoint directory, or the nearest of its parents
 * that exists (it is made at the first checkpoint), can be written. Found
 * at the start, not at the first checkpoint an hour in, whose failure
 * would end the run. */
static int check_dir_writable(const char *dir, cs_err *err)
{
    char p[CS_PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    struct stat st;
    while (stat(p, &st) != 0) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) {
            snprintf(p, sizeof p, "%s", slash == p ? "/" : ".");
            break;
        }
        *slash = '\0';
    }
    errno = 0;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode) || access(p, W_OK | X_OK) != 0)
        return cs_err_set(err, CS_EIO, "checkpoint directory %s cannot be written (%s: %s): "
                          "set checkpoint.dir to a writable directory", dir, p,
                          errno ? strerror(errno) : "not a directory");
    return CS_OK;
}

/* p as "real path of its parent/its name", so that "./out" and "out"
 * compare equal before either exists; p itself when its parent does not
 * exist yet. */
static void canonical(const char *p, char *out, size_t n)
{
    char a[CS_PATH_MAX], b[CS_PATH_MAX], real[PATH_MAX];
    snprintf(a, sizeof a, "%s", p);
    snprintf(b, sizeof b, "%s", p);
    const char *parent = dirname(a), *base = basename(b);
    if (realpath(parent, real))
        snprintf(out, n, "%s/%s", real, base);
    else
        snprintf(out, n, "%s", p);
}

/* 1 when the checkpoint directory is the output directory itself: the
 * output's lock ("<output>.lock") covers it, and taking that file's lock
 * a second time would refuse this very run. */
static int is_output_dir(const cs_config *cfg, const char *dir)
{
    char a[CS_PATH_MAX + 8], b[CS_PATH_MAX + 8];
    canonical(dir, a, sizeof a);
    canonical(cfg->output_dir, b, sizeof b);
    return strcmp(a, b) == 0;
}

int ckpt_lock_dir(const cs_config *cfg, int *fd, cs_err *err)
{
    char dir[CS_PATH_MAX];
    *fd = -1;
    ckpt_default_dir(cfg, dir, sizeof dir);
    if (check_dir_writable(dir, err) != CS_OK)
        return err->code;
    if (is_output_dir(cfg, dir))
        return CS_OK;
    /* Two runs in one directory delete each other's snapshots (a save
     * removes the older ones, a finished run the directory): the second
     * run is refused before it reads or removes anything there. */
    if (fs_lock_named(dir, "cannot keep a checkpoint there",
                      "; two runs cannot share a checkpoint directory: give each run its own "
                      "checkpoint.dir (the default is OUTPUT.checkpoint, one per output)",
                      fd, err) != CS_OK)
        return cs_err_wrap(err, "checkpoint.dir");
    return CS_OK;
}

void ckpt_unlock_dir(const cs_config *cfg, int fd)
{
    if (fd < 0)
        return;
    char dir[CS_PATH_MAX];
    ckpt_default_dir(cfg, dir, sizeof dir);
    fs_unlock_output(dir, fd);
}
