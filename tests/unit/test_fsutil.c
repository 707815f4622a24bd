/* test_fsutil.c — the output lock and the temporary directories beside an
 * output: the lock is exclusive even while holders come and go (each
 * unlinks the file as it lets go, so a lock on an unlinked file must not
 * count), it makes the output's parents and names its holder, and
 * fs_begin_output under the lock removes the temporary directories of
 * killed jobs and nothing else (for --state, their temporary files); a
 * commit killed at any of its steps, and the recovery after it killed at
 * any of its own, leave the earlier output whole or the new one whole;
 * the recovery takes over only its own commit's aside; a rename refused
 * (EPERM in a sticky directory) and a job whose working directory is the
 * output commit file by file; an empty output passes on its mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clickseg/fscommit.h"
#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/test_fsutil.XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void touch(const char *p)
{
    int f = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(f >= 0);
    close(f);
}

/* The lock makes the output's parents, names its holder, refuses a second
 * taker (another descriptor, as another job would open) with that name,
 * and is gone once dropped. */
static void test_lock_basics(void **state)
{
    (void)state;
    char final[256], lock[300], sub[256];
    snprintf(final, sizeof final, "%s/a/b/out", root);
    snprintf(lock, sizeof lock, "%s.lock", final);
    snprintf(sub, sizeof sub, "%s/a/b", root);
    cs_err err = {0};
    int fd = -1, fd2 = -1;
    assert_int_equal(fs_lock_output(final, &fd, &err), CS_OK);
    assert_true(fd >= 0);
    assert_true(is_dir(sub));
    char who[64] = "", want[64];
    FILE *f = fopen(lock, "r");
    assert_non_null(f);
    assert_non_null(fgets(who, sizeof who, f));
    fclose(f);
    snprintf(want, sizeof want, "pid %ld on ", (long)getpid());
    assert_true(strncmp(who, want, strlen(want)) == 0);
    assert_int_equal(fs_lock_output(final, &fd2, &err), CS_EIO);
    assert_int_equal(fd2, -1);
    assert_non_null(strstr(err.msg, "is being written by another clickseg job (pid "));
    fs_unlock_output(final, fd);
    assert_int_equal(access(lock, F_OK), -1);
    assert_int_equal(fs_lock_output(final, &fd2, &err), CS_OK);
    fs_unlock_output(final, fd2);
}

/* Processes that take and drop the lock as fast as they can: whoever holds
 * it makes a marker file with O_EXCL, which fails if a second process
 * holds it at the same time. Taking the lock on a file its holder had
 * just unlinked (opened before the unlink, locked after the close) made
 * two holders at once within a few thousand rounds. */
