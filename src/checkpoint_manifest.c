/* checkpoint_manifest.c — a checkpoint's MANIFEST: writing it atomically,
 * reading it, and checking it against the run that wants to resume
 * (see checkpoint_priv.h for the format). Rank 0 only; no MPI. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint_priv.h"

#define MANIFEST_MAGIC "clickseg-checkpoint 1"

/* The real path of p into out (n bytes; cut at n - 1: paths are CS_PATH_MAX). */
static void real_path(const char *p, char *out, size_t n)
{
    char buf[PATH_MAX];
    const char *r = realpath(p, buf) ? buf : p;
    size_t len = strlen(r);
    if (len >= n)
        len = n - 1;
    memcpy(out, r, len);
    out[len] = '\0';
}

/* What a file looks like now: rows from the plan, size and mtime from stat. */
static int file_now(const cs_plan_file *pf, cs_mfile *f, cs_err *err)
{
    struct stat st;
    if (stat(pf->path, &st) != 0)
        return cs_err_set(err, CS_EINPUT, "%s: cannot stat: %s", pf->path, strerror(errno));
    memset(f, 0, sizeof *f);
    f->rows = pf->rows;
    f->size = (int64_t)st.st_size;
    f->mtime_s = (int64_t)st.st_mtim.tv_sec;
    f->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
    real_path(pf->path, f->path, sizeof f->path);
    return CS_OK;
}

int manifest_write(const char *dir, const cs_manifest *mf, const cs_plan *plan, cs_err *err)
{
    char path[CS_PATH_MAX + 20], tmp[CS_PATH_MAX + 30], when[32];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    snprintf(tmp, sizeof tmp, "%s/MANIFEST.tmp", dir);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cs_err_set(err, CS_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    fprintf(f, "%s\nsnapshot %s\nseq %" PRIu64 "\nconfig_hash %016" PRIx64 "\nsessions %d\n"
            "state %d\nranks %d\nnext_row %" PRIu64 "\ntotal_rows %" PRIu64 "\nwritten %s\n"
            "files %d\n", MANIFEST_MAGIC, mf->snapshot, mf->seq, mf->config_hash, mf->sessions,
            mf->state, mf->ranks, mf->next_row, mf->total_rows, when, plan->nfiles);
    if (mf->run_id[0])
        fprintf(f, "run_id %s\n", mf->run_id);
    if (mf->state)
        fprintf(f, "state_file %d %" PRId64 " %" PRId64 ".%09" PRId64 "\n", mf->state_there,
                mf->state_size, mf->state_mtime_s, mf->state_mtime_ns);
    int rc = CS_OK;
    for (int i = 0; rc == CS_OK && i < plan->nfiles; i++) {
        cs_mfile fi;
        rc = file_now(&plan->files[i], &fi, err);
        if (rc == CS_OK)
            fprintf(f, "file %" PRIu64 " %" PRId64 " %" PRId64 ".%09" PRId64 " %s\n", fi.rows,
                    fi.size, fi.mtime_s, fi.mtime_ns, fi.path);
    }
    fprintf(f, "profiles %d\n", plan->nprofiles);
    for (int i = 0; rc == CS_OK && i < plan->nprofiles; i++) {
        cs_mfile fi;
        rc = file_now(&plan->profiles[i], &fi, err);
        if (rc == CS_OK)
            fprintf(f, "profile %" PRIu64 " %" PRId64 " %" PRId64 ".%09" PRId64 " %s\n",
                    fi.rows, fi.size, fi.mtime_s, fi.mtime_ns, fi.path);
    }
    if (rc == CS_OK && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0))
        rc = cs_err_set(err, CS_EIO, "%s: write failed (disk full?): %s", tmp, strerror(errno));
    if (fclose(f) != 0 && rc == CS_OK)
        rc = cs_err_set(err, CS_EIO, "%s: write failed: %s", tmp, strerror(errno));
    if (rc == CS_OK && rename(tmp, path) != 0)
        rc = cs_err_set(err, CS_EIO, "%s: cannot rename to MANIFEST: %s", tmp, strerror(errno));
    if (rc == CS_OK)
        rc = ckpt_sync_dir(dir, err);
    if (rc != CS_OK)
        unlink(tmp);
    return rc;
}

