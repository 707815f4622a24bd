/* config.c — the job configuration: the table of keys (path, type,
 * default, help, limits) and what it drives: defaults, text overrides,
 * value checks and the config hash. Reading libconfig files is in
 * config_load.c, writing them (and the key table `config --keys`
 * prints) in config_dump.c. Pure C, no MPI. */
#include "clickseg/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clickseg/textparse.h"
#include "config_keys.h"

static const char *const mode_names[] = { "gap", "source", NULL };
static const char *const period_names[] = { "day", "week", "month", NULL };
static const char *const split_names[] = { "none", "day", "week", "month", NULL };
static const char *const import_split_names[] = { "day", "week", "month", "none", NULL };
static const char *const dup_names[] = { "keep", "drop", NULL };
static const char *const price_unit_names[] = { "major", "minor", "micros", NULL };

#define F(field) offsetof(cs_config, field), sizeof(((cs_config *)0)->field)

const key_def cfg_keys[] = {
    { "input", KT_PATHS, "", "archive files, directories or globs: a string or a list "
      "of strings (--input on the command line replaces them)", NULL, 0, 0, F(inputs) },
    { "output", KT_GROUP, NULL, "where results go", NULL, 0, 0, 0, 0 },
    { "output.dir", KT_STRING, "clickseg-out", "output directory (created; an existing "
      "report is not overwritten without --force)", NULL, 1, 0, F(output_dir) },
    { "output.sessions", KT_BOOL, "false", "also write the per-session table "
      "(large: one row per session)", NULL, 0, 0, F(output_sessions) },
    { "memory_per_rank", KT_SIZE, "512M", "memory budget of each MPI rank: bytes, or a "
      "string with unit K, M, G, T (powers of 1024); at least 1M", NULL, MIB,
      INT64_MAX, F(memory_per_rank) },
    { "shared_memory", KT_BOOL, "true", "when every rank runs on one node, the shuffle "
      "reads the other ranks' records in shared memory instead of copying them through "
      "MPI (same results; false: always MPI)", NULL, 0, 0, F(shared_memory) },
    { "max_reject_share", KT_SHARE, "0.01", "`clickseg run` fails (exit status 4, no report) "
      "when more than this share of the rows is rejected (an event_type outside 0..7, a ts "
      "before 1970 or after 9999, or a price beyond +-10^12 minor units): 0 to 1, or a string like \"1%\"", NULL, 0, 0,
      F(max_reject_share) },
    { "max_late_share", KT_SHARE, "0.05", "`clickseg run` fails (exit status 4, no report) "
      "when more than this share of the rows is late (more than session.max_lateness older "
      "than a row before it: files that overlap in time, an archive out of time order): 0 "
      "to 1, or a string like \"5%\"", NULL, 0, 0, F(max_late_share) },
    { "session", KT_GROUP, NULL, "how a user's events are cut into sessions", NULL, 0, 0, 0, 0 },
    { "session.gap", KT_SECONDS, "1800", "seconds of inactivity that end a session",
      NULL, 1, 1000000000, F(session_gap_us) },
    { "session.max_duration", KT_SECONDS, "0", "seconds after which a session is cut "
      "even if active (0 = no limit)", NULL, 0, 1000000000, F(session_max_duration_us) },
    { "session.max_lateness", KT_SECONDS, "3600", "seconds an event may arrive out of "
      "time order across input files before it is counted as late", NULL, 0, 1000000000,
      F(session_max_lateness_us) },
    { "session.mode", KT_CHOICE, "gap", "\"gap\": split on inactivity only; \"source\": "
      "also split where the archive's session_id changes", mode_names, 0, 0, F(session_mode) },
    { "session.split", KT_CHOICE, "none", "also cut sessions where a local \"day\", \"week\" "
      "or \"month\" ends (report.timezone), so runs over inputs split there merge exactly; "
      "\"none\": never", split_names, 0, 0, F(session_split) },
    { "report", KT_GROUP, NULL, "the periodic segment report", NULL, 0, 0, 0, 0 },
    { "report.period", KT_CHOICE, "day", "report period: \"day\", \"week\" (ISO, from "
      "Monday) or \"month\"", period_names, 0, 0, F(report_period) },
    { "report.timezone", KT_TIMEZONE, "UTC", "timezone of periods, entry hour and weekday: "
      "\"UTC\", \"+05:30\" or an IANA name", NULL, 0, 0, F(report_timezone) },
    { "report.currency", KT_STRING, "", "ISO 4217 code of the archive's amounts (\"EUR\", "
      "\"USD\", ...) for money in the report; \"\" = the archive's `currency` attribute",
      NULL, 0, 0, F(report_currency) },
    { "rank", KT_GROUP, NULL, "target-customer selection: scores, tiers, top-K lists "
      "(docs/ranking.md)", NULL, 0, 0, 0, 0 },
    { "rank.top_k", KT_INT, "1000", "length of the targets and prospects lists", NULL, 0,
      1000000, F(rank_top_k) },
    { "rank.weight_recency", KT_INT, "2", "score points per recency score step (1-5)",
      NULL, 0, 1000, F(rank_w_recency) },
    { "rank.weight_frequency", KT_INT, "3", "score points per frequency score step (0-5)",
      NULL, 0, 1000, F(rank_w_frequency) },
    { "rank.weight_monetary", KT_INT, "4", "score points per monetary score step (0-5)",
      NULL, 0, 1000, F(rank_w_monetary) },
    { "rank.weight_intent", KT_INT, "1", "score points per intent step (0-5: collector "
      "sessions and abandoned carts)", NULL, 0, 1000, F(rank_w_intent) },
    { "rank.weight_risk", KT_INT, "6", "score points taken per risk step (0-5: refund "
      "share, bot sessions, cart removals)", NULL, 0, 1000, F(rank_w_risk) },
    { "rank.high_score", KT_INT, "30", "lowest score of the high tier", NULL, -100000,
      100000, F(rank_high_score) },
    { "rank.ordinary_score", KT_INT, "16", "lowest score of the ordinary tier (below: low)",
      NULL, -100000, 100000, F(rank_ordinary_score) },
    { "rank.risk_level", KT_INT, "3", "risk level (0-5) from which a customer is in the "
      "risk tier, whatever the score (0-6; 6: never by risk)", NULL, 0, 6, F(rank_risk_level) },
    { "checkpoint", KT_GROUP, NULL, "checkpoints of long runs (resume with --resume)",
      NULL, 0, 0, 0, 0 },
    { "checkpoint.dir", KT_STRING, "", "directory of the run's checkpoint (\"\" = the "
      "output directory's name + \".checkpoint\")", NULL, 0, 0, F(checkpoint_dir) },
    { "checkpoint.every", KT_COUNT, "0", "checkpoint after every N windows (0 = not by "
      "window count)", NULL, 0, 1000000000, F(checkpoint_every) },
    { "checkpoint.interval", KT_SECONDS, "3600", "checkpoint when this many seconds passed "
      "since the last one (0 = not by time); a signal always checkpoints", NULL, 0,
      1000000000, F(checkpoint_interval_us) },
    { "rules", KT_RULES, "default", "segment rules, first match wins; replaces the "
      "default rules entirely", NULL, 0, 0, F(rules) },
    { "import", KT_GROUP, NULL, "`clickseg import`: clickstream exports into an archive "
      "(docs/import.md)", NULL, 0, 0, 0, 0 },
    { "import.format", KT_STRING, "", "input format: rees46, retailrocket, yoochoose, otto, "
      "diginetica, ga or csv (--format overrides; \"\" = --format is required)", NULL, 0, 0,
      F(import_format) },
    { "import.split", KT_CHOICE, "day", "one archive file per UTC \"day\", \"week\" (ISO, "
      "from Monday) or \"month\", or \"none\" (one file)", import_split_names, 0, 0, F(import_split) },
    { "import.timezone", KT_TIMEZONE, "UTC", "zone of source times that carry none: \"UTC\", "
      "\"+05:30\" or an IANA name", NULL, 0, 0, F(import_timezone) },
    { "import.max_reject_share", KT_SHARE, "0.01", "the import fails (no archive) when more "
      "than this share of the rows is rejected: 0 to 1, or a string like \"1%\"", NULL, 0, 0,
      F(import_max_reject_share) },
    { "import.duplicates", KT_CHOICE, "keep", "events that repeat an earlier event exactly: "
      "\"keep\" or \"drop\" (counted either way)", dup_names, 0, 0, F(import_duplicates) },
    { "import.csv", KT_GROUP, NULL, "format csv: columns, times and event names", NULL, 0, 0,
      0, 0 },
    { "import.csv.delimiter", KT_STRING, ",", "field delimiter: one character, or \"tab\"",
      NULL, 1, 0, F(import_csv_delimiter) },
    { "import.csv.header", KT_BOOL, "true", "the first line of each file names the columns",
      NULL, 0, 0, F(import_csv_header) },
    { "import.csv.time", KT_STRING, "ts", "time column: a header name or a 1-based number",
      NULL, 1, 0, F(import_csv_time) },
    { "import.csv.time_format", KT_STRING, "iso8601", "\"iso8601\", \"unix_s\", "
      "\"unix_ms\", \"unix_us\" or a pattern like \"%d/%m/%Y %H:%M:%S\"", NULL, 1, 0,
      F(import_csv_time_format) },
    { "import.csv.user", KT_STRING, "user_id", "user (customer or visitor) column", NULL, 1, 0,
      F(import_csv_user) },
    { "import.csv.event", KT_STRING, "event_type", "event-name column (\"\": none, every row "
      "maps as \"*\")", NULL, 0, 0, F(import_csv_event) },
    { "import.csv.events", KT_STRING, "", "event names to types: \"view=product_view, "
      "buy=purchase, *=page_view\" (type names and codes 0-7 always map)", NULL, 0, 0,
      F(import_csv_events) },
    { "import.csv.product", KT_STRING, "", "product column (\"\": none)", NULL, 0, 0,
      F(import_csv_product) },
    { "import.csv.category", KT_STRING, "", "category column (\"\": none)", NULL, 0, 0,
      F(import_csv_category) },
    { "import.csv.brand", KT_STRING, "", "brand column (\"\": none)", NULL, 0, 0,
      F(import_csv_brand) },
    { "import.csv.price", KT_STRING, "", "price column (\"\": none)", NULL, 0, 0,
      F(import_csv_price) },
    { "import.csv.price_unit", KT_CHOICE, "major", "prices in \"major\" units with decimals "
      "(35.79), \"minor\" units (3579) or \"micros\" (35790000)", price_unit_names, 0, 0,
      F(import_csv_price_unit) },
    { "import.csv.session", KT_STRING, "", "the source's session-id column (\"\": none)",
      NULL, 0, 0, F(import_csv_session) },
};
const int cfg_nkeys = (int)(sizeof cfg_keys / sizeof cfg_keys[0]);

