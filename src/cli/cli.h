/* cli.h — what the subcommands share: the dispatch signature, number
 * parsing for flags, and how the top level reports an error and exits. */
#ifndef CLICKSEG_CLI_H
#define CLICKSEG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/comm.h"
#include "clickseg/config.h"
#include "clickseg/error.h"

/* A subcommand: runs on every rank after MPI_Init; returns an exit status. */
typedef int (*cli_cmd_fn)(const cs_comm *c, int argc, char **argv);

int cmd_generate(const cs_comm *c, int argc, char **argv);
int cmd_import(const cs_comm *c, int argc, char **argv);
int cmd_inspect(const cs_comm *c, int argc, char **argv);
int cmd_run(const cs_comm *c, int argc, char **argv);
int cmd_config(const cs_comm *c, int argc, char **argv);
int cmd_report(const cs_comm *c, int argc, char **argv);
int cmd_merge(const cs_comm *c, int argc, char **argv);

/* Rank 0: the defaults, then the libconfig file (path may be NULL), then
 * each --set "KEY=VALUE" override in order. CS_EUSAGE for a malformed
 * override, CS_ECONFIG (with file:line or the key) for a bad value. The
 * caller applies its own flags and then calls config_validate. */
int cli_load_config(const char *path, const char *const *sets, int nsets, cs_config *cfg,
                    cs_err *err);

/* The most --set overrides a command takes (its array's size). */
#define CLI_MAX_SETS 32

/* Adds one --set argument to sets (*nsets of CLI_MAX_SETS used);
 * CS_EUSAGE past the last. */
int cli_add_set(const char **sets, int *nsets, const char *arg, cs_err *err);

/* Parses a count: "1000", "10M", "1e6", "2.5k" (k/M/G = 10^3/10^6/10^9).
 * CS_EUSAGE naming the flag on anything else or a negative value. */
int cli_parse_count(const char *flag, const char *s, uint64_t *out, cs_err *err);

/* Parses an int in [lo, hi]. */
int cli_parse_int(const char *flag, const char *s, long lo, long hi, long *out, cs_err *err);

/* The CS_EUSAGE message for what getopt_long returned as '?' or ':' (ch),
 * naming the option as the user wrote it: an unknown short option inside
 * a cluster ("-q=1") is named with the argument it came in, where
 * argv[optind - 1] named the argument before it; a long option that is
 * not one, or the prefix of several ("--s"), says so. */
int cli_bad_option(int ch, int argc, char **argv, cs_err *err);

/* CS_EUSAGE naming flag (or what the path is) when the path s needs more
 * than max bytes with its end (a silent cut further on would name another
 * file), or is empty. */
int cli_check_path(const char *flag, const char *s, size_t max, cs_err *err);

/* Copies the path s given to flag into dst (size bytes) after
 * cli_check_path(flag, s, max); max <= size. */
int cli_copy_path(const char *flag, char *dst, size_t size, size_t max, const char *s,
                  cs_err *err);

/* Parses "YYYY-MM-DD" into µs since the epoch (midnight UTC). */
int cli_parse_date(const char *flag, const char *s, int64_t *out, cs_err *err);

/* Formats µs since the epoch as "YYYY-MM-DD HH:MM:SS" UTC. */
void cli_format_ts(int64_t ts, char *buf, size_t n);

/* Prints "clickseg CMD: error: MSG" on rank 0 and returns the exit status
 * for err->code (every rank returns the same one). */
int cli_fail(const cs_comm *c, const char *cmd, const cs_err *err);

#endif