static void test_lock_exclusive_under_churn(void **state)
{
    (void)state;
    enum { NPROC = 4, ROUNDS = 4000 };
    char final[256], held[300];
    snprintf(final, sizeof final, "%s/churn", root);
    snprintf(held, sizeof held, "%s.held", final);
    pid_t pid[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] > 0)
            continue;
        int got = 0;
        for (int r = 0; r < ROUNDS; r++) {
            cs_err err = {0};
            int fd = -1;
            if (fs_lock_output(final, &fd, &err) != CS_OK)
                continue;   /* held by another: the normal refusal */
            int m = open(held, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (m < 0)
                _exit(2);   /* two holders at once */
            close(m);
            got++;
            unlink(held);
            fs_unlock_output(final, fd);
        }
        _exit(got > 0 ? 0 : 3);
    }
    int bad = 0;
    for (int p = 0; p < NPROC; p++) {
        int st = 0;
        assert_int_equal(waitpid(pid[p], &st, 0), pid[p]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "process %d: status %d\n", p, st);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* A mark file as fs_begin_output writes one ("pid N on HOST"). */
static void mark(const char *dir, const char *line)
{
    char p[400];
    snprintf(p, sizeof p, "%s/.clickseg-partial", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(line, f);
    fclose(f);
}

/* A pid no process has: a child that has been waited for. */
static long dead_pid(void)
{
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0)
        _exit(0);
    assert_int_equal(waitpid(c, NULL, 0), c);
    return (long)c;
}

/* Under the lock, fs_begin_output removes "<final>.tmp.<digits>"
 * directories that bear its mark (with what they hold) when their writer
 * is dead or on another host, and keeps every other: a user's directory
 * of such a name without the mark, a live local writer's, a non-numeric
 * suffix, another output's, a plain file. Its own directory gets the mark,
 * and the commit leaves the mark out of the output. */
static void test_begin_sweeps_killed_jobs(void **state)
{
    (void)state;
    char final[256], p[400], tmp[300], host[128] = "";
    gethostname(host, sizeof host - 1);
    snprintf(final, sizeof final, "%s/out", root);
    char dead[160], elsewhere[160], alive[160], zombie[160];
    snprintf(dead, sizeof dead, "pid %ld on %s\n", dead_pid(), host);
    /* a child that has exited and not been reaped: what a killed job's
     * ranks stay where nothing reaps them (a container's init) */
    pid_t z = fork();
    assert_true(z >= 0);
    if (z == 0)
        _exit(0);
    usleep(100000);
    snprintf(zombie, sizeof zombie, "pid %ld on %s\n", (long)z, host);
    snprintf(elsewhere, sizeof elsewhere, "pid %ld on not-%s\n", (long)getpid(), host);
    snprintf(alive, sizeof alive, "pid %ld on %s\n", (long)getpid(), host);
    const char *stale[] = {"out.tmp.12345", "out.tmp.1", "out.tmp.22", "out.tmp.23"};
    const char *stale_mark[] = {dead, elsewhere, "", zombie};   /* "": killed while writing it */
    const char *kept[] = {"out.tmp.x9", "out.tmp.", "outer.tmp.7", "out.tmpl.7",
                          "out.tmp.2024", "out.tmp.31"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", root, stale[i]);
        assert_int_equal(mkdir(p, 0755), 0);
        mark(p, stale_mark[i]);
        snprintf(p, sizeof p, "%s/%s/report.json", root, stale[i]);
        touch(p);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", root, kept[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    snprintf(p, sizeof p, "%s/out.tmp.31", root);   /* a live writer of this host */
    mark(p, alive);
    snprintf(p, sizeof p, "%s/out.tmp.2024/mine.csv", root);   /* the user's, unmarked */
    touch(p);
    snprintf(p, sizeof p, "%s/out.tmp.77", root);   /* not a directory */
    touch(p);
    cs_err err = {0};
    int fd = -1;
    const char *outputs[] = {"report.json", NULL};
    assert_int_equal(fs_lock_output(final, &fd, &err), CS_OK);
    assert_int_equal(fs_begin_output(final, outputs, 0, tmp, sizeof tmp, &err), CS_OK);
    assert_true(is_dir(tmp));
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", root, stale[i]);
        assert_false(is_dir(p));
    }
    assert_int_equal(waitpid(z, NULL, 0), z);
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", root, kept[i]);
        assert_true(is_dir(p));
    }
    snprintf(p, sizeof p, "%s/out.tmp.2024/mine.csv", root);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/out.tmp.77", root);
    assert_int_equal(access(p, F_OK), 0);
    /* our own mark, then none in the committed output */
    snprintf(p, sizeof p, "%s/.clickseg-partial", tmp);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/report.json", tmp);
    touch(p);
    assert_int_equal(fs_commit_output(tmp, final, outputs, &err), CS_OK);
    snprintf(p, sizeof p, "%s/report.json", final);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/.clickseg-partial", final);
    assert_int_equal(access(p, F_OK), -1);
    fs_unlock_output(final, fd);
}

/* For --state files (dirs 0) the same names go when they are HDF5 files
 * (a partial snapshot), and their ballasts; a user's file of that name
 * that is not one, and a directory, stay; keep is matched by name, also
 * given relative. */
