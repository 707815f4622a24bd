/* config.h — the job configuration: one table of keys drives parsing,
 * defaults, validation and `clickseg config --help`.
 *
 * Every command loads a cs_config: defaults first, then a libconfig file
 * (optional), then command-line overrides applied by the CLI. An unknown key,
 * a wrong type or a bad value is a CS_ECONFIG error naming file and line.
 * Pure C (libconfig), no MPI: rank 0 loads and the CLI broadcasts. */
#ifndef CLICKSEG_CONFIG_H
#define CLICKSEG_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "clickseg/error.h"
#include "clickseg/period.h"
#include "clickseg/rules.h"

#define CS_MAX_INPUTS 64
#define CS_PATH_MAX 1024
/* Bytes an output directory (output.dir, checkpoint.dir, --output), a
 * --state file or a report directory given to merge or report may take,
 * with its end: files are made beside and inside them (DIR.tmp.<pid>/
 * report.html, DIR.checkpoint/snapshot-000001.h5.tmp, STATE.tmp.<pid>.room)
 * in CS_PATH_MAX buffers, so the rest of CS_PATH_MAX is kept for those
 * names. */
#define CS_OUTPUT_PATH_MAX 960

enum cs_session_mode { SESSION_GAP = 0, SESSION_SOURCE = 1 };
/* enum cs_period (PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH) is in period.h;
 * import.split adds "none" (one file) after them. */
#define IMPORT_SPLIT_NONE 3
enum cs_import_dup { IMPORT_DUP_KEEP = 0, IMPORT_DUP_DROP = 1 };
enum cs_price_unit { PRICE_MAJOR = 0, PRICE_MINOR = 1, PRICE_MICROS = 2 };
#define CS_COLNAME_MAX 128
#define CS_EVMAP_TEXT_MAX 1024

typedef struct cs_config {
    /* input: a string or a list of strings (files, directories, globs) */
    int ninputs;
    char inputs[CS_MAX_INPUTS][CS_PATH_MAX];
    /* output.dir, output.sessions */
    char output_dir[CS_PATH_MAX];
    int output_sessions;
    /* memory_per_rank: bytes (config accepts "512M", "2G", integers) */
    int64_t memory_per_rank;
    /* shared_memory: the shuffle of a one-node job through shared buffers
     * (nodeshm.h) rather than MPI; the results are the same either way */
    int shared_memory;
    /* max_reject_share: 0..1; a run rejecting more of its rows fails (a
     * wrong time unit or type coding), not a report of nothing */
    double max_reject_share;
    /* max_late_share: 0..1; a run with more of its rows late fails (files
     * that overlap in time), not a report of part of the events */
    double max_late_share;
    /* session.gap, session.max_duration (0 = none), session.max_lateness:
     * seconds in the file, stored here in microseconds */
    int64_t session_gap_us;
    int64_t session_max_duration_us;
    int64_t session_max_lateness_us;
    int session_mode;            /* session.mode: "gap" | "source" */
    int session_split;           /* session.split: 0 none, else 1 + enum cs_period */
    /* report.period, report.timezone */
    int report_period;
    char report_timezone[CS_TZ_NAME_MAX];   /* 64 */
    /* rank.*: target-customer selection (docs/ranking.md) */
    int64_t rank_top_k;
    int64_t rank_w_recency, rank_w_frequency, rank_w_monetary, rank_w_intent, rank_w_risk;
    int64_t rank_high_score, rank_ordinary_score, rank_risk_level;
    /* report.currency: ISO 4217 code for the report's money; "" = the
     * archive's `currency` attribute. Display only: not in the config hash. */
    char report_currency[16];
    /* checkpoint.dir ("" = "<output.dir>.checkpoint"), checkpoint.every
     * (windows, 0 = off), checkpoint.interval (seconds in the file, stored
     * in microseconds, 0 = off); see checkpoint.h */
    char checkpoint_dir[CS_PATH_MAX];
    int64_t checkpoint_every;
    int64_t checkpoint_interval_us;
    /* rules: the ordered segment rules */
    cs_rules rules;
    /* import.*: `clickseg import` only (see docs/import.md) */
    char import_format[32];          /* "" = give --format */
    int import_split;                /* PERIOD_DAY/WEEK/MONTH or IMPORT_SPLIT_NONE */
    char import_timezone[CS_TZ_NAME_MAX];   /* zone of source times without one */
    double import_max_reject_share;  /* 0..1: more rejects fail the import */
    int import_duplicates;           /* enum cs_import_dup */
    /* import.csv.*: the generic delimited-text format */
    char import_csv_delimiter[8];    /* one character, or "tab" */
    int import_csv_header;           /* first line names the columns */
    char import_csv_time[CS_COLNAME_MAX];       /* column: a header name or 1-based number */
    char import_csv_time_format[64];            /* textparse.h time format */
    char import_csv_user[CS_COLNAME_MAX];
    char import_csv_event[CS_COLNAME_MAX];      /* "" = every row is "*" for the map */
    char import_csv_events[CS_EVMAP_TEXT_MAX];  /* "name=type, ..." */
    char import_csv_product[CS_COLNAME_MAX];    /* optional columns: "" = absent */
    char import_csv_category[CS_COLNAME_MAX];
    char import_csv_brand[CS_COLNAME_MAX];
    char import_csv_price[CS_COLNAME_MAX];
    int import_csv_price_unit;                  /* enum cs_price_unit */
    char import_csv_session[CS_COLNAME_MAX];
    /* where the values came from, for messages and the report */
    char source_path[CS_PATH_MAX];  /* "" when defaults only */
} cs_config;

/* Fills cfg with the built-in defaults (identical to configs/default.cfg). */
void config_defaults(cs_config *cfg);

/* Loads a libconfig file over the current values of cfg (keys it has
 * replace them; a `rules` key replaces all rules), then validates. On error
 * returns CS_ECONFIG with "FILE:LINE: message" and cfg is left unchanged. */
int config_load_file(cs_config *cfg, const char *path, cs_err *err);

/* Same, from a string (for tests); `name` stands for the file in messages. */
int config_load_string(cs_config *cfg, const char *text, const char *name,
                       cs_err *err);

/* Parses a size: an integer of bytes or a string "512", "64K", "512M",
 * "2G", "1T" (powers of 1024, optional trailing "B" or "iB"). Returns
 * CS_ECONFIG on anything else or on a non-positive size. */
int config_parse_size(const char *s, int64_t *bytes, cs_err *err);

/* Checks values that only make sense together (e.g. a timezone that the
 * system knows, source mode needs no gap change...). CS_ECONFIG on error. */
int config_validate(const cs_config *cfg, cs_err *err);

/* Sets one key from its text form, as a command-line override would
 * ("session.gap" "600", "memory_per_rank" "2G", "output.sessions" "true",
 * "input" "a.h5" (replaces the list), "rules" "default"). The value is
 * checked as in a file; on error returns CS_ECONFIG naming the key and
 * leaves cfg unchanged. */
int config_set(cs_config *cfg, const char *key, const char *value, cs_err *err);

/* Writes every key with its current value as a libconfig file (used by
 * `clickseg config --dump` and to record the effective config); loading
 * the output gives back the same values. (Not named config_write: libconfig
 * already exports a function of that name.) */
void config_dump(const cs_config *cfg, FILE *out);

/* A stable 64-bit hash of the values that change results (sessions, rules,
 * report period/timezone), for the report and checkpoints. */
uint64_t config_hash(const cs_config *cfg);

/* Prints the key table: name, type, default, meaning. */
void config_print_keys(FILE *out);

#endif
