/* cmd_import.c — `clickseg import`: flags, configuration (rank 0 loads and
 * checks, every rank gets a copy), then the import (import.h). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clickseg/config.h"
#include "clickseg/import.h"
#include "clickseg/importer.h"
#include "clickseg/progress.h"

static void import_usage(FILE *out)
{
    fprintf(out,
        "usage: mpirun -n N clickseg import --format FORMAT INPUT... --output DIR [-c cfg]\n"
        "                                   [--set KEY=VALUE ...] [--force] [--progress MODE] [-q]\n\n"
        "Reads clickstream exports (CSV, TSV, JSON lines; plain or gzip) into an archive in\n"
        "format v1: DIR/events-<day|week|month>.h5 in time order, dictionaries.h5 (the text\n"
        "of ids that were not numbers), rejects.csv (every rejected row: file, line, reason,\n"
        "detail, the raw line) and import.json (counts by reason, files, timings). All ranks\n"
        "parse byte ranges of the inputs (gzip files whole, one rank each) and the events\n"
        "are sorted into one time order across ranks. Nothing appears under DIR unless the\n"
        "import completes; when more than import.max_reject_share of the rows are rejected,\n"
        "DIR gets only rejects.csv and import.json and the exit status is 4.\n\n"
        "formats (the mapping onto event types: docs/import.md):\n");
    importer_help(out);
    fprintf(out,
        "\noptions:\n"
        "  -f, --format NAME     input format (config import.format)\n"
        "  -o, --output DIR      archive directory to write (created)\n"
        "  -c, --config FILE     libconfig file (import.* keys; `clickseg config --keys`)\n"
        "      --set KEY=VALUE   override one config key, e.g. --set import.split=month\n"
        "      --force           replace an archive import wrote in DIR (events*.h5,\n"
        "                        dictionaries.h5); another .h5 there is refused even so\n"
        "      --progress MODE   progress on stderr: auto (once the import has taken 5 s: a\n"
        "                        live line on a terminal, plain lines every 5 s in a log),\n"
        "                        live or lines (from the start)\n"
        "  -q, --quiet           print nothing but errors\n"
        "  -h, --help            this help\n\n"
        "Exit status: 0 ok, 2 usage, 3 config, 4 input data (or too many rejects), 5 I/O or\n"
        "output exists, 6 out of memory, 1 internal error. Errors are reported once, by rank 0.\n");
}

#define MAX_ARGS 4096

typedef struct import_args {
    const char *config, *format, *output;
    const char *sets[CLI_MAX_SETS];
    int nsets;
    const char *inputs[MAX_ARGS];
    int ninputs;
    int force, quiet, help;
    int progress;   /* enum cs_progress_mode */
} import_args;

static int import_parse(int argc, char **argv, import_args *a, cs_err *err)
{
    static const struct option lo[] = {
        {"format", required_argument, 0, 'f'}, {"output", required_argument, 0, 'o'},
        {"config", required_argument, 0, 'c'}, {"set", required_argument, 0, 's'},
        {"force", no_argument, 0, 'F'},        {"quiet", no_argument, 0, 'q'},
        {"progress", required_argument, 0, 'P'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    opterr = 0;
    optind = 1;
    int ch, rc = CS_OK;
    /* "-" first: inputs may come before, between and after the options */
    while (rc == CS_OK && (ch = getopt_long(argc, argv, "-:f:o:c:qh", lo, NULL)) != -1) {
        switch (ch) {
        case 1:
            if (a->ninputs == MAX_ARGS)
                rc = cs_err_set(err, CS_EUSAGE, "at most %d inputs (use a glob)", MAX_ARGS);
            else
                a->inputs[a->ninputs++] = optarg;
            break;
        case 'f': a->format = optarg; break;
        case 'o': a->output = optarg; break;
        case 'c': a->config = optarg; break;
        case 's': rc = cli_add_set(a->sets, &a->nsets, optarg, err); break;
        case 'F': a->force = 1; break;
        case 'q': a->quiet = 1; break;
        case 'P':
            a->progress = progress_mode_from_name(optarg);
            if (a->progress < 0)
                rc = cs_err_set(err, CS_EUSAGE, "--progress: '%s' is not auto, live or lines", optarg);
            break;
        case 'h': a->help = 1; break;
        default: rc = cli_bad_option(ch, argc, argv, err);
        }
    }
    if (rc == CS_OK && !a->help && !a->output)
        rc = cs_err_set(err, CS_EUSAGE, "--output DIR is required (see --help)");
    if (rc == CS_OK && !a->help)
        rc = cli_check_path("--output", a->output, CS_OUTPUT_PATH_MAX, err);
    if (rc == CS_OK && !a->help && a->ninputs == 0)
        rc = cs_err_set(err, CS_EUSAGE, "no input files (see --help)");
    for (int i = 0; rc == CS_OK && !a->help && i < a->ninputs; i++)
        rc = cli_check_path("an input", a->inputs[i], PATH_MAX, err);
    return rc;
}

/* Rank 0: defaults, the file, the --set overrides; then the checks. */
static int build_config(const import_args *a, cs_config *cfg, cs_err *err)
{
    int rc = cli_load_config(a->config, a->sets, a->nsets, cfg, err);
    if (rc == CS_OK)
        rc = config_validate(cfg, err);
    return rc;
}

int cmd_import(const cs_comm *c, int argc, char **argv)
{
    cs_err err;
    cs_err_clear(&err);
    static import_args a;   /* large: keep it off the stack */
    import_parse(argc, argv, &a, &err);
    if (a.help && err.code == CS_OK) {
        if (c->rank == 0)
            import_usage(stdout);
        return 0;
    }
    static cs_config cfg;
    if (err.code == CS_OK && c->rank == 0)
        build_config(&a, &cfg, &err);
    if (comm_agree(c, &err) != CS_OK || comm_bcast(c, &cfg, sizeof cfg, &err) != CS_OK)
        return cli_fail(c, "import", &err);
    cs_import_opts o = { a.format, a.inputs, a.ninputs, a.output, a.force, a.quiet, a.progress };
    cs_import_result r;
    if (import_run(c, &cfg, &o, &r, &err) != CS_OK)
        return cli_fail(c, "import", &err);
    if (c->rank == 0 && !a.quiet)
        printf("imported %s: %llu rows, %llu rejected, %llu events in %d file(s) "
               "(%llu duplicates%s), %.2f s on %d rank(s); summary in %s/import.json\n",
               a.output, (unsigned long long)r.rows, (unsigned long long)r.rejected,
               (unsigned long long)r.events, r.files, (unsigned long long)r.duplicates,
               r.dropped ? ", dropped" : " kept", r.seconds, c->size, a.output);
    return 0;
}