/* The table entry of a key path, or NULL. */
const key_def *cfg_key_find(const char *path)
{
    for (int i = 0; i < cfg_nkeys; i++)
        if (strcmp(cfg_keys[i].path, path) == 0)
            return &cfg_keys[i];
    return NULL;
}

/* What a key of this type expects, for messages. */
const char *cfg_type_expects(int type)
{
    switch (type) {
    case KT_GROUP: return "a group { ... }";
    case KT_PATHS: return "a string or a list of strings";
    case KT_BOOL: return "true or false";
    case KT_SIZE: return "a size (an integer number of bytes or a string like \"512M\")";
    case KT_SECONDS: return "an integer number of seconds";
    case KT_INT: return "an integer";
    case KT_COUNT: return "a non-negative integer";
    case KT_RULES: return "a list of rules ( { segment = \"...\"; when = ( ... ); }, ... )";
    case KT_SHARE: return "a share from 0 to 1 (0.01) or a percentage string (\"1%\")";
    default: return "a string";
    }
}

/* Copies s into a zero-padded char field; CS_ECONFIG when it does not fit. */
int cfg_copy_field(char *dst, size_t size, const char *s, cs_err *err)
{
    size_t len = strlen(s);
    if (len >= size)
        return cs_err_set(err, CS_ECONFIG, "'%.40s...' is longer than %zu characters",
                          s, size - 1);
    memset(dst, 0, size);
    memcpy(dst, s, len);
    return CS_OK;
}

