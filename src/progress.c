/* progress.c — progress lines of a run, and the ticker of import's steps
 * (see progress.h). */
#include "clickseg/progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clickseg/numfmt.h"
#include "clickseg/timer.h"

int progress_mode_from_name(const char *name)
{
    return strcmp(name, "auto") == 0 ? PROGRESS_AUTO : strcmp(name, "live") == 0 ? PROGRESS_LIVE
         : strcmp(name, "lines") == 0 ? PROGRESS_LINES : -1;
}

/* A terminal watches: stderr is one, or we run under mpirun and mpirun's
 * own stderr is one. mpirun hands its ranks a pipe for stderr (and a pty
 * for stdout, whatever its own stdout is), so the rank looks at its parent
 * (mpirun or its daemon; Linux /proc). In a batch job mpirun's stderr is
 * the job's log file: plain lines. */
int progress_watched_by_terminal(FILE *out)
{
    if (isatty(fileno(out)))
        return 1;
    if (out != stderr || !getenv("OMPI_COMM_WORLD_SIZE"))
        return 0;
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/%d/fd/2", (int)getppid());
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0;
}

/* Writes line (len bytes) as the live line, rewritten in place (blanks
 * cover the rest of a longer one before it), or as a plain line after
 * ending a live one. */
static void put_line(FILE *out, int live, size_t *live_len, int *pending, const char *line,
                     int len)
{
    if (live) {
        size_t pad = *live_len > (size_t)len ? *live_len - (size_t)len : 0;
        fprintf(out, "\r%s%*s", line, (int)pad, "");
        *live_len = (size_t)len;
        *pending = 1;
    } else {
        if (*pending) {
            fputc('\n', out);
            *pending = 0;
            *live_len = 0;
        }
        fprintf(out, "%s\n", line);
    }
    fflush(out);
}

/* Ends a live line, if one is on screen, so what follows starts afresh. */
static void end_line(FILE *out, size_t *live_len, int *pending)
{
    if (*pending) {
        fputc('\n', out);
        fflush(out);
        *pending = 0;
        *live_len = 0;
    }
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

void progress_init(cs_progress *p, const cs_comm *c, FILE *out, int mode, int quiet,
                   int verbose, const cs_plan *plan, double t_start)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->rank = c->rank;
    p->verbose = verbose;
    p->on = !quiet && (plan->nwindows > 1 || verbose);
    p->live = !verbose && (mode == PROGRESS_LIVE || (mode == PROGRESS_AUTO && progress_watched_by_terminal(out)));
    p->nwindows = plan->nwindows;
    p->total_rows = plan->total_rows;
    p->window_rows = plan->window_rows;
    p->start_row = plan->start_row;
    p->t_start = t_start;
    p->t_loop = timer_now();
    p->last = -1e30;
    if (!p->on || p->rank != 0)
        return;
    char a[NUMFMT_MAX], b[NUMFMT_MAX], w[NUMFMT_MAX], d[NUMFMT_MAX], done[NUMFMT_MAX + 48] = "";
    if (plan->start_row)
        snprintf(done, sizeof done, " (%s done before this start)",
                 fmt_uint(d, sizeof d, plan->start_row));
    fprintf(out, "clickseg run: %d file%s, %s events%s in %s window%s of up to %s on %d rank%s\n",
            plan->nfiles, plan->nfiles == 1 ? "" : "s", fmt_uint(a, sizeof a, plan->total_rows),
            done, fmt_uint(w, sizeof w, plan->nwindows), plan->nwindows == 1 ? "" : "s",
            fmt_uint(b, sizeof b, plan->window_rows), c->size, c->size == 1 ? "" : "s");
    fflush(out);
}

