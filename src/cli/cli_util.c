/* cli_util.c — flag parsing and error reporting shared by the subcommands. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_load_config(const char *path, const char *const *sets, int nsets, cs_config *cfg,
                    cs_err *err)
{
    config_defaults(cfg);
    if (path && !*path)
        return cs_err_set(err, CS_EUSAGE, "--config: empty");
    int rc = path ? config_load_file(cfg, path, err) : CS_OK;
    for (int i = 0; rc == CS_OK && i < nsets; i++) {
        char key[128];
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i] || (size_t)(eq - sets[i]) >= sizeof key)
            return cs_err_set(err, CS_EUSAGE, "--set '%s': expected KEY=VALUE", sets[i]);
        memcpy(key, sets[i], (size_t)(eq - sets[i]));
        key[eq - sets[i]] = '\0';
        if ((rc = config_set(cfg, key, eq + 1, err)) != CS_OK)
            cs_err_wrap(err, "--set");
    }
    /* The file alone was valid (config_load_file checks it): a check that
     * fails now, across keys or on a key's own value, is an override's. */
    if (rc == CS_OK && nsets > 0 && (rc = config_validate(cfg, err)) != CS_OK)
        cs_err_wrap(err, "--set");
    return rc;
}

int cli_add_set(const char **sets, int *nsets, const char *arg, cs_err *err)
{
    if (*nsets == CLI_MAX_SETS)
        return cs_err_set(err, CS_EUSAGE, "--set: at most %d overrides", CLI_MAX_SETS);
    sets[(*nsets)++] = arg;
    return CS_OK;
}

int cli_parse_count(const char *flag, const char *s, uint64_t *out, cs_err *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    double mult = 1;
    if (end && *end) {
        if (end[1] == '\0' && (*end == 'k' || *end == 'K')) mult = 1e3;
        else if (end[1] == '\0' && *end == 'M') mult = 1e6;
        else if (end[1] == '\0' && *end == 'G') mult = 1e9;
        else end = NULL;
    }
    v *= mult;
    if (!end || end == s || errno || !(v >= 0) || v > 9e18 || v != floor(v))
        return cs_err_set(err, CS_EUSAGE, "%s: '%s' is not a count (examples: 1000, 10M, 1e6)",
                          flag, s);
    *out = (uint64_t)v;
    return CS_OK;
}

int cli_parse_int(const char *flag, const char *s, long lo, long hi, long *out, cs_err *err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return cs_err_set(err, CS_EUSAGE, "%s: '%s' is not an integer from %ld to %ld",
                          flag, s, lo, hi);
    *out = v;
    return CS_OK;
}

int cli_bad_option(int ch, int argc, char **argv, cs_err *err)
{
    const char *arg = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
    /* a long option's missing value: optopt is its internal letter */
    if (ch == ':' && strncmp(arg, "--", 2) == 0)
        return cs_err_set(err, CS_EUSAGE, "%s needs a value", arg);
    if (optopt && optopt != '-') {
        /* getopt stays on an argument until its last letter is read */
        for (int k = optind; k >= optind - 1 && k >= 1; k--)
            if (k < argc && argv[k][0] == '-' && argv[k][1] != '-' && strchr(argv[k] + 1, optopt)) {
                arg = argv[k];
                break;
            }
        if (ch == ':')
            return cs_err_set(err, CS_EUSAGE, "-%c needs a value", optopt);
        if (strcmp(arg + 1, (char[]){(char)optopt, 0}) == 0)
            return cs_err_set(err, CS_EUSAGE, "unknown option '-%c' (see --help)", optopt);
        if (!strchr(arg, '='))
            return cs_err_set(err, CS_EUSAGE, "unknown option '-%c' in '%s' (see --help)",
                              optopt, arg);
        return cs_err_set(err, CS_EUSAGE, "unknown option '-%c' in '%s' (short options take no "
                          "'=': see --help)", optopt, arg);
    }
    if (ch == ':')
        return cs_err_set(err, CS_EUSAGE, "%s needs a value", arg);
    return cs_err_set(err, CS_EUSAGE, "unknown option '%s' (or the start of several: see "
                      "--help)", arg);
}

int cli_check_path(const char *flag, const char *s, size_t max, cs_err *err)
{
    size_t len = strlen(s);
    if (len == 0)
        return cs_err_set(err, CS_EUSAGE, "%s: empty", flag);
    if (len < max)
        return CS_OK;
    return cs_err_set(err, CS_EUSAGE, "%s: the path is %zu bytes long; clickseg takes paths "
                      "of up to %zu bytes here (%.60s...)", flag, len, max - 1, s);
}

int cli_copy_path(const char *flag, char *dst, size_t size, size_t max, const char *s,
                  cs_err *err)
{
    if (max > size)
        max = size;
    int rc = cli_check_path(flag, s, max, err);
    if (rc == CS_OK)
        memcpy(dst, s, strlen(s) + 1);
    return rc;
}

int cli_parse_date(const char *flag, const char *s, int64_t *out, cs_err *err)
{
    int y, m, d;
    char extra;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        return cs_err_set(err, CS_EUSAGE, "%s: '%s' is not a date YYYY-MM-DD", flag, s);
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    /* timegm moves a day past the month's end into the next month
     * (2024-02-30 is 2024-03-01): such a date is a typo, not a wish. */
    struct tm back;
    if (!gmtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != m - 1 ||
        back.tm_mday != d)
        return cs_err_set(err, CS_EUSAGE, "%s: '%s' is not a day of the calendar", flag, s);
    *out = (int64_t)t * 1000000;
    return CS_OK;
}

void cli_format_ts(int64_t ts, char *buf, size_t n)
{
    time_t t = (time_t)(ts >= 0 ? ts / 1000000 : -((-ts + 999999) / 1000000));
    struct tm tm;
    /* A corrupt ts can lie beyond what struct tm holds: print it raw. */
    if (!gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900 || tm.tm_year < -1900)
        snprintf(buf, n, "ts=%lld us", (long long)ts);
    else
        strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

int cli_fail(const cs_comm *c, const char *cmd, const cs_err *err)
{
    if (c->rank == 0)
        fprintf(stderr, "clickseg %s: error: %s\n", cmd, err->msg);
    return cs_exit_status(err->code ? err->code : CS_EINTERNAL);
}