/* Parses "512M"-style sizes (see config.h); CS_ECONFIG with the
 * reason (*bytes unchanged) on error. */
int config_parse_size(const char *s, int64_t *bytes, cs_err *err)
{
    const char *p = s;
    int64_t v = 0;
    if (!isdigit((unsigned char)*p))
        return cs_err_set(err, CS_ECONFIG, "bad size '%s': expected bytes or a number with "
                          "a unit K, M, G or T, like \"512M\"", s);
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return cs_err_set(err, CS_ECONFIG, "bad size '%s': too large", s);
        v = v * 10 + (*p - '0');
    }
    if (*p == '.' || *p == ',')
        return cs_err_set(err, CS_ECONFIG, "bad size '%s': fractions are not supported "
                          "(write \"1536M\", not \"1.5G\")", s);
    int shift = 0;
    const char *units = "KMGT", *u = *p ? strchr(units, toupper((unsigned char)*p)) : NULL;
    if (u) {
        shift = 10 * (int)(u - units + 1);
        p++;
    }
    if (!(*p == '\0' || strcasecmp(p, "B") == 0 || (shift && strcasecmp(p, "iB") == 0)))
        return cs_err_set(err, CS_ECONFIG, "bad size '%s': unknown unit '%s' (use K, M, G "
                          "or T, optionally followed by B or iB)", s, p);
    if (v > (INT64_MAX >> shift))
        return cs_err_set(err, CS_ECONFIG, "bad size '%s': too large", s);
    if (v == 0)
        return cs_err_set(err, CS_ECONFIG, "bad size '%s': must be positive", s);
    *bytes = v << shift;
    return CS_OK;
}