void progress_report(cs_progress *p, uint64_t w, double rss, double now)
{
    if (!p->on || p->rank != 0)
        return;
    int last = w + 1 >= p->nwindows;
    double every = p->live ? CS_PROGRESS_LIVE_EVERY : CS_PROGRESS_LINES_EVERY;
    if (!(w == 0 || last || p->verbose || now - p->last >= every))
        return;
    p->last = now;
    uint64_t start = p->start_row < p->total_rows ? p->start_row : p->total_rows;
    uint64_t here = (w + 1) * p->window_rows;
    if (here > p->total_rows - start)
        here = p->total_rows - start;
    uint64_t done = start + here;
    /* The rate of this start alone: the rows before a resume took no time
     * in it, and would make the ETA too short. */
    double el = now - p->t_loop, rate = el > 0 ? (double)here / el : 0;
    double eta = rate > 0 ? (double)(p->total_rows - done) / rate : 0;
    char line[512], a[NUMFMT_MAX], b[NUMFMT_MAX], r[NUMFMT_MAX], e1[NUMFMT_MAX], e2[NUMFMT_MAX],
        m[NUMFMT_MAX];
    int len = snprintf(line, sizeof line, "clickseg run: window %llu/%llu (%.0f%%), %s/%s events, "
                       "%s events/s, elapsed %s, ETA %s, peak RSS %s/rank",
                       (unsigned long long)(w + 1), (unsigned long long)p->nwindows,
                       p->total_rows ? 100.0 * (double)done / (double)p->total_rows : 100.0,
                       fmt_uint(a, sizeof a, done), fmt_uint(b, sizeof b, p->total_rows),
                       fmt_si(r, sizeof r, rate), fmt_duration(e1, sizeof e1, now - p->t_start),
                       last ? "0 s" : fmt_duration(e2, sizeof e2, eta), fmt_mib(m, sizeof m, rss));
    if (len < 0)
        return;
    put_line(p->out, p->live, &p->live_len, &p->pending, line, len);
    if (p->live && last)
        progress_end(p);
}

int progress_window(cs_progress *p, const cs_comm *c, uint64_t w, uint64_t users,
                    uint64_t carry, cs_err *err)
{
    if (!p->on)
        return CS_OK;
    double mine = peak_rss_mib();
    if (p->verbose) {
        uint64_t start, count;
        char a[NUMFMT_MAX], b[NUMFMT_MAX], u[NUMFMT_MAX], m[NUMFMT_MAX];
        cs_plan pl = {.total_rows = p->total_rows, .window_rows = p->window_rows,
                      .start_row = p->start_row};
        plan_rank_range(&pl, w, c->rank, c->size, &start, &count);
        fprintf(p->out, "clickseg run [rank %d]: window %llu/%llu: %s rows read, %s events "
                "carried, %s users, peak RSS %s\n", c->rank, (unsigned long long)(w + 1),
                (unsigned long long)p->nwindows, fmt_uint(a, sizeof a, count),
                fmt_uint(b, sizeof b, carry), fmt_uint(u, sizeof u, users), fmt_mib(m, sizeof m, mine));
        fflush(p->out);
    }
    int64_t kib = (int64_t)(mine * 1024.0);
    int rc = comm_max_i64(c, &kib, 1, 0, err);
    if (rc == CS_OK)
        progress_report(p, w, (double)kib / 1024.0, timer_now());
    return rc;
}

void progress_end(cs_progress *p)
{
    end_line(p->out, &p->live_len, &p->pending);
}

/* ---- cs_ticker ---- */

void ticker_init(cs_ticker *t, FILE *out, const char *who, int on, int mode, double t_start)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    t->who = who;
    t->on = on;
    t->live = mode == PROGRESS_LIVE || (mode == PROGRESS_AUTO && progress_watched_by_terminal(out));
    t->quiet_s = mode == PROGRESS_AUTO ? CS_TICKER_QUIET : 0;
    t->t_start = t->step_start = t_start;
    t->last = -1e30;
}

void ticker_step(cs_ticker *t, const char *step, double now)
{
    snprintf(t->step, sizeof t->step, "%s", step);
    t->step_start = now;
    t->last = now;
    if (!t->on || now - t->t_start < t->quiet_s)
        return;
    char line[256], e[NUMFMT_MAX];
    int len = snprintf(line, sizeof line, "%s: %s (elapsed %s)", t->who, step,
                       fmt_duration(e, sizeof e, now - t->t_start));
    if (len > 0)
        put_line(t->out, 0, &t->live_len, &t->pending, line, len);
}

void ticker_update(cs_ticker *t, double frac, double now)
{
    double every = t->live ? CS_PROGRESS_LIVE_EVERY : CS_PROGRESS_LINES_EVERY;
    if (!t->on || now - t->t_start < t->quiet_s || now - t->last < every)
        return;
    t->last = now;
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    double took = now - t->step_start;
    char line[256], e1[NUMFMT_MAX], e2[NUMFMT_MAX];
    int len = snprintf(line, sizeof line, "%s: %s: %.0f%% done, elapsed %s, ETA %s", t->who, t->step,
                       100 * frac, fmt_duration(e1, sizeof e1, now - t->t_start),
                       frac > 0 ? fmt_duration(e2, sizeof e2, took * (1 - frac) / frac) : "?");
    if (len > 0)
        put_line(t->out, t->live, &t->live_len, &t->pending, line, len);
}

void ticker_end(cs_ticker *t)
{
    end_line(t->out, &t->live_len, &t->pending);
}
