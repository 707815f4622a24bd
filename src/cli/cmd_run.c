/* cmd_run.c — `clickseg run`: flags, configuration (rank 0 loads and checks,
 * every rank gets a copy), then the job (run.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clickseg/config.h"
#include "clickseg/fsutil.h"
#include "clickseg/progress.h"
#include "clickseg/run.h"

static void run_usage(FILE *out)
{
    fprintf(out,
        "usage: mpirun -n N clickseg run [-c job.cfg] [--input PATH ...] [--output DIR]\n"
        "                                [--sessions] [--force] [--quiet|--verbose]\n"
        "                                [--progress auto|live|lines] [--set KEY=VALUE ...]\n"
        "                                [--window-events N] [--resume[=auto]] [--state FILE]\n\n"
        "Reads a clickstream archive (HDF5, format v1), cuts each user's events into\n"
        "sessions, labels every session with the segment rules (simple_browser,\n"
        "information_collector, immediate_buyer, bot by default) and writes the segment\n"
        "report: report.json, report.h5, report.html, totals/segments/periods CSV,\n"
        "the targets (targets, prospects, tiers, rfm_segments, profiles CSV),\n"
        "customers.h5 and, with --sessions, sessions.h5. Flags override the config file;\n"
        "with no config the shipped defaults apply (configs/default.cfg lists every key).\n\n"
        "options:\n"
        "  -c, --config FILE     libconfig job file\n"
        "  -i, --input PATH      archive file, directory (every .h5 inside) or glob; repeatable;\n"
        "                        replaces the config's `input`; paths after the options\n"
        "                        are inputs too (--input logs/*.h5 as the shell expands it)\n"
        "  -o, --output DIR      output directory (config output.dir)\n"
        "      --sessions        also write sessions.h5 (config output.sessions)\n"
        "      --set KEY=VALUE   override one config key, e.g. --set session.gap=600\n"
        "      --window-events N rows per rank per window (default, or 0: from memory_per_rank)\n"
        "      --progress MODE   progress on stderr: auto (a live line on a terminal, plain\n"
        "                        lines in a log file), live, or lines\n"
        "      --force           overwrite existing outputs in DIR, removing the earlier\n"
        "                        ones this run does not write (and start over when\n"
        "                        checkpoint.dir holds an unfinished run)\n"
        "      --resume          continue from the checkpoint in checkpoint.dir (same config,\n"
        "                        inputs and --sessions; any number of ranks)\n"
        "      --resume=auto     the same when there is a checkpoint, else start\n"
        "      --state FILE      load customers and open sessions from FILE (when it exists)\n"
        "                        and save them there at the end: a chain of runs over\n"
        "                        successive inputs equals one run over all of them\n"
        "  -q, --quiet           print nothing but errors\n"
        "  -v, --verbose         progress from every rank at every window (lines prefixed\n"
        "                        [rank R]), per-phase timings and memory at the end\n"
        "  -h, --help            this help\n\n"
        "SIGTERM or SIGUSR1 (kill -USR1 to mpirun, Slurm's --signal) finishes the current\n"
        "window, writes a checkpoint and exits with status 7; a second signal, 2 s or more\n"
        "later, exits at once.\n"
        "checkpoint.every / checkpoint.interval also checkpoint periodically (docs/checkpoint.md).\n\n"
        "Exit status: 0 ok, 2 usage, 3 config, 4 input data (also more rejected rows than\n"
        "max_reject_share, or late rows than max_late_share), 5 I/O or output exists,\n"
        "6 out of memory, 7 stopped by a signal (checkpoint written), 1 internal error.\n"
        "Errors are reported once, by rank 0.\n");
}

typedef struct run_args {
    const char *config;
    const char *inputs[CS_MAX_INPUTS];
    int ninputs;
    const char *output;
    const char *sets[CLI_MAX_SETS];
    int nsets;
    int sessions, help;
    cs_run_opts o;
} run_args;

static int run_parse(int argc, char **argv, run_args *a, cs_err *err)
{
    static const struct option lo[] = {
        {"config", required_argument, 0, 'c'}, {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'}, {"sessions", no_argument, 0, 'S'},
        {"set", required_argument, 0, 's'},    {"window-events", required_argument, 0, 'W'},
        {"force", no_argument, 0, 'F'},        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},      {"help", no_argument, 0, 'h'},
        {"progress", required_argument, 0, 'P'}, 
        {"resume", optional_argument, 0, 'R'}, {"state", required_argument, 0, 'T'},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    opterr = 0;
    optind = 1;
    int ch, rc = CS_OK;
    while (rc == CS_OK && (ch = getopt_long(argc, argv, ":c:i:o:qvh", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': a->config = optarg; break;
        case 'i':
            if (a->ninputs == CS_MAX_INPUTS)
                rc = cs_err_set(err, CS_EUSAGE, "--input: at most %d inputs (use a directory or glob)",
                                CS_MAX_INPUTS);
            else
                a->inputs[a->ninputs++] = optarg;
            break;
        case 'o': a->output = optarg; break;
        case 'S': a->sessions = 1; break;
        case 's': rc = cli_add_set(a->sets, &a->nsets, optarg, err); break;
        case 'W': rc = cli_parse_count("--window-events", optarg, &a->o.window_rows_per_rank, err); break;
        case 'F': a->o.force = 1; break;
        case 'q': a->o.quiet = 1; break;
        case 'v': a->o.verbose = 1; break;
        case 'P':
            a->o.progress = progress_mode_from_name(optarg);
            if (a->o.progress < 0)
                rc = cs_err_set(err, CS_EUSAGE, "--progress: '%s' is not auto, live or lines", optarg);
            break;
        case 'h': a->help = 1; break;
        case 'R':
            if (optarg && strcmp(optarg, "auto") != 0)
                rc = cs_err_set(err, CS_EUSAGE, "--resume=%s: only --resume or --resume=auto",
                                optarg);
            a->o.resume = optarg ? CS_RESUME_AUTO : CS_RESUME_YES;
            break;
        case 'T':
            if (!*optarg)
                rc = cs_err_set(err, CS_EUSAGE, "--state: expected a file name");
            else
                rc = cli_copy_path("--state", a->o.state_path, sizeof a->o.state_path,
                                   CS_OUTPUT_PATH_MAX, optarg, err);
            break;
        default: rc = cli_bad_option(ch, argc, argv, err);
        }
    }
    /* --input with a glob the shell expanded leaves every file but the
     * first as an operand. They are inputs, as they would be to import. */
    for (; rc == CS_OK && optind < argc; optind++) {
        if (a->ninputs == CS_MAX_INPUTS)
            rc = cs_err_set(err, CS_EUSAGE, "--input: at most %d inputs (use a directory, or "
                            "quote the glob: --input 'logs/*.h5')", CS_MAX_INPUTS);
        else
            a->inputs[a->ninputs++] = argv[optind];
    }
    if (rc == CS_OK && a->o.quiet && a->o.verbose)
        rc = cs_err_set(err, CS_EUSAGE, "--quiet and --verbose contradict each other");
    return rc;
}

