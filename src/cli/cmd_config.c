/* cmd_config.c — `clickseg config`: the key reference, and a check of a
 * config file that prints the effective configuration. Rank 0 only. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "clickseg/config.h"

static void config_usage(FILE *out)
{
    fprintf(out,
        "usage: clickseg config -k|--keys\n"
        "       clickseg config [-c] [FILE] [--set KEY=VALUE ...]\n\n"
        "--keys lists every configuration key with its type, default and meaning.\n"
        "Otherwise the file (or the defaults) is loaded, then each --set override in\n"
        "order, as run, import and merge apply them; the result is checked and the\n"
        "effective configuration is printed as a libconfig file. Exit 3 on a bad\n"
        "config, 2 on a malformed --set. The file may be given with -c (as to the\n"
        "other commands) or alone.\n");
}

int cmd_config(const cs_comm *c, int argc, char **argv)
{
    static const struct option lo[] = {{"config", required_argument, 0, 'c'},
                                       {"keys", no_argument, 0, 'k'},
                                       {"set", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    cs_err err;
    cs_err_clear(&err);
    const char *file = NULL, *sets[CLI_MAX_SETS];
    int keys = 0, help = 0, nsets = 0, ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":c:kh", lo, NULL)) != -1) {
        if (ch == 'c') file = optarg;
        else if (ch == 'k') keys = 1;
        else if (ch == 's') cli_add_set(sets, &nsets, optarg, &err);
        else if (ch == 'h') help = 1;
        else cli_bad_option(ch, argc, argv, &err);
    }
    /* `clickseg config job.cfg` checks job.cfg, as the help's summary says */
    if (err.code == CS_OK && !file && optind < argc)
        file = argv[optind++];
    if (err.code == CS_OK && optind < argc)
        cs_err_set(&err, CS_EUSAGE, "unexpected argument '%s' (see --help)", argv[optind]);
    if (err.code == CS_OK && file && !*file)
        cs_err_set(&err, CS_EUSAGE, "the config file: empty");
    if (err.code == CS_OK && keys && (file || nsets))
        cs_err_set(&err, CS_EUSAGE, "--keys lists the keys; it checks no %s ('%s': drop "
                   "--keys to check it)", file ? "file" : "override", file ? file : sets[0]);
    if (c->rank == 0 && err.code == CS_OK) {
        static cs_config cfg;
        if (help) {
            config_usage(stdout);
        } else if (keys) {
            config_print_keys(stdout);
        } else {
            if (cli_load_config(file, sets, nsets, &cfg, &err) == CS_OK &&
                config_validate(&cfg, &err) == CS_OK)
                config_dump(&cfg, stdout);
        }
    }
    if (comm_agree(c, &err) != CS_OK)
        return cli_fail(c, "config", &err);
    return 0;
}