void manifest_free(cs_manifest *mf)
{
    free(mf->files);
    mf->files = NULL;
    free(mf->profiles);
    mf->profiles = NULL;
}

/* One "ROWS SIZE MTIME PATH" file line into f; 0 when understood. */
static int parse_file(const char *v, cs_mfile *f)
{
    int p = 0;
    if (sscanf(v, "%" SCNu64 " %" SCNd64 " %" SCNd64 ".%" SCNd64 " %n", &f->rows, &f->size,
               &f->mtime_s, &f->mtime_ns, &p) != 4 || !v[p])
        return -1;
    snprintf(f->path, sizeof f->path, "%s", v + p);
    return 0;
}

/* Parses one "key value" line into mf; 0 when understood. */
static int parse_line(cs_manifest *mf, const char *line, int *nfile, int *nprof)
{
    char key[32];
    int at = 0;
    if (sscanf(line, "%31s %n", key, &at) != 1)
        return -1;
    const char *v = line + at;
    if (strcmp(key, "snapshot") == 0)
        return sscanf(v, "%255s", mf->snapshot) == 1 ? 0 : -1;
    if (strcmp(key, "seq") == 0)
        return sscanf(v, "%" SCNu64, &mf->seq) == 1 ? 0 : -1;
    if (strcmp(key, "config_hash") == 0)
        return sscanf(v, "%" SCNx64, &mf->config_hash) == 1 ? 0 : -1;
    if (strcmp(key, "sessions") == 0)
        return sscanf(v, "%d", &mf->sessions) == 1 ? 0 : -1;
    if (strcmp(key, "state") == 0)
        return sscanf(v, "%d", &mf->state) == 1 ? 0 : -1;
    if (strcmp(key, "state_file") == 0)
        return sscanf(v, "%d %" SCNd64 " %" SCNd64 ".%" SCNd64, &mf->state_there,
                      &mf->state_size, &mf->state_mtime_s, &mf->state_mtime_ns) == 4 ? 0 : -1;
    if (strcmp(key, "ranks") == 0)
        return sscanf(v, "%d", &mf->ranks) == 1 ? 0 : -1;
    if (strcmp(key, "next_row") == 0)
        return sscanf(v, "%" SCNu64, &mf->next_row) == 1 ? 0 : -1;
    if (strcmp(key, "total_rows") == 0)
        return sscanf(v, "%" SCNu64, &mf->total_rows) == 1 ? 0 : -1;
    if (strcmp(key, "run_id") == 0)
        return sscanf(v, "%16[0-9a-f]", mf->run_id) == 1 && strlen(mf->run_id) == CS_RUN_ID_LEN
                   ? 0 : -1;
    if (strcmp(key, "written") == 0)
        return sscanf(v, "%31s", mf->written) == 1 ? 0 : -1;
    if (strcmp(key, "files") == 0) {
        if (sscanf(v, "%d", &mf->nfiles) != 1 || mf->nfiles < 0 || mf->nfiles > 10000000)
            return -1;
        mf->files = calloc((size_t)mf->nfiles + 1, sizeof *mf->files);
        return mf->files ? 0 : -1;
    }
    if (strcmp(key, "file") == 0)
        return mf->files && *nfile < mf->nfiles ? parse_file(v, &mf->files[(*nfile)++]) : -1;
    if (strcmp(key, "profiles") == 0) {
        if (mf->profiles || sscanf(v, "%d", &mf->nprofiles) != 1 || mf->nprofiles < 0 ||
            mf->nprofiles > 1000000)
            return -1;
        mf->profiles = calloc((size_t)mf->nprofiles + 1, sizeof *mf->profiles);
        return mf->profiles ? 0 : -1;
    }
    if (strcmp(key, "profile") == 0)
        return mf->profiles && *nprof < mf->nprofiles
                   ? parse_file(v, &mf->profiles[(*nprof)++]) : -1;
    return -1;
}

