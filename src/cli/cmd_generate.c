/* cmd_generate.c — `clickseg generate`: a synthetic archive for tests,
 * demos and benchmarks (the model is described in generate.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clickseg/event.h"
#include "clickseg/fslock.h"
#include "clickseg/fsutil.h"
#include "clickseg/generate.h"
#include "clickseg/progress.h"

static void gen_usage(FILE *out)
{
    fprintf(out,
        "usage: mpirun -n N clickseg generate --output DIR [options]\n\n"
        "Writes a realistic, time-ordered synthetic archive (format v1): DIR/events-NNNN.h5\n"
        "and DIR/profiles.h5, with every event's planted session intent in /truth/intent\n"
        "(0 simple_browser, 1 information_collector, 2 immediate_buyer, 3 bot). The archive\n"
        "is identical for any number of ranks; ranks write in parallel.\n\n"
        "options:\n"
        "  -o, --output DIR   directory to write (created; must not hold an archive unless --force)\n"
        "  -n, --events N     exact number of events (default 100000; 10M, 1e8 accepted)\n"
        "  -d, --days D       days of activity (default 7)\n"
        "  -f, --files F      number of event files (default 1; at most 12 x days)\n"
        "  -s, --seed S       random seed (default 1)\n"
        "      --start DATE   first day, YYYY-MM-DD (default 2024-01-01)\n"
        "      --no-profiles  do not write profiles.h5\n"
        "      --force        replace an archive generate wrote in DIR (events-*.h5,\n"
        "                     profiles.h5); another .h5 there is refused even so\n"
        "      --progress MODE  progress on stderr: auto (once generate has taken 5 s: a\n"
        "                     live line on a terminal, plain lines every 5 s in a log),\n"
        "                     live or lines (from the start)\n"
        "  -q, --quiet        no summary line and no progress\n"
        "  -h, --help         this help\n");
}

typedef struct gen_opts {
    cs_gen_params p;
    int force, help, quiet;
    int progress;   /* enum cs_progress_mode */
} gen_opts;