static void test_sweep_files(void **state)
{
    (void)state;
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    char final[256], f1[300], f2[300], d[300], keep[300], text[300];
    snprintf(final, sizeof final, "%s/chain.state", root);
    snprintf(f1, sizeof f1, "%s.tmp.123", final);
    snprintf(f2, sizeof f2, "%s.tmp.9", final);
    snprintf(d, sizeof d, "%s.tmp.5", final);
    snprintf(keep, sizeof keep, "%s.tmp.x", final);
    snprintf(text, sizeof text, "%s.tmp.44", final);
    const char *h5[] = {f1, f2, keep};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(h5[i], "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(sig, 1, 8, f), 8);
        fclose(f);
    }
    touch(text);
    assert_int_equal(mkdir(d, 0755), 0);
    /* ballasts (fs_reserve): a killed job's goes, the kept one's stays, and
     * "tmp.12" being kept does not keep "tmp.123"'s; "tmp.7.rooms" is not one */
    char r1[320], r2[320], r3[320], notr[320], f12[300];
    snprintf(r1, sizeof r1, "%s.room", f1);
    snprintf(r2, sizeof r2, "%s.room", f2);
    snprintf(r3, sizeof r3, "%s.tmp.7.room", final);
    snprintf(notr, sizeof notr, "%s.tmp.7.rooms", final);
    snprintf(f12, sizeof f12, "%s.tmp.12", final);
    touch(r1);
    touch(r2);
    touch(r3);
    touch(notr);
    fs_sweep_stale_tmps(final, f2, 0);
    assert_int_equal(access(f1, F_OK), -1);
    assert_int_equal(access(f2, F_OK), 0);   /* the one to keep */
    assert_int_equal(access(keep, F_OK), 0);
    assert_int_equal(access(text, F_OK), 0);
    assert_true(is_dir(d));
    assert_int_equal(access(r1, F_OK), -1);
    assert_int_equal(access(r2, F_OK), 0);
    assert_int_equal(access(r3, F_OK), -1);
    assert_int_equal(access(notr, F_OK), 0);
    unlink(r2);
    /* keep given relative to the working directory */
    assert_int_equal(chdir(root), 0);
    fs_sweep_stale_tmps("chain.state", "chain.state.tmp.9", 0);
    assert_int_equal(access(f2, F_OK), 0);
    fs_sweep_stale_tmps("chain.state", NULL, 0);
    assert_int_equal(access(f2, F_OK), -1);
    assert_int_equal(chdir("/"), 0);
    touch(r1);
    fs_sweep_stale_tmps(final, f12, 0);
    assert_int_equal(access(r1, F_OK), -1);
}

/* The outputs of two runs (the new one writes no sessions.h5) and the
 * user's entries of the output: a file, a directory, a directory at an
 * output's pattern. */
struct file { const char *name, *text; };
static const struct file old_set[] = {{"report.json", "old json"}, {"report.h5", "old h5"},
                                      {"periods.csv", "old periods"},
                                      {"sessions.h5", "old sessions"}};
static const struct file new_set[] = {{"report.json", "new json"}, {"report.h5", "new h5"},
                                      {"periods.csv", "new periods, day"}};
static const struct file users[] = {{"notes.txt", "mine"}, {"mine/x.txt", "mine too"},
                                    {"keep.csv/y", "a directory, not an output"}};
static const char *const commit_outputs[] = {"report.json", "report.h5", "*.csv",
                                             "sessions.h5", NULL};
#define COUNT(a) ((int)(sizeof a / sizeof *a))

static void put(const char *dir, const struct file *f, int n)
{
    char p[512];
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, f[i].name);
        char *slash = strrchr(p, '/');
        *slash = '\0';
        mkdir(p, 0755);
        *slash = '/';
        FILE *o = fopen(p, "w");
        assert_non_null(o);
        fputs(f[i].text, o);
        fclose(o);
    }
}

/* 1 when dir/name holds text. */
static int holds(const char *dir, const char *name, const char *text)
{
    char p[512], got[128] = "";
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    return strcmp(got, text) == 0;
}

/* 1 when dir's output files are exactly set (names and contents). */
static int is_set(const char *dir, const struct file *set, int n)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int outputs = 0, ok = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (fs_is_output(e->d_name, commit_outputs) && lstat(p, &st) == 0 && !S_ISDIR(st.st_mode))
            outputs++;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        ok &= holds(dir, set[i].name, set[i].text);
    return ok && outputs == n;
}

/* The entries of root other than the output and its lock: the temporary
 * and aside directories a commit leaves; into what (for messages). */
