/* cmd_merge.c — `clickseg merge`: flags, the runs' configuration (rank 0
 * loads and checks it, every rank gets a copy), then merge.h. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clickseg/config.h"
#include "clickseg/fsutil.h"
#include "clickseg/merge.h"

static void merge_usage(FILE *out)
{
    fprintf(out,
        "usage: mpirun -n N clickseg merge [-c job.cfg] [--set KEY=VALUE] --output DIR\n"
        "                                  [--force] [--quiet] REPORT_DIR...\n\n"
        "Combines the reports of several `clickseg run`s over disjoint periods (the\n"
        "monthly or daily tasks of a job array, jobs/periodic.sbatch) into one report\n"
        "over the whole span: report.json, report.h5, the CSV tables, customers.h5 and,\n"
        "when every run has one, sessions.h5. Statistics add exactly; users are counted\n"
        "once from the runs' customers.h5 tables (a customer's rows are added up). A\n"
        "report period found in two runs is refused (its distinct users cannot be\n"
        "added). Give merge the runs' configuration: every report must have its config\n"
        "hash. Each run closes its sessions at the end of its input: set\n"
        "session.split to the period the inputs are split by (e.g. \"month\") and the\n"
        "merged report equals one run over all the inputs (docs/checkpoint.md).\n\n"
        "options:\n"
        "  -c, --config FILE     the runs' libconfig job file\n"
        "      --set KEY=VALUE   override one config key, as given to the runs\n"
        "  -o, --output DIR      output directory (config output.dir)\n"
        "      --force           overwrite existing outputs in DIR (and remove the earlier\n"
        "                        ones this merge does not write)\n"
        "  -q, --quiet           print nothing but errors\n"
        "  -h, --help            this help\n\n"
        "Exit status: 0 ok, 2 usage, 3 config (a report of another config), 4 input (a\n"
        "missing or damaged report, a period in two reports), 5 I/O or output exists,\n"
        "6 out of memory, 1 internal error.\n");
}

/* CS_EUSAGE when the output is one of the reports merged or lies inside
 * one: with --force the merged report replaced an input (and the next
 * merge of the same reports counted its periods twice). The output's
 * nearest existing directory is compared by real path. */
static int output_outside_inputs(const char *out, const cs_merge_opts *o, cs_err *err)
{
    char at[PATH_MAX], real_out[PATH_MAX], real_in[PATH_MAX];
    snprintf(at, sizeof at, "%s", out);
    int below = 0;   /* at is an existing parent of out */
    while (!realpath(at, real_out)) {   /* not made yet: its parent, and so on */
        below = 1;
        if (strcmp(at, ".") == 0 || strcmp(at, "/") == 0)
            return CS_OK;
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", at);
        snprintf(at, sizeof at, "%s", dirname(tmp));
    }
    for (int i = 0; i < o->ninputs; i++) {
        if (!realpath(o->inputs[i], real_in))
            continue;   /* merge says what is wrong with it */
        size_t n = strlen(real_in);
        if (strncmp(real_out, real_in, n) == 0 && (real_out[n] == '\0' || real_out[n] == '/'))
            return cs_err_set(err, CS_EUSAGE, "--output %s is %sthe report %s being merged: "
                              "write the merged report elsewhere", out,
                              real_out[n] || below ? "inside " : "", o->inputs[i]);
    }
    return CS_OK;
}

int cmd_merge(const cs_comm *c, int argc, char **argv)
{
    static const struct option lo[] = {
        {"config", required_argument, 0, 'c'}, {"output", required_argument, 0, 'o'},
        {"set", required_argument, 0, 's'},    {"force", no_argument, 0, 'F'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    cs_err err;
    cs_err_clear(&err);
    const char *config = NULL, *output = NULL, *sets[CLI_MAX_SETS];
    int nsets = 0, help = 0, ch;
    cs_merge_opts o;
    memset(&o, 0, sizeof o);
    opterr = 0;
    optind = 1;
    while (err.code == CS_OK && (ch = getopt_long(argc, argv, ":c:o:qh", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'o': output = optarg; break;
        case 's': cli_add_set(sets, &nsets, optarg, &err); break;
        case 'F': o.force = 1; break;
        case 'q': o.quiet = 1; break;
        case 'h': help = 1; break;
        default: cli_bad_option(ch, argc, argv, &err);
        }
    }
    if (help && err.code == CS_OK) {
        if (c->rank == 0)
            merge_usage(stdout);
        return 0;
    }
    o.inputs = argv + optind;
    o.ninputs = argc - optind;
    if (err.code == CS_OK && o.ninputs == 0)
        cs_err_set(&err, CS_EUSAGE, "no report directories to merge (see --help)");
    for (int i = 0; err.code == CS_OK && i < o.ninputs; i++)
        cli_check_path("a report directory", o.inputs[i], CS_OUTPUT_PATH_MAX, &err);
    /* A report given twice (also as another path to it) would count its
     * periods twice: said as that, not as two reports sharing a period. */
    for (int i = 0; err.code == CS_OK && c->rank == 0 && i < o.ninputs; i++)
        for (int j = 0; err.code == CS_OK && j < i; j++) {
            char a[PATH_MAX], b[PATH_MAX];
            if (realpath(o.inputs[i], a) && realpath(o.inputs[j], b) && strcmp(a, b) == 0)
                cs_err_set(&err, CS_EUSAGE, "%s: named twice among the reports to merge (also "
                           "as %s)", o.inputs[i], o.inputs[j]);
        }
    static cs_config cfg;   /* large: keep it off the stack */
    if (err.code == CS_OK && c->rank == 0) {
        cli_load_config(config, sets, nsets, &cfg, &err);
        if (err.code == CS_OK && output)
            cli_copy_path("--output", cfg.output_dir, sizeof cfg.output_dir, CS_OUTPUT_PATH_MAX,
                          output, &err);
        if (err.code == CS_OK && !output && !config)
            cs_err_set(&err, CS_EUSAGE, "give the output directory with --output DIR");
        fs_trim_slashes(cfg.output_dir);
        if (err.code == CS_OK)
            config_validate(&cfg, &err);
        if (err.code == CS_OK)
            output_outside_inputs(cfg.output_dir, &o, &err);
    }
    if (comm_agree(c, &err) != CS_OK || comm_bcast(c, &cfg, sizeof cfg, &err) != CS_OK)
        return cli_fail(c, "merge", &err);
    if (merge_reports(c, &cfg, &o, &err) != CS_OK)
        return cli_fail(c, "merge", &err);
    return 0;
}