static int gen_parse(int argc, char **argv, gen_opts *o, cs_err *err)
{
    static const struct option lo[] = {
        {"output", required_argument, 0, 'o'}, {"events", required_argument, 0, 'n'},
        {"days", required_argument, 0, 'd'},   {"files", required_argument, 0, 'f'},
        {"seed", required_argument, 0, 's'},   {"start", required_argument, 0, 'S'},
        {"no-profiles", no_argument, 0, 'P'},  {"force", no_argument, 0, 'F'},
        {"quiet", no_argument, 0, 'q'},        {"progress", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->p.events = 100000;
    o->p.days = 7;
    o->p.files = 1;
    o->p.seed = 1;
    o->p.profiles = 1;
    cli_parse_date("--start", "2024-01-01", &o->p.start_ts, err);
    opterr = 0;
    optind = 1;
    int ch, rc = CS_OK;
    long v = 0;
    while (rc == CS_OK && (ch = getopt_long(argc, argv, ":o:n:d:f:s:qh", lo, NULL)) != -1) {
        switch (ch) {
        case 'o':
            rc = cli_copy_path("--output", o->p.outdir, sizeof o->p.outdir, CS_OUTPUT_PATH_MAX,
                               optarg, err);
            fs_trim_slashes(o->p.outdir);
            break;
        case 'n': rc = cli_parse_count("--events", optarg, &o->p.events, err); break;
        case 'd': rc = cli_parse_int("--days", optarg, 1, 36500, &v, err); o->p.days = (int)v; break;
        case 'f': rc = cli_parse_int("--files", optarg, 1, 100000, &v, err); o->p.files = (int)v; break;
        case 's':
            /* parsed as a count (1e6 is a seed too), named as what it is */
            if ((rc = cli_parse_count("--seed", optarg, &o->p.seed, err)) != CS_OK)
                rc = cs_err_set(err, CS_EUSAGE, "--seed: '%s' is not a seed: a whole number "
                                "from 0 to 9e18 (default 1)", optarg);
            break;
        case 'S': rc = cli_parse_date("--start", optarg, &o->p.start_ts, err); break;
        case 'P': o->p.profiles = 0; break;
        case 'F': o->force = 1; break;
        case 'q': o->quiet = 1; break;
        case 'p':
            o->progress = progress_mode_from_name(optarg);
            if (o->progress < 0)
                rc = cs_err_set(err, CS_EUSAGE, "--progress: '%s' is not auto, live or lines", optarg);
            break;
        case 'h': o->help = 1; break;
        default: rc = cli_bad_option(ch, argc, argv, err);
        }
    }
    if (rc == CS_OK && !o->help && optind < argc)
        rc = cs_err_set(err, CS_EUSAGE, "unexpected argument '%s' (see --help)", argv[optind]);
    if (rc == CS_OK && !o->help && !o->p.outdir[0])
        rc = cs_err_set(err, CS_EUSAGE, "--output DIR is required (see --help)");
    if (rc == CS_OK && !o->help && o->p.events == 0)
        rc = cs_err_set(err, CS_EUSAGE, "--events 0: an archive needs at least one event");
    /* The timeline starts an hour before the first midnight and visits run
     * past the last: keep every event within the times an archive holds
     * (1970 to 9999, archive-format.md), or run would reject them. */
    const int64_t day = INT64_C(86400000000);
    int64_t latest = rc == CS_OK ? (CS_TS_MAX - (int64_t)(o->p.days + 1) * day) / day * day : 0;
    if (rc == CS_OK && !o->help && (o->p.start_ts < day || o->p.start_ts > latest)) {
        char last[32];
        cli_format_ts(latest, last, sizeof last);
        last[10] = '\0';   /* the date */
        rc = cs_err_set(err, CS_EUSAGE, "--start: from 1970-01-02 to %s for %d day(s) (an "
                        "archive holds times from 1970 to 9999, and visits run past the last "
                        "day)", last, o->p.days);
    }
    /* (after --days is known good: 0 days would divide by zero) */
    uint64_t per_slot = o->p.days > 0 ? o->p.events / ((uint64_t)o->p.days * 12) + 1 : 0;
    uint64_t days = o->p.events / (12 * CS_GEN_MAX_SLOT_EVENTS) + 1;
    if (rc == CS_OK && per_slot > CS_GEN_MAX_SLOT_EVENTS && days <= 36500)
        rc = cs_err_set(err, CS_EUSAGE, "--events %llu over --days %d: %llu events in each "
                        "2-hour slot, which generate holds in memory, at most %llu: give more "
                        "--days (%llu or more)", (unsigned long long)o->p.events, o->p.days,
                        (unsigned long long)per_slot, (unsigned long long)CS_GEN_MAX_SLOT_EVENTS,
                        (unsigned long long)days);
    else if (rc == CS_OK && per_slot > CS_GEN_MAX_SLOT_EVENTS)
        rc = cs_err_set(err, CS_EUSAGE, "--events %llu: more than %llu events even over the "
                        "36500 days --days allows (generate holds a 2-hour slot in memory)",
                        (unsigned long long)o->p.events,
                        (unsigned long long)(36500 * 12 * CS_GEN_MAX_SLOT_EVENTS));
    if (rc == CS_OK && o->p.files > o->p.days * 12)
        rc = cs_err_set(err, CS_EUSAGE, "--files %d: at most 12 files per day (%d for %d days)",
                        o->p.files, o->p.days * 12, o->p.days);
    return rc;
}

int cmd_generate(const cs_comm *c, int argc, char **argv)
{
    cs_err err;
    cs_err_clear(&err);
    gen_opts o;
    gen_parse(argc, argv, &o, &err);
    if (o.help && err.code == CS_OK) {
        if (c->rank == 0)
            gen_usage(stdout);
        return 0;
    }
    /* What generate writes, and with --force replaces. Any other .h5 file
     * would be read by run as part of the archive, yet is not ours to
     * remove: refused, forced or not. */
    static const char *const outputs[] = {"events-*.h5", "profiles.h5", NULL};
    char tmp[1200] = "", other[256];
    if (err.code == CS_OK && c->rank == 0 &&
        fs_first_other(o.p.outdir, "*.h5", outputs, other, sizeof other))
        cs_err_set(&err, CS_EIO, "%s/%s: not a file of a generated archive, but run would read "
                   "it with one: choose another output directory or move it away", o.p.outdir,
                   other);
    /* The lock first, as run, merge and import take it: two generates into
     * one directory would replace each other's files, and fs_begin_output
     * removes the temporary directories it finds as killed jobs'. */
    int lock_fd = -1;
    if (err.code == CS_OK && c->rank == 0 &&
        fs_lock_output(o.p.outdir, &lock_fd, &err) == CS_OK)
        fs_begin_output(o.p.outdir, outputs, o.force, tmp, sizeof tmp, &err);
    if (comm_agree(c, &err) != CS_OK) {
        if (c->rank == 0)
            fs_unlock_output(o.p.outdir, lock_fd);
        return cli_fail(c, "generate", &err);
    }
    comm_bcast(c, tmp, sizeof tmp, &err);
    cs_gen_params p = o.p;
    if (snprintf(p.outdir, sizeof p.outdir, "%s", tmp) >= (int)sizeof p.outdir)
        cs_err_set(&err, CS_EUSAGE, "--output: '%s' is too long", o.p.outdir);
    double t0 = comm_wtime();
    cs_ticker tick;
    ticker_init(&tick, stderr, "clickseg generate", c->rank == 0 && !o.quiet, o.progress, t0);
    cs_gen_summary s;
    if (err.code == CS_OK)   /* the same on every rank: tmp was broadcast */
        gen_archive(c, &p, c->rank == 0 ? &tick : NULL, &s, &err);
    if (err.code == CS_OK && c->rank == 0)
        fs_commit_output(tmp, o.p.outdir, outputs, &err);
    int agreed = comm_agree(c, &err);
    if (agreed != CS_OK && c->rank == 0)
        fs_abandon_output(tmp);
    if (c->rank == 0)
        fs_unlock_output(o.p.outdir, lock_fd);
    if (agreed != CS_OK)
        return cli_fail(c, "generate", &err);
    if (c->rank == 0 && !o.quiet) {
        double dt = comm_wtime() - t0;
        uint64_t ns = s.sessions[0] + s.sessions[1] + s.sessions[2] + s.sessions[3];
        printf("generated %s: %llu events in %d file(s), %llu sessions (simple_browser %llu, "
               "information_collector %llu, immediate_buyer %llu, bot %llu), %llu users, "
               "%llu profiles, %.2f s (%.1f M events/s, %d rank%s)\n",
               o.p.outdir, (unsigned long long)s.events, o.p.files, (unsigned long long)ns,
               (unsigned long long)s.sessions[0], (unsigned long long)s.sessions[1],
               (unsigned long long)s.sessions[2], (unsigned long long)s.sessions[3],
               (unsigned long long)s.users, (unsigned long long)s.profiles, dt,
               dt > 0 ? (double)s.events / dt / 1e6 : 0.0, c->size, c->size == 1 ? "" : "s");
    }
    return 0;
}