static int leftovers(const char *root_k, char *what, size_t size)
{
    DIR *d = opendir(root_k);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    what[0] = '\0';
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "out") &&
            strcmp(e->d_name, "out.lock")) {
            n++;
            snprintf(what + strlen(what), size - strlen(what), " %s", e->d_name);
        }
    closedir(d);
    return n;
}

/* 1 when each of the user's files is in out or in the aside directory. */
static int users_somewhere(const char *root_k, const char *out)
{
    for (int i = 0; i < COUNT(users); i++) {
        int found = holds(out, users[i].name, users[i].text);
        DIR *d = opendir(root_k);
        struct dirent *e;
        while (!found && (e = readdir(d))) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", root_k, e->d_name);
            found = strncmp(e->d_name, "out.old.", 8) == 0 && holds(p, users[i].name, users[i].text);
        }
        closedir(d);
        if (!found)
            return 0;
    }
    return 1;
}

static int kill_at, steps;

static int kill_hook(const char *what)
{
    (void)what;
    if (++steps == kill_at)
        raise(SIGKILL);
    return 0;
}

/* A job that writes the new set into out (under the lock, --force),
 * killed at its commit's step k (0: not killed); what the child's end
 * was: 1 killed, 0 ended. */
static int job(const char *out, int k, int commit_only)
{
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        cs_err err = {0};
        char tmp[600];
        int fd = -1;
        if (!commit_only)
            kill_at = k, steps = 0, fs_commit_hook = kill_hook;
        if (fs_lock_output(out, &fd, &err) != CS_OK)
            _exit(10);
        if (commit_only) {
            if (fs_begin_output(out, commit_outputs, 1, tmp, sizeof tmp, &err) != CS_OK)
                _exit(11);
            put(tmp, new_set, COUNT(new_set));
            kill_at = k, steps = 0, fs_commit_hook = kill_hook;
            if (fs_commit_output(tmp, out, commit_outputs, &err) != CS_OK) {
                fprintf(stderr, "commit: %s\n", err.msg);
                _exit(12);
            }
        }
        fs_unlock_output(out, fd);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(c, &st, 0), c);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
        return 1;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    return 0;
}

/* A commit killed at each of its steps in turn, over an earlier output
 * (existing) or none: out is the earlier output whole or the new one
 * whole (or, between the two renames, missing with the earlier one
 * aside), the user's files are in out or aside; the next jobs, each
 * killed at each step of the recovery their lock makes in turn, keep it
 * so and give the user's files back; then the next commit leaves the new
 * output, the user's files and nothing beside. */