/* Stores an integer key (bytes or seconds) after the range check.
 * CS_ECONFIG when out of range; cfg unchanged then. */
int cfg_set_number(cs_config *cfg, const key_def *k, int64_t v, cs_err *err)
{
    const char *unit = k->type == KT_SIZE ? "bytes" : k->type == KT_INT ? "integer"
                     : k->type == KT_COUNT ? "a count" : "seconds";
    if (v < k->min)
        return cs_err_set(err, CS_ECONFIG, "must be at least %" PRId64 " (%s), got %" PRId64 "%s",
                          k->min, unit, v, k->type == KT_SIZE && v <= 0 ?
                          " (libconfig 1.5 wraps integers above 2147483647 unless they "
                          "end in L; write a string like \"4G\")" : "");
    if (v > k->max)
        return cs_err_set(err, CS_ECONFIG, "must be at most %" PRId64 " (%s), got %" PRId64,
                          k->max, unit, v);
    *FIELD(cfg, k, int64_t) = k->type == KT_SECONDS ? v * US_PER_S : v;
    return CS_OK;
}

/* Parses "0.05", "5%", "0", "1" into a share; CS_ECONFIG otherwise. */
int cfg_parse_share(const char *s, double *v, cs_err *err)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    int pct = end != s && *end == '%';
    if (end == s || errno || isspace((unsigned char)*s) || *(end + pct) != '\0' || x != x)
        return cs_err_set(err, CS_ECONFIG, "expected %s, got \"%s\"", cfg_type_expects(KT_SHARE), s);
    *v = pct ? x / 100 : x;
    return CS_OK;
}

/* Stores a share after its range check; CS_ECONFIG (cfg unchanged) outside [0, 1]. */
int cfg_set_share(cs_config *cfg, const key_def *k, double v, cs_err *err)
{
    if (!(v >= 0 && v <= 1))
        return cs_err_set(err, CS_ECONFIG, "must be from 0 to 1 (or \"0%%\" to \"100%%\"), got %g", v);
    *FIELD(cfg, k, double) = v;
    return CS_OK;
}

/* Index of name among a NULL-ended list, or -1. */
int cfg_choice_index(const char *const *choices, const char *name)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], name) == 0)
            return i;
    return -1;
}