int manifest_read(const char *dir, cs_manifest *mf, cs_err *err)
{
    char path[CS_PATH_MAX + 20];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    memset(mf, 0, sizeof *mf);
    mf->state_there = -1;   /* no state_file line: from before it was written */
    mf->nprofiles = -1;     /* no profiles line: from before they were listed */
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        cs_err_set(err, CS_EIO, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, nfile = 0, nprof = 0, bad = 0;
    while (!bad && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (lineno == 1)
            bad = strcmp(line, MANIFEST_MAGIC) != 0;
        else
            bad = parse_line(mf, line, &nfile, &nprof) != 0;
    }
    free(line);
    fclose(f);
    if (!bad && (lineno == 0 || nfile != mf->nfiles || !mf->snapshot[0] ||
                 (mf->nprofiles >= 0 && nprof != mf->nprofiles)))
        bad = 1, lineno++;
    if (bad) {
        manifest_free(mf);
        cs_err_set(err, CS_EINPUT, "%s:%d: not a clickseg checkpoint manifest (or damaged)",
                   path, lineno);
        return -1;
    }
    return 1;
}

static void format_mtime(int64_t s, char *buf, size_t n)
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* A run's file by real path: its place in the run's list, and whether the
 * checkpoint's list has it. */
typedef struct path_at {
    char *path;
    int at, old;
} path_at;

static int by_path(const void *a, const void *b)
{
    return strcmp(((const path_at *)a)->path, ((const path_at *)b)->path);
}

/* CS_EINPUT when the run's list holds every file of the checkpoint's and
 * more: a glob or directory that new files have joined since (a
 * reprocess.sbatch job requeued while the logs grow). Said as such: the
 * file-by-file comparison would name the first shifted position as
 * "another job's checkpoint". */
static int check_added(const cs_mfile *was_list, int nwas, const cs_plan_file *now_list,
                       int nnow, const char *what, const char *dir, cs_err *err)
{
    if (nnow <= nwas)
        return CS_OK;
    /* Sorted by path and searched: an archive of hourly files has tens of
     * thousands, where comparing every pair would take seconds. */
    path_at *now = calloc((size_t)nnow, sizeof *now);
    int rc = CS_OK, found = 0, ok = now != NULL;
    for (int j = 0; ok && j < nnow; j++) {
        char real[CS_PATH_MAX];
        real_path(now_list[j].path, real, sizeof real);
        ok = (now[j].path = strdup(real)) != NULL;
        now[j].at = j;
    }
    if (ok)
        qsort(now, (size_t)nnow, sizeof *now, by_path);
    for (int i = 0; ok && i < nwas; i++) {
        path_at key = {(char *)(uintptr_t)was_list[i].path, 0, 0};
        path_at *hit = bsearch(&key, now, (size_t)nnow, sizeof *now, by_path);
        if (!hit)
            break;   /* a file of the checkpoint is gone: not an addition */
        hit->old = 1;
        found++;
    }
    if (ok && found == nwas) {
        int first = -1;   /* the first new file in the run's (time) order */
        for (int j = 0; j < nnow; j++)
            if (!now[j].old && (first < 0 || now[j].at < now[first].at))
                first = j;
        rc = cs_err_set(err, CS_EINPUT, "checkpoint %s was made from %d %s, and this run finds "
                        "%d more (the first new one: %s): a resume reads the files the run "
                        "started with; give those (listed in %s/MANIFEST: a fixed list rather "
                        "than a glob or directory that new files join), or start over with "
                        "--force to read the new ones too", dir, nwas, what, nnow - nwas,
                        now[first].path, dir);
    }
    for (int j = 0; now && j < nnow; j++)
        free(now[j].path);
    free(now);
    return rc;
}

/* CS_EINPUT naming the first file that differs between the checkpoint's
 * list (was, nwas) and the run's (now, nnow); `what` names the list. */
static int check_list(const cs_mfile *was_list, int nwas, const cs_plan_file *now_list, int nnow,
                      const char *what, const char *dir, cs_err *err)
{
    if (check_added(was_list, nwas, now_list, nnow, what, dir, err) != CS_OK)
        return CS_EINPUT;
    int n = nwas < nnow ? nwas : nnow;
    for (int i = 0; i < n; i++) {
        cs_mfile now;
        if (file_now(&now_list[i], &now, err) != CS_OK)
            return CS_EINPUT;
        const cs_mfile *was = &was_list[i];
        if (strcmp(now.path, was->path) != 0)
            return cs_err_set(err, CS_EINPUT, "checkpoint %s belongs to other %s: "
                              "file %d of the run was %s, now it is %s (if it is another "
                              "job's, give each run its own checkpoint.dir: the default is "
                              "OUTPUT.checkpoint)", dir, what, i + 1, was->path, now.path);
        if (now.size != was->size || now.rows != was->rows)
            return cs_err_set(err, CS_EINPUT, "the archive changed since checkpoint %s: %s "
                              "had %" PRIu64 " rows and %" PRId64 " bytes, now %" PRIu64
                              " rows and %" PRId64 " bytes", dir, now.path, was->rows,
                              was->size, now.rows, now.size);
        if (now.mtime_s != was->mtime_s || now.mtime_ns != was->mtime_ns) {
            char a[40], b[40];
            format_mtime(was->mtime_s, a, sizeof a);
            format_mtime(now.mtime_s, b, sizeof b);
            return cs_err_set(err, CS_EINPUT, "the archive changed since checkpoint %s: %s "
                              "was modified (%s then, %s now)", dir, now.path, a, b);
        }
    }
    if (nwas != nnow) {
        const char *extra = nwas > nnow ? was_list[n].path : now_list[n].path;
        return cs_err_set(err, CS_EINPUT, "checkpoint %s was made from %d %s, this run has "
                          "%d (%s %s)", dir, nwas, what, nnow, extra,
                          nwas > nnow ? "is missing" : "is new");
    }
    return CS_OK;
}

/* The event files, then the profile tables (when the MANIFEST lists them). */
static int check_files(const cs_manifest *mf, const char *dir, const cs_plan *plan, cs_err *err)
{
    int rc = check_list(mf->files, mf->nfiles, plan->files, plan->nfiles, "input files", dir,
                        err);
    if (rc == CS_OK && mf->nprofiles >= 0)
        rc = check_list(mf->profiles, mf->nprofiles, plan->profiles, plan->nprofiles,
                        "profile tables", dir, err);
    return rc;
}

int manifest_check(const cs_manifest *mf, const char *dir, const cs_config *cfg, int state,
                   const cs_plan *plan, cs_err *err)
{
    uint64_t h = config_hash(cfg);
    if (mf->config_hash != h)
        return cs_err_set(err, CS_ECONFIG, "checkpoint %s was written with another "
                          "configuration (config hash %016" PRIx64 ", this run %016" PRIx64
                          "): resume with the same -c file and --set values, or start over "
                          "with --force", dir, mf->config_hash, h);
    if (mf->sessions != cfg->output_sessions)
        return cs_err_set(err, CS_EUSAGE, "checkpoint %s was written by a run %s sessions.h5: "
                          "resume %s --sessions", dir, mf->sessions ? "with" : "without",
                          mf->sessions ? "with" : "without");
    if (mf->state != state)
        return cs_err_set(err, CS_EUSAGE, "checkpoint %s was written by a run %s --state: "
                          "resume %s --state", dir, mf->state ? "with" : "without",
                          mf->state ? "with the same" : "without");
    int rc = check_files(mf, dir, plan, err);
    if (rc == CS_OK && (mf->total_rows != plan->total_rows || mf->next_row > plan->total_rows))
        rc = cs_err_set(err, CS_EINPUT, "checkpoint %s: %" PRIu64 " rows then, %" PRIu64 " now",
                        dir, mf->total_rows, plan->total_rows);
    return rc;
}

int manifest_other_run(const cs_manifest *mf, const cs_config *cfg, const cs_plan *plan,
                       char *why, size_t n)
{
    uint64_t h = config_hash(cfg);
    if (mf->config_hash != h) {
        snprintf(why, n, "with another configuration (config hash %016" PRIx64 ", this run "
                 "%016" PRIx64 ")", mf->config_hash, h);
        return 1;
    }
    int m = mf->nfiles < plan->nfiles ? mf->nfiles : plan->nfiles;
    for (int i = 0; i < m; i++) {
        char now[sizeof mf->files[i].path];
        real_path(plan->files[i].path, now, sizeof now);
        if (strcmp(now, mf->files[i].path) != 0) {
            snprintf(why, n, "over other input files (its file %d is %s, this run's %s)", i + 1,
                     mf->files[i].path, now);
            return 1;
        }
    }
    if (mf->nfiles != plan->nfiles) {
        snprintf(why, n, "over other input files (%d files, this run %d)", mf->nfiles,
                 plan->nfiles);
        return 1;
    }
    return 0;
}