static void commit_kills(int existing)
{
    int k = 1;
    for (;; k++) {
        char dir[256], out[300], what[512];
        snprintf(dir, sizeof dir, "%s/k%d", root, k);
        snprintf(out, sizeof out, "%s/out", dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        if (existing) {
            assert_int_equal(mkdir(out, 0755), 0);
            put(out, old_set, COUNT(old_set));
            put(out, users, COUNT(users));
        }
        int killed = job(out, k, 1), missing = access(out, F_OK) != 0;
        int was_old = existing ? is_set(out, old_set, COUNT(old_set)) : missing;
        int was_new = is_set(out, new_set, COUNT(new_set));
        char aside[320];
        snprintf(aside, sizeof aside, "%s.old.", out);
        if (!(was_old || was_new || (existing && missing)))
            fail_msg("commit killed at step %d: neither output whole", k);
        if (existing && !users_somewhere(dir, out))
            fail_msg("commit killed at step %d: a user's file lost", k);
        if (!killed) {
            assert_true(was_new);
            assert_int_equal(leftovers(dir, what, sizeof what), 0);
            break;
        }
        /* the recovery, killed at each of its steps in turn */
        for (int j = 1; job(out, j, 0); j++) {
            int o = existing ? is_set(out, old_set, COUNT(old_set)) : access(out, F_OK) != 0;
            int n = is_set(out, new_set, COUNT(new_set));
            if (!(o || n || (existing && access(out, F_OK) != 0)))
                fail_msg("commit killed at %d, recovery at %d: neither output whole", k, j);
            if ((was_new && !n) || (existing && !users_somewhere(dir, out)))
                fail_msg("commit killed at %d, recovery at %d: went back or lost a file", k, j);
        }
        /* recovered: whole, the user's files back, no aside, no marks */
        if (existing) {
            assert_true(is_set(out, was_new ? new_set : old_set,
                               was_new ? COUNT(new_set) : COUNT(old_set)));
            for (int i = 0; i < COUNT(users); i++)
                assert_true(holds(out, users[i].name, users[i].text));
        } else {
            assert_true(was_new ? is_set(out, new_set, COUNT(new_set)) : access(out, F_OK) != 0);
        }
        char p[400];
        snprintf(p, sizeof p, "%s/" FS_ASIDE_MARK, out);
        assert_int_equal(access(p, F_OK), -1);
        snprintf(p, sizeof p, "%s/" FS_TMP_MARK, out);
        assert_int_equal(access(p, F_OK), -1);
        /* the next commit: the new output and nothing beside */
        assert_int_equal(job(out, 0, 1), 0);
        assert_true(is_set(out, new_set, COUNT(new_set)));
        for (int i = 0; existing && i < COUNT(users); i++)
            assert_true(holds(out, users[i].name, users[i].text));
        if (leftovers(dir, what, sizeof what) != 0)
            fail_msg("commit killed at %d: left beside the output:%s", k, what);
        snprintf(p, sizeof p, "%s/" FS_TMP_MARK, out);
        assert_int_equal(access(p, F_OK), -1);
    }
    /* every path through the commit was cut: the swap has its steps */
    assert_true(k >= (existing ? 8 : 3));
    fs_commit_hook = NULL;
}

static void test_commit_killed_over_output(void **state)
{
    (void)state;
    commit_kills(1);
}

static void test_commit_killed_first_output(void **state)
{
    (void)state;
    commit_kills(0);
}

/* An aside mark as write_aside_mark writes one. */
static void aside_mark(const char *dir, const char *holder, const char *tmp, const char *aside)
{
    char p[400];
    snprintf(p, sizeof p, "%s/" FS_ASIDE_MARK, dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "%snew %s\nold %s\noutput report.json\noutput *.csv\nend\n", holder, tmp, aside);
    fclose(f);
}

/* A directory of the aside's name whose mark names another directory (an
 * output of that name, "reports.old.2023", whose own commit a kill left
 * marked) is no aside of reports: recovery leaves it as it is, with
 * reports missing or not. It once became reports, or gave its files to
 * it and lost its outputs. */
static void test_recover_leaves_foreign_aside(void **state)
{
    (void)state;
    for (int with_final = 0; with_final < 2; with_final++) {
        char dir[256], final[300], other[300], p[700];
        snprintf(dir, sizeof dir, "%s/f%d", root, with_final);
        snprintf(final, sizeof final, "%s/reports", dir);
        snprintf(other, sizeof other, "%s/reports.old.2023", dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(mkdir(other, 0755), 0);
        snprintf(p, sizeof p, "%s.tmp.77", other);
        char aside[400];
        snprintf(aside, sizeof aside, "%s.old.77", other);
        aside_mark(other, "pid 77 on elsewhere\n", p, aside);
        put(other, old_set, 1);
        put(other, users, 1);
        if (with_final) {
            assert_int_equal(mkdir(final, 0755), 0);
            put(final, new_set, COUNT(new_set));
        }
        cs_err err = {0};
        assert_int_equal(fs_recover_output(final, &err), CS_OK);
        assert_int_equal(access(final, F_OK), with_final ? 0 : -1);
        assert_true(holds(other, old_set[0].name, old_set[0].text));
        assert_true(holds(other, users[0].name, users[0].text));
        snprintf(p, sizeof p, "%s/" FS_ASIDE_MARK, other);
        assert_int_equal(access(p, F_OK), 0);
        if (with_final) {
            assert_true(is_set(final, new_set, COUNT(new_set)));
            assert_false(holds(final, users[0].name, users[0].text));
        }
    }
}

/* A commit killed between its two renames, then the output made afresh
 * and empty (a job script's mkdir -p): the commit is undone into it, not
 * finished (which took the earlier outputs and left the new ones to the
 * sweep). */
static void test_recover_undo_into_empty_output(void **state)
{
    (void)state;
    char dir[256], out[300], what[512];
    snprintf(dir, sizeof dir, "%s/e", root);
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(mkdir(out, 0755), 0);
    put(out, old_set, COUNT(old_set));
    put(out, users, COUNT(users));
    assert_int_equal(job(out, 4, 1), 1);   /* 4: the temporary directory's rename */
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(job(out, 0, 0), 0);
    assert_true(is_set(out, old_set, COUNT(old_set)));
    for (int i = 0; i < COUNT(users); i++)
        assert_true(holds(out, users[i].name, users[i].text));
    assert_int_equal(job(out, 0, 1), 0);
    assert_true(is_set(out, new_set, COUNT(new_set)));
    if (leftovers(dir, what, sizeof what) != 0)
        fail_msg("left beside the output:%s", what);
    fs_commit_hook = NULL;
}

/* Asides of earlier commits that could not be removed (on NFS, .nfsXXXX
 * files of earlier outputs still open), then a commit killed between its
 * two renames: its own aside goes back, whichever readdir finds first. A
 * stale one became the output, and the real one's outputs were removed
 * as a finished commit's. */
static void test_recover_picks_its_aside(void **state)
{
    (void)state;
    char dir[256], out[300], p[700], host[128] = "";
    gethostname(host, sizeof host - 1);
    snprintf(dir, sizeof dir, "%s/s", root);
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(mkdir(out, 0755), 0);
    put(out, old_set, COUNT(old_set));
    put(out, users, COUNT(users));
    assert_int_equal(job(out, 4, 1), 1);
    for (int i = 1; i <= 4; i++) {
        char stale[400], tmp[400], holder[200];
        snprintf(stale, sizeof stale, "%s.old.%d", out, i);
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, i);
        snprintf(holder, sizeof holder, "pid %d on %s\n", i, host);
        assert_int_equal(mkdir(stale, 0755), 0);
        aside_mark(stale, holder, tmp, stale);
        snprintf(p, sizeof p, "%s/.nfs00000000000%d00000001", stale, i);
        touch(p);
    }
    assert_int_equal(job(out, 0, 0), 0);
    assert_true(is_set(out, old_set, COUNT(old_set)));
    for (int i = 0; i < COUNT(users); i++)
        assert_true(holds(out, users[i].name, users[i].text));
    fs_commit_hook = NULL;
}

/* A job that writes the new set into out (no lock: the commit alone),
 * in a child (as uid and gid `as` when not -1); the commit's code. */
static int commit_job(const char *out, long as)
{
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        cs_err err = {0};
        char tmp[600];
        if (as >= 0 && (setgid((gid_t)as) != 0 || setuid((uid_t)as) != 0))
            _exit(20);
        if (fs_begin_output(out, commit_outputs, 1, tmp, sizeof tmp, &err) != CS_OK)
            _exit(21);
        put(tmp, new_set, COUNT(new_set));
        int rc = fs_commit_output(tmp, out, commit_outputs, &err);
        if (rc != CS_OK)
            fprintf(stderr, "commit: %s\n", err.msg);
        _exit(rc == CS_OK ? 0 : 22);
    }
    int st = 0;
    assert_int_equal(waitpid(c, &st, 0), c);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* An output directory of another user's (mode 777) in a sticky parent
 * (1777), written as nobody: neither it nor the new one can be renamed
 * there, and the files move into it one by one, as the commit of old
 * did. It failed at the very end with EPERM. Needs root, to be nobody. */
static void test_commit_sticky_parent(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char dir[256], out[300];
    snprintf(dir, sizeof dir, "%s/sticky", root);
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(chmod(root, 0755), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(chmod(dir, 01777), 0);
    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(chmod(out, 0777), 0);
    put(out, old_set, COUNT(old_set));
    put(out, users, 1);
    assert_int_equal(commit_job(out, 65534), 0);
    assert_true(is_set(out, new_set, COUNT(new_set)));
    assert_true(holds(out, users[0].name, users[0].text));
    char what[512];
    assert_int_equal(leftovers(dir, what, sizeof what), 0);
}

/* An existing empty output directory (mkdir -m 2770, a group's): the new
 * one keeps its mode and group, as over a non-empty one. The rename over
 * it gave the temporary directory's 755 and the job's group. */
static void test_commit_empty_output_mode(void **state)
{
    (void)state;
    char out[300];
    snprintf(out, sizeof out, "%s/shared", root);
    assert_int_equal(mkdir(out, 0700), 0);
    gid_t g = getegid() == 0 ? 4242 : getegid();
    assert_int_equal(chown(out, (uid_t)-1, g), 0);
    assert_int_equal(chmod(out, 02770), 0);
    assert_int_equal(commit_job(out, -1), 0);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_true(is_set(out, new_set, COUNT(new_set)));
    assert_int_equal(st.st_mode & 07777, 02770);
    assert_int_equal(st.st_gid, g);
}

static int failed_at, fail_with;

/* Fails the failed_at-th rename of the temporary directory with fail_with. */
static int fail_hook(const char *what)
{
    if (strcmp(what, "rename the temporary directory to the output") == 0 && --failed_at == 0)
        return fail_with;
    return 0;
}

/* A rename the file system refuses (EPERM, EACCES) as the temporary
 * directory takes the output's name, first try or after the output moved
 * aside: the output back, then the files move one by one. It failed. */
static void test_commit_rename_refused(void **state)
{
    (void)state;
    for (int at = 1; at <= 2; at++) {
        char dir[256], out[300], what[512];
        snprintf(dir, sizeof dir, "%s/r%d", root, at);
        snprintf(out, sizeof out, "%s/out", dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(mkdir(out, 0755), 0);
        put(out, old_set, COUNT(old_set));
        put(out, users, COUNT(users));
        failed_at = at, fail_with = at == 1 ? EPERM : EACCES, fs_commit_hook = fail_hook;
        int rc = commit_job(out, -1);
        fs_commit_hook = NULL;
        assert_int_equal(rc, 0);
        assert_true(is_set(out, new_set, COUNT(new_set)));
        for (int i = 0; i < COUNT(users); i++)
            assert_true(holds(out, users[i].name, users[i].text));
        if (leftovers(dir, what, sizeof what) != 0)
            fail_msg("refused at %d: left beside the output:%s", at, what);
        char p[400];
        snprintf(p, sizeof p, "%s/" FS_ASIDE_MARK, out);
        assert_int_equal(access(p, F_OK), -1);
    }
}

/* A job whose working directory is the output (cd OUT && clickseg run -o
 * $PWD --state week.state): after the commit its relative paths still
 * lead into the output, where its --state file waits, staged, to be
 * renamed. The swap left it in the removed aside, and the rename failed
 * (ENOENT) after the outputs were published. */
static void test_commit_in_working_directory(void **state)
{
    (void)state;
    char out[300], p[400];
    snprintf(out, sizeof out, "%s/cwd", root);
    assert_int_equal(mkdir(out, 0755), 0);
    put(out, old_set, COUNT(old_set));
    put(out, users, COUNT(users));
    snprintf(p, sizeof p, "%s/week.state.tmp.1", out);
    touch(p);
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        cs_err err = {0};
        char tmp[600];
        if (chdir(out) != 0 ||
            fs_begin_output(out, commit_outputs, 1, tmp, sizeof tmp, &err) != CS_OK)
            _exit(21);
        put(tmp, new_set, COUNT(new_set));
        if (fs_commit_output(tmp, out, commit_outputs, &err) != CS_OK)
            _exit(22);
        _exit(rename("week.state.tmp.1", "week.state") == 0 ? 0 : 23);
    }
    int st = 0;
    assert_int_equal(waitpid(c, &st, 0), c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(is_set(out, new_set, COUNT(new_set)));
    snprintf(p, sizeof p, "%s/week.state", out);
    assert_int_equal(access(p, F_OK), 0);
    for (int i = 0; i < COUNT(users); i++)
        assert_true(holds(out, users[i].name, users[i].text));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_exclusive_under_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_sweeps_killed_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_killed_over_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_killed_first_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_leaves_foreign_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_undo_into_empty_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_picks_its_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_sticky_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_empty_output_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_rename_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_in_working_directory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