/* Sets a string-valued key (string, choice, timezone) after its checks. */
int cfg_set_string_key(cs_config *cfg, const key_def *k, const char *s, cs_err *err)
{
    if (k->type == KT_CHOICE) {
        int i = cfg_choice_index(k->choices, s);
        if (i < 0) {
            char list[128] = "";
            for (int j = 0; k->choices[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"",
                         j ? ", " : "", k->choices[j]);
            return cs_err_set(err, CS_ECONFIG, "expected one of %s, got \"%s\"", list, s);
        }
        *FIELD(cfg, k, int) = i;
        return CS_OK;
    }
    if ((int64_t)strlen(s) < k->min)
        return cs_err_set(err, CS_ECONFIG, "must not be empty");
    if (k->type == KT_TIMEZONE) {
        cs_tz tz;
        int rc = tz_open(&tz, s, err);
        tz_close(&tz);
        if (rc != CS_OK)
            return rc;
    }
    return cfg_copy_field(FIELD(cfg, k, char), k->size, s, err);
}

/* Parses a whole-string decimal int64; 0 on success, -1 otherwise. */
static int parse_int_text(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || isspace((unsigned char)*s))
        return -1;
    *v = x;
    return 0;
}

/* Sets key k from its text form (see config_set). */
int cfg_set_from_text(cs_config *cfg, const key_def *k, const char *text, cs_err *err)
{
    int64_t v;
    switch (k->type) {
    case KT_PATHS:
        cfg->ninputs = 0;
        memset(cfg->inputs, 0, sizeof cfg->inputs);
        if (*text && cfg_copy_field(cfg->inputs[0], CS_PATH_MAX, text, err) != CS_OK)
            return CS_ECONFIG;
        cfg->ninputs = *text ? 1 : 0;
        return CS_OK;
    case KT_BOOL:
        if (strcmp(text, "true") && strcmp(text, "false"))
            return cs_err_set(err, CS_ECONFIG, "expected true or false, got \"%s\"", text);
        *FIELD(cfg, k, int) = strcmp(text, "true") == 0;
        return CS_OK;
    case KT_SIZE:
        if (config_parse_size(text, &v, err) != CS_OK)
            return CS_ECONFIG;
        return cfg_set_number(cfg, k, v, err);
    case KT_SECONDS:
    case KT_INT:
    case KT_COUNT:
        if (parse_int_text(text, &v) != 0)
            return cs_err_set(err, CS_ECONFIG, "expected %s, got \"%s\"",
                              cfg_type_expects(k->type), text);
        return cfg_set_number(cfg, k, v, err);
    case KT_RULES:
        if (strcmp(text, "default") != 0)
            return cs_err_set(err, CS_ECONFIG, "only \"default\" can be given as text; "
                              "write rules in a config file");
        rules_default(&cfg->rules);
        return CS_OK;
    case KT_SHARE: {
        double d;
        if (cfg_parse_share(text, &d, err) != CS_OK)
            return CS_ECONFIG;
        return cfg_set_share(cfg, k, d, err);
    }
    case KT_GROUP:
        return cs_err_set(err, CS_ECONFIG, "is a group; set one of its keys");
    default:
        return cfg_set_string_key(cfg, k, text, err);
    }
}

/* Sets one key from text; CS_ECONFIG "key '...': ..." (cfg
 * unchanged) on error, CS_ENOMEM when the scratch copy fails. */
int config_set(cs_config *cfg, const char *key, const char *value, cs_err *err)
{
    cs_err local;
    if (!err)
        err = &local;
    const key_def *k = cfg_key_find(key);
    if (!k)
        return cs_err_set(err, CS_ECONFIG, "unknown key '%s'", key);
    cs_config *tmp = cs_malloc(sizeof *tmp, err, "config");
    if (!tmp)
        return CS_ENOMEM;
    *tmp = *cfg;
    int rc = cfg_set_from_text(tmp, k, value, err);
    if (rc == CS_OK)
        *cfg = *tmp;
    else
        cs_err_wrap(err, "key '%s'", key);
    free(tmp);
    return rc;
}

/* Fills cfg from the default column of the key table. Cannot fail. */
void config_defaults(cs_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < cfg_nkeys; i++)
        if (cfg_keys[i].type != KT_GROUP)
            cfg_set_from_text(cfg, &cfg_keys[i], cfg_keys[i].def, NULL);   /* cannot fail */
}

