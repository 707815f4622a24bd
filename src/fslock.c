/* fslock.c — the lock that keeps two jobs off one output (or one --state
 * file, or one checkpoint directory), and the removal, under it, of what
 * killed jobs left beside it. */
#include "clickseg/fslock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickseg/fscommit.h"
#include "clickseg/fsutil.h"

#include "fscommit_priv.h"

/* This host's name ("?" when unknown). */
static void this_host(char *host, size_t n)
{
    snprintf(host, n, "?");
    gethostname(host, n - 1);
    host[n - 1] = '\0';
}

int fs_holder_line(char *line, size_t n)
{
    char host[128];
    this_host(host, sizeof host);
    return snprintf(line, n, "pid %ld on %s\n", (long)getpid(), host);
}

/* 1 when pid runs: exists and is no zombie (a killed job's ranks stay
 * zombies where nothing reaps them, as under a container's init). */
static int process_alive(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 0;
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 1;   /* no /proc: kill's word */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close = strrchr(buf, ')');   /* after "pid (comm)" */
    return !(close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X'));
}

/* 1 when p holds our mark and no live process of this host wrote it (a
 * job on another host is trusted to the lock, as the output is). */
static int stale_tmp_dir(const char *p)
{
    char m[PATH_MAX + 32], line[256] = "", host[128] = "";
    snprintf(m, sizeof m, "%s/" FS_TMP_MARK, p);
    FILE *f = fopen(m, "r");
    if (!f)
        return 0;
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    long pid = 0;
    char who[128] = "";
    if (!got || sscanf(line, "pid %ld on %127s", &pid, who) != 2)
        return 1;   /* ours, killed while it wrote the mark */
    this_host(host, sizeof host);
    return strcmp(who, host) != 0 || pid <= 0 || !process_alive((pid_t)pid);
}

/* 1 when p starts with the HDF5 signature: a --state snapshot, not a
 * user's file that happens to bear the name. */
static int is_hdf5_file(const char *p)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    FILE *f = fopen(p, "rb");
    if (!f)
        return 0;
    int ok = fread(b, 1, 8, f) == 8 && memcmp(b, sig, 8) == 0;
    fclose(f);
    return ok;
}

void fs_sweep_stale_tmps(const char *final, const char *keep, int dirs)
{
    char parent[PATH_MAX];
    const char *base, *keep_base = NULL;
    fs_split_parent(final, parent, sizeof parent, &base);
    if (keep) {
        const char *slash = strrchr(keep, '/');
        keep_base = slash ? slash + 1 : keep;
    }
    size_t blen = strlen(base);
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t klen = keep_base ? strlen(keep_base) : 0;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0 || !n[blen + 5] ||
            (keep_base && strncmp(n, keep_base, klen) == 0 &&
             (!n[klen] || strcmp(n + klen, ".room") == 0)))
            continue;
        /* "<base>.tmp.<digits>", or (files) its ballast "<...>.room" (fs_reserve) */
        size_t digits = strspn(n + blen + 5, "0123456789"), rest = strlen(n + blen + 5);
        int room = !dirs && digits && digits + 5 == rest && strcmp(n + blen + 5 + digits, ".room") == 0;
        if (!room && digits != rest)
            continue;
        char p[PATH_MAX];
        struct stat st;
        if (snprintf(p, sizeof p, "%s/%s", parent, n) >= (int)sizeof p || lstat(p, &st) != 0)
            continue;
        if (dirs && S_ISDIR(st.st_mode) && stale_tmp_dir(p))
            fs_abandon_output(p);
        else if (!dirs && S_ISREG(st.st_mode) && (room || is_hdf5_file(p)))
            unlink(p);
    }
    closedir(d);
}

int fs_lock_output(const char *final, int *fd, cs_err *err)
{
    int rc = fs_lock_named(final, "cannot create the output directory", "", fd, err);
    /* Before the command looks at final (a requeued run reads its
     * report.json): a commit a kill interrupted leaves it whole but maybe
     * missing, or the user's files aside. */
    if (rc == CS_OK && (rc = fs_recover_output(final, err)) != CS_OK) {
        fs_unlock_output(final, *fd);
        *fd = -1;
    }
    return rc;
}

int fs_lock_named(const char *final, const char *cannot, const char *busy_hint, int *fd,
                  cs_err *err)
{
    char path[PATH_MAX], parent[PATH_MAX];
    const char *base;
    *fd = -1;
    if (snprintf(path, sizeof path, "%s.lock", final) >= (int)sizeof path)
        return cs_err_set(err, CS_EUSAGE, "%s: output path too long", final);
    fs_split_parent(final, parent, sizeof parent, &base);
    if (fs_mkdir_p(parent, err) != CS_OK)
        return cs_err_wrap(err, "%s: %s", final, cannot);
    int f = -1;
    /* The holder unlinks the file before it lets go (fs_unlock_output): a
     * lock taken on a file that is no longer at `path` is nobody's, and a
     * job that made a new one would hold "the" lock beside us. Retried on
     * the file now there; a few rounds are only ever needed under churn. */
    for (int round = 0; round < 100; round++) {
        f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (f < 0)
            return cs_err_set(err, CS_EIO, "%s: %s: its lock file %s: %s", final, cannot, path,
                              strerror(errno));
        if (flock(f, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char who[256] = "";
            ssize_t n = pread(f, who, sizeof who - 1, 0);
            who[n > 0 ? n : 0] = '\0';
            who[strcspn(who, "\n")] = '\0';
            close(f);
            if (e == EWOULDBLOCK)
                return cs_err_set(err, CS_EIO, "%s is being written by another clickseg job (%s "
                                  "holds %s): wait for it to end or cancel it first%s", final,
                                  who[0] ? who : "a process", path, busy_hint);
            /* Lustre mounted without flock (its `noflock`) says ENOSYS, an
             * NFS mount without a lock manager ENOLCK: the fix is where the
             * file lives, not in the job. */
            if (e == ENOSYS || e == EOPNOTSUPP || e == ENOLCK)
                return cs_err_set(err, CS_EIO, "%s: cannot lock: %s: the file system holding "
                                  "it has no flock (Lustre mounted without -o flock, NFS "
                                  "without its lock manager?), which keeps two jobs off one "
                                  "output: write %s to a file system with locks, or ask the "
                                  "admins to enable them", path, strerror(e), final);
            return cs_err_set(err, CS_EIO, "%s: cannot lock: %s", path, strerror(e));
        }
        struct stat held, now;
        if (fstat(f, &held) == 0 && stat(path, &now) == 0 && held.st_dev == now.st_dev &&
            held.st_ino == now.st_ino)
            break;
        close(f);
        f = -1;
    }
    if (f < 0)
        return cs_err_set(err, CS_EIO, "%s: the lock file keeps being replaced", path);
    char line[256];
    int len = fs_holder_line(line, sizeof line);
    if (ftruncate(f, 0) != 0 || pwrite(f, line, (size_t)len, 0) != len) {
        /* only the holder's name in messages is lost */
    }
    *fd = f;
    return CS_OK;
}

void fs_unlock_output(const char *final, int fd)
{
    if (fd < 0)
        return;
    char path[PATH_MAX];
    /* Removed while still held: a job starting now either opens this file
     * and finds it locked, or makes a new one. */
    if (snprintf(path, sizeof path, "%s.lock", final) < (int)sizeof path)
        unlink(path);
    close(fd);
}