/* Rank 0: defaults, then the file, then the flags; then cross-checks. */
static int build_config(const run_args *a, cs_config *cfg, cs_err *err)
{
    int rc = cli_load_config(a->config, a->sets, a->nsets, cfg, err);
    if (rc == CS_OK && a->ninputs) {
        cfg->ninputs = a->ninputs;
        for (int i = 0; rc == CS_OK && i < a->ninputs; i++)
            rc = cli_copy_path("--input", cfg->inputs[i], sizeof cfg->inputs[i],
                               sizeof cfg->inputs[i], a->inputs[i], err);
    }
    if (rc == CS_OK && a->output)
        rc = cli_copy_path("--output", cfg->output_dir, sizeof cfg->output_dir,
                           CS_OUTPUT_PATH_MAX, a->output, err);
    if (rc == CS_OK && a->sessions)
        cfg->output_sessions = 1;
    fs_trim_slashes(cfg->output_dir);
    fs_trim_slashes(cfg->checkpoint_dir);
    if (rc == CS_OK)
        rc = config_validate(cfg, err);
    return rc;
}

int cmd_run(const cs_comm *c, int argc, char **argv)
{
    cs_err err;
    cs_err_clear(&err);
    run_args a;
    run_parse(argc, argv, &a, &err);
    if (a.help && err.code == CS_OK) {
        if (c->rank == 0)
            run_usage(stdout);
        return 0;
    }
    static cs_config cfg;   /* large (paths, rules): keep it off the stack */
    if (err.code == CS_OK && c->rank == 0)
        build_config(&a, &cfg, &err);
    if (comm_agree(c, &err) != CS_OK || comm_bcast(c, &cfg, sizeof cfg, &err) != CS_OK)
        return cli_fail(c, "run", &err);
    size_t used = 0;
    for (int i = 0; i < cfg.ninputs; i++)
        used += (size_t)snprintf(a.o.inputs_desc + used, used < sizeof a.o.inputs_desc ?
                                 sizeof a.o.inputs_desc - used : 0, "%s%s", i ? "," : "",
                                 cfg.inputs[i]);
    if (run_job(c, &cfg, &a.o, &err) != CS_OK) {
        if (err.code == CS_EINTR) {   /* a requested stop, not an error */
            if (c->rank == 0)
                fprintf(stderr, "clickseg run: %s\n", err.msg);
            return cs_exit_status(CS_EINTR);
        }
        return cli_fail(c, "run", &err);
    }
    return 0;
}