/* ---- checks, output, hash -------------------------------------------- */

/* Blames key k: sets *key and returns CS_ECONFIG with the message. */
#define BAD(k, ...) (*key = (k), cs_err_set(err, CS_ECONFIG, __VA_ARGS__))

/* The import.* checks that need more than one key's table entry. */
static int validate_import(const cs_config *cfg, cs_err *err, const char **key)
{
    const char *d = cfg->import_csv_delimiter;
    if (!(strlen(d) == 1 || strcmp(d, "tab") == 0) || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
        return BAD("import.csv.delimiter", "key 'import.csv.delimiter': must be one character "
                   "(not a quote or a line break) or \"tab\", got \"%s\"", d);
    tp_time_spec ts;
    if (tp_time_spec_parse(cfg->import_csv_time_format, &ts, err) != CS_OK) {
        *key = "import.csv.time_format";
        return cs_err_wrap(err, "key 'import.csv.time_format'");
    }
    tp_evmap *m = cs_malloc(sizeof *m, err, "event map");
    if (!m)
        return CS_ENOMEM;
    int rc = tp_evmap_parse(cfg->import_csv_events, m, err);
    free(m);
    if (rc != CS_OK) {
        *key = "import.csv.events";
        return cs_err_wrap(err, "key 'import.csv.events'");
    }
    if (!(cfg->import_max_reject_share >= 0 && cfg->import_max_reject_share <= 1))
        return BAD("import.max_reject_share", "key 'import.max_reject_share': must be from 0 "
                   "to 1");
    return CS_OK;
}

/* Every single-key and cross-key check; CS_ECONFIG "key '...': ..."
 * with *key set on the first failure. */
int cfg_validate(const cs_config *cfg, cs_err *err, const char **key)
{
    const int64_t gap = cfg->session_gap_us / US_PER_S;
    const int64_t maxd = cfg->session_max_duration_us / US_PER_S;
    *key = NULL;
    if (cfg->ninputs < 0 || cfg->ninputs > CS_MAX_INPUTS)
        return BAD("input", "key 'input': %d inputs, at most %d", cfg->ninputs, CS_MAX_INPUTS);
    if (!cfg->output_dir[0])
        return BAD("output.dir", "key 'output.dir': must not be empty");
    if (strlen(cfg->output_dir) >= CS_OUTPUT_PATH_MAX)
        return BAD("output.dir", "key 'output.dir': %zu bytes long, at most %d (files are made "
                   "inside it and beside it)", strlen(cfg->output_dir), CS_OUTPUT_PATH_MAX - 1);
    if (strlen(cfg->checkpoint_dir) >= CS_OUTPUT_PATH_MAX)
        return BAD("checkpoint.dir", "key 'checkpoint.dir': %zu bytes long, at most %d (files "
                   "are made inside it)", strlen(cfg->checkpoint_dir), CS_OUTPUT_PATH_MAX - 1);
    if (cfg->memory_per_rank < MIB)
        return BAD("memory_per_rank", "key 'memory_per_rank': must be at least 1M, got %"
                   PRId64 " bytes", cfg->memory_per_rank);
    if (!(cfg->max_reject_share >= 0 && cfg->max_reject_share <= 1))
        return BAD("max_reject_share", "key 'max_reject_share': must be from 0 to 1");
    if (!(cfg->max_late_share >= 0 && cfg->max_late_share <= 1))
        return BAD("max_late_share", "key 'max_late_share': must be from 0 to 1");
    if (cfg->session_gap_us <= 0)
        return BAD("session.gap", "key 'session.gap': must be positive");
    if (cfg->session_max_duration_us < 0 || (maxd != 0 && maxd < gap))
        return BAD("session.max_duration", "key 'session.max_duration': must be 0 (no "
                   "limit) or at least session.gap (%" PRId64 " s), got %" PRId64 " s",
                   gap, maxd);
    if (cfg->session_max_lateness_us < 0)
        return BAD("session.max_lateness", "key 'session.max_lateness': must not be negative");
    if (cfg->session_mode != SESSION_GAP && cfg->session_mode != SESSION_SOURCE)
        return BAD("session.mode", "key 'session.mode': unknown mode %d", cfg->session_mode);
    if (cfg->session_split < 0 || cfg->session_split > 3)
        return BAD("session.split", "key 'session.split': unknown value %d", cfg->session_split);
    if (!period_name(cfg->report_period))
        return BAD("report.period", "key 'report.period': unknown period %d",
                   cfg->report_period);
    cs_tz tz;
    int rc = tz_open(&tz, cfg->report_timezone, err);
    tz_close(&tz);
    if (rc != CS_OK) {
        *key = "report.timezone";
        return cs_err_wrap(err, "key 'report.timezone'");
    }
    /* A high tier that starts below the ordinary one would be empty of
     * ordinary customers: a slip between the two keys, not a wish. */
    if (cfg->rank_high_score < cfg->rank_ordinary_score)
        return BAD("rank.high_score", "key 'rank.high_score': must be at least "
                   "rank.ordinary_score (%" PRId64 "), got %" PRId64, cfg->rank_ordinary_score,
                   cfg->rank_high_score);
    const char *cur = cfg->report_currency;
    if (cur[0] && !(strlen(cur) == 3 && isupper((unsigned char)cur[0]) &&
                    isupper((unsigned char)cur[1]) && isupper((unsigned char)cur[2])))
        return BAD("report.currency", "key 'report.currency': expected \"\" or a three-letter "
                   "ISO 4217 code such as \"EUR\", got \"%s\"", cur);
    if (rules_validate(&cfg->rules, err) != CS_OK) {
        *key = "rules";
        return CS_ECONFIG;
    }
    return validate_import(cfg, err, key);
}

/* As cfg_validate, without the key. */
int config_validate(const cs_config *cfg, cs_err *err)
{
    cs_err local;
    const char *key;
    if (!err)
        err = &local;
    return cfg_validate(cfg, err, &key);
}

/* FNV-1a 64 steps over bytes, an int64 (little-endian) and a string. */
static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t fnv_i64(uint64_t h, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    return fnv_bytes(h, b, 8);
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    size_t n = strlen(s);
    return fnv_bytes(fnv_i64(h, (int64_t)n), s, n);
}

/* FNV-1a 64 over the result-changing values, each integer as 8
 * little-endian bytes and each string with its length: the same in every
 * process and on every machine. */
uint64_t config_hash(const cs_config *cfg)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv_i64(h, cfg->session_gap_us);
    h = fnv_i64(h, cfg->session_max_duration_us);
    h = fnv_i64(h, cfg->session_max_lateness_us);
    h = fnv_i64(h, cfg->session_mode);
    if (cfg->session_split)   /* only when set: configs without it keep their hash */
        h = fnv_i64(h, 1000 + cfg->session_split);
    h = fnv_i64(h, cfg->report_period);
    h = fnv_str(h, cfg->report_timezone);
    h = fnv_i64(h, cfg->rank_top_k);
    h = fnv_i64(h, cfg->rank_w_recency);
    h = fnv_i64(h, cfg->rank_w_frequency);
    h = fnv_i64(h, cfg->rank_w_monetary);
    h = fnv_i64(h, cfg->rank_w_intent);
    h = fnv_i64(h, cfg->rank_w_risk);
    h = fnv_i64(h, cfg->rank_high_score);
    h = fnv_i64(h, cfg->rank_ordinary_score);
    h = fnv_i64(h, cfg->rank_risk_level);
    const cs_rules *rs = &cfg->rules;
    h = fnv_i64(h, rs->nsegments);
    for (int i = 0; i < rs->nsegments; i++)
        h = fnv_str(h, rs->segments[i]);
    h = fnv_i64(h, rs->nrules);
    for (int i = 0; i < rs->nrules; i++) {
        h = fnv_i64(h, rs->rule[i].segment);
        h = fnv_i64(h, rs->rule[i].ncond);
        for (int c = 0; c < rs->rule[i].ncond; c++) {
            h = fnv_i64(h, rs->rule[i].cond[c].feature);
            h = fnv_i64(h, rs->rule[i].cond[c].op);
            h = fnv_i64(h, rs->rule[i].cond[c].value);
        }
    }
    return h;
}

