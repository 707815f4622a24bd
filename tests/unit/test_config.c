/* test_config.c — unit tests for config.c / config_load.c: defaults and
 * configs/default.cfg agree, the weekly example loads, sizes, every error
 * path (with file name and line), text overrides, write -> reload round
 * trip, the key listing, and the config hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clickseg/config.h"

#define US 1000000LL

/* A heap config (a cs_config is ~80 KB) filled with the defaults. */
static cs_config *new_defaults(void)
{
    cs_config *c = malloc(sizeof *c);
    assert_non_null(c);
    config_defaults(c);
    return c;
}

/* Path of a file in the source tree's configs/ directory: CTest sets
 * CLICKSEG_TEST_DATA to <src>/tests/data (which need not exist, so the two
 * components are removed as text); without it, the current directory is
 * taken to be the source tree. */
static void configs_path(char *buf, size_t n, const char *file)
{
    const char *data = getenv("CLICKSEG_TEST_DATA");
    char root[4096] = ".";
    if (data && strlen(data) < sizeof root) {
        strcpy(root, data);
        for (int up = 0; up < 2; up++) {
            size_t len = strlen(root);
            while (len > 1 && root[len - 1] == '/')
                root[--len] = '\0';
            char *slash = strrchr(root, '/');
            if (slash)
                *(slash == root ? slash + 1 : slash) = '\0';
        }
    }
    snprintf(buf, n, "%s/configs/%s", root, file);
}

/* Fails unless two rule sets are the same. */
static void assert_rules_equal(const cs_rules *a, const cs_rules *b)
{
    assert_int_equal(a->nsegments, b->nsegments);
    for (int i = 0; i < a->nsegments; i++)
        assert_string_equal(a->segments[i], b->segments[i]);
    assert_int_equal(a->bot_segment, b->bot_segment);
    assert_int_equal(a->nrules, b->nrules);
    for (int i = 0; i < a->nrules; i++) {
        assert_int_equal(a->rule[i].segment, b->rule[i].segment);
        assert_int_equal(a->rule[i].ncond, b->rule[i].ncond);
        for (int k = 0; k < a->rule[i].ncond; k++) {
            assert_int_equal(a->rule[i].cond[k].feature, b->rule[i].cond[k].feature);
            assert_int_equal(a->rule[i].cond[k].op, b->rule[i].cond[k].op);
            assert_int_equal(a->rule[i].cond[k].value, b->rule[i].cond[k].value);
        }
    }
}

/* Fails unless two configs hold the same values (source_path aside). */
static void assert_config_equal(const cs_config *a, const cs_config *b)
{
    assert_int_equal(a->ninputs, b->ninputs);
    for (int i = 0; i < a->ninputs; i++)
        assert_string_equal(a->inputs[i], b->inputs[i]);
    assert_string_equal(a->output_dir, b->output_dir);
    assert_int_equal(a->output_sessions, b->output_sessions);
    assert_int_equal(a->memory_per_rank, b->memory_per_rank);
    assert_int_equal(a->shared_memory, b->shared_memory);
    assert_int_equal(a->session_gap_us, b->session_gap_us);
    assert_int_equal(a->session_max_duration_us, b->session_max_duration_us);
    assert_int_equal(a->session_max_lateness_us, b->session_max_lateness_us);
    assert_int_equal(a->session_mode, b->session_mode);
    assert_int_equal(a->report_period, b->report_period);
    assert_string_equal(a->report_timezone, b->report_timezone);
    assert_string_equal(a->report_currency, b->report_currency);
    assert_string_equal(a->checkpoint_dir, b->checkpoint_dir);
    assert_int_equal(a->checkpoint_every, b->checkpoint_every);
    assert_int_equal(a->checkpoint_interval_us, b->checkpoint_interval_us);
    assert_rules_equal(&a->rules, &b->rules);
    assert_int_equal(config_hash(a), config_hash(b));
    assert_string_equal(a->import_format, b->import_format);
    assert_int_equal(a->import_split, b->import_split);
    assert_string_equal(a->import_timezone, b->import_timezone);
    assert_true(a->import_max_reject_share == b->import_max_reject_share);
    assert_int_equal(a->import_duplicates, b->import_duplicates);
    assert_string_equal(a->import_csv_delimiter, b->import_csv_delimiter);
    assert_int_equal(a->import_csv_header, b->import_csv_header);
    assert_string_equal(a->import_csv_time, b->import_csv_time);
    assert_string_equal(a->import_csv_time_format, b->import_csv_time_format);
    assert_string_equal(a->import_csv_user, b->import_csv_user);
    assert_string_equal(a->import_csv_event, b->import_csv_event);
    assert_string_equal(a->import_csv_events, b->import_csv_events);
    assert_string_equal(a->import_csv_product, b->import_csv_product);
    assert_string_equal(a->import_csv_category, b->import_csv_category);
    assert_string_equal(a->import_csv_brand, b->import_csv_brand);
    assert_string_equal(a->import_csv_price, b->import_csv_price);
    assert_int_equal(a->import_csv_price_unit, b->import_csv_price_unit);
    assert_string_equal(a->import_csv_session, b->import_csv_session);
}

/* A config where every key differs from its default. */
static const char *const non_default_text =
    "input = ( \"/data/a \\\"quoted\\\" \\\\ name.h5\", \"/data/b/*.h5\" );\n"
    "output = { dir = \"/tmp/out dir\"; sessions = true; };\n"
    "memory_per_rank = \"3G\";\n"
    "shared_memory = false;\n"
    "session = { gap = 600; max_duration = 7200; max_lateness = 60; mode = \"source\"; split = \"week\"; };\n"
    "report = { period = \"month\"; timezone = \"America/New_York\"; currency = \"USD\"; };\n"
    "checkpoint = { dir = \"/scratch/ck\"; every = 5; interval = 60; };\n"
    "rules = (\n"
    "  { segment = \"robot\"; when = ( { feature = \"min_gap_ms\"; op = \"<\"; value = 50; } ); },\n"
    "  { segment = \"odd_n\xc3\xa4me\"; when = ( \"revenue != -7\", \"entry_hour == 3\" ); },\n"
    "  { segment = \"other\"; when = ( ); }\n"
    ");\n"
    "import = { format = \"otto\"; split = \"week\"; timezone = \"+05:30\";\n"
    "  max_reject_share = \"2.5%\"; duplicates = \"drop\";\n"
    "  csv = { delimiter = \"tab\"; header = false; time = \"1\"; time_format = \"%d/%m/%Y\";\n"
    "    user = \"2\"; event = \"\"; events = \"*=page_view\"; product = \"3\"; category = \"4\";\n"
    "    brand = \"5\"; price = \"6\"; price_unit = \"micros\"; session = \"7\"; }; };\n";

/* Loads text over fresh defaults into a new config; asserts success. */
static cs_config *load_ok(const char *text)
{
    cs_config *c = new_defaults();
    cs_err err;
    cs_err_clear(&err);
    if (config_load_string(c, text, "test.cfg", &err) != CS_OK)
        fail_msg("load failed: %s", err.msg);
    return c;
}

/* Loading text must fail with CS_ECONFIG, a message containing want, and
 * leave the config unchanged. */
static void load_fails(const char *text, const char *want)
{
    cs_config *c = new_defaults(), *d = new_defaults();
    cs_err err;
    cs_err_clear(&err);
    int rc = config_load_string(c, text, "t.cfg", &err);
    if (rc != CS_ECONFIG || !strstr(err.msg, want))
        fail_msg("for:\n%s\ngot rc %d \"%s\"\nwant \"%s\"", text, rc, err.msg, want);
    assert_config_equal(c, d);
    assert_string_equal(c->source_path, "");
    free(c);
    free(d);
}

/* libconfig 1.5 reads an integer literal past 32 bits without an L modulo
 * 2^32: the loader reads the literal again, so 4294969096 (which libconfig
 * makes 1800) is an error naming the line, and decimal with a leading zero,
 * hex, negative and 64-bit literals still load as written. */
static void test_int_literals(void **state)
{
    (void)state;
    load_fails("session = {\n  gap = 4294969096;\n};",
               "t.cfg:2: key 'session.gap': 4294969096 does not fit in a 32-bit integer "
               "(libconfig would read 1800); write 4294969096L for a 64-bit one");
    load_fails("rank = { top_k : 99999999999 };", "t.cfg:1: key 'rank.top_k': 99999999999 does not fit");
    load_fails("session = { gap = 4294969096L; };", "must be at most");
    load_fails("session = { gap =\n  4294969096; };", "4294969096 does not fit");   /* value on the next line */
    load_fails("rules = ( { segment = \"x\"; when = ( { feature = \"events\"; op = \">=\"; "
               "value = 4294967297; } ); }, { segment = \"y\"; } );",
               "key 'rules[0].when[0]': 4294967297 does not fit");
    /* Two settings of one name on a line: the wrapped one is found, though
     * the other holds the same low 32 bits as written. */
    load_fails("rules = ( { segment = \"x\"; when = ( { feature = \"events\"; op = \">=\"; "
               "value = 10; }, { feature = \"events\"; op = \"<=\"; value = 4294967306; } ); }, "
               "{ segment = \"y\"; } );", "4294967306 does not fit");
    /* The name in a comment or a string is passed over, even with a
     * literal there that would wrap to the value (an old line commented
     * out). */
    cs_config *k = load_ok("/* gap = 4294969096 */ session = { /* was gap: 60 */ gap = 1800; };"
                           " # gap = 4294969096\n"
                           "output = { dir = \"/data/gap=4294969096/out\"; }; // gap = 5\n");
    assert_int_equal(k->session_gap_us, INT64_C(1800000000));
    free(k);
    load_fails("rules = ( { segment = \"A/B\"; } );", "segment name 'A/B': character 2 ('/')");
    load_fails("rules = ( { segment = \"buyers, now\"; } );", "character 7 (',')");
    load_fails("rules = ( { segment = \"1st\"; } );", "a digit may not come first");
    cs_config *u = load_ok("rules = ( { segment = \"K\xc3\xa4ufer_2\"; } );");
    free(u);
    load_fails("rank = {\n  high_score = 10;\n};", "t.cfg:2: key 'rank.high_score': must be at "
               "least rank.ordinary_score (16), got 10");
    cs_config *c = load_ok("session = { gap = 010; max_duration = 0x10; };\n"
                           "memory_per_rank = 3000000000L;");
    assert_int_equal(c->session_gap_us, INT64_C(10000000));
    assert_int_equal(c->session_max_duration_us, INT64_C(16000000));
    assert_int_equal(c->memory_per_rank, INT64_C(3000000000));
    free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    cs_config *c = new_defaults();
    assert_int_equal(c->ninputs, 0);
    assert_string_equal(c->output_dir, "clickseg-out");
    assert_int_equal(c->output_sessions, 0);
    assert_int_equal(c->memory_per_rank, 536870912);
    assert_int_equal(c->shared_memory, 1);
    assert_int_equal(c->session_gap_us, 1800 * US);
    assert_int_equal(c->session_max_duration_us, 0);
    assert_int_equal(c->session_max_lateness_us, 3600 * US);
    assert_int_equal(c->session_mode, SESSION_GAP);
    assert_int_equal(c->session_split, 0);
    assert_int_equal(c->report_period, PERIOD_DAY);
    assert_string_equal(c->report_timezone, "UTC");
    assert_string_equal(c->checkpoint_dir, "");
    assert_int_equal(c->checkpoint_every, 0);
    assert_int_equal(c->checkpoint_interval_us, 3600 * US);
    assert_string_equal(c->source_path, "");
    cs_rules def;
    rules_default(&def);
    assert_rules_equal(&c->rules, &def);
    cs_err err;
    assert_int_equal(config_validate(c, &err), CS_OK);
    free(c);
}

static void test_default_cfg_file(void **state)
{
    (void)state;
    char path[4096];
    configs_path(path, sizeof path, "default.cfg");
    /* load over a config where every key differs: the file must set all */
    cs_config *c = load_ok(non_default_text), *d = new_defaults();
    cs_err err;
    cs_err_clear(&err);
    if (config_load_file(c, path, &err) != CS_OK)
        fail_msg("%s", err.msg);
    assert_config_equal(c, d);
    assert_string_equal(c->source_path, path);
    free(c);
    free(d);
}

static void test_example_weekly(void **state)
{
    (void)state;
    char path[4096];
    configs_path(path, sizeof path, "example-weekly.cfg");
    cs_config *c = new_defaults();
    cs_err err;
    cs_err_clear(&err);
    if (config_load_file(c, path, &err) != CS_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(c->ninputs, 2);
    assert_int_equal(c->report_period, PERIOD_WEEK);
    assert_string_equal(c->report_timezone, "Europe/Berlin");
    assert_int_equal(c->memory_per_rank, 2LL << 30);
    assert_int_equal(c->output_sessions, 1);
    assert_int_equal(c->session_max_duration_us, 14400 * US);
    assert_int_equal(c->rules.nrules, 9);
    assert_int_equal(c->rules.nsegments, 5);
    assert_int_equal(rules_segment_index(&c->rules, "returner"), 2);
    assert_int_equal(c->rules.rule[1].cond[1].feature, F_MIN_GAP_MS);
    free(c);
}

static void test_sizes(void **state)
{
    (void)state;
    const struct { const char *s; int64_t v; } good[] = {
        { "512M", 536870912LL }, { "2G", 2147483648LL }, { "64K", 65536 },
        { "1T", 1099511627776LL }, { "512", 512 }, { "512B", 512 }, { "2GiB", 2147483648LL },
        { "2gib", 2147483648LL }, { "64kb", 65536 }, { "7m", 7340032 },
        { "8388607T", 8388607LL << 40 }, { "9223372036854775807", INT64_MAX },
    };
    cs_err err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = 0;
        cs_err_clear(&err);
        if (config_parse_size(good[i].s, &v, &err) != CS_OK)
            fail_msg("%s: %s", good[i].s, err.msg);
        assert_int_equal(v, good[i].v);
    }
    const struct { const char *s, *msg; } bad[] = {
        { "12X", "unknown unit 'X'" }, { "-1", "expected bytes" }, { "", "expected bytes" },
        { "1.5G", "fractions are not supported" }, { "0", "must be positive" },
        { "0M", "must be positive" }, { "M", "expected bytes" }, { "1iB", "unknown unit" },
        { "8388608T", "too large" }, { "9223372036854775808", "too large" },
        { " 5M", "expected bytes" }, { "5 M", "unknown unit" }, { "5MBB", "unknown unit" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        cs_err_clear(&err);
        assert_int_equal(config_parse_size(bad[i].s, &v, &err), CS_ECONFIG);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].s, err.msg, bad[i].msg);
        assert_int_equal(v, 42);
    }
}

static void test_memory_key(void **state)
{
    (void)state;
    cs_config *c = load_ok("memory_per_rank = 1073741824;");
    assert_int_equal(c->memory_per_rank, 1LL << 30);
    free(c);
    c = load_ok("memory_per_rank = 4294967296L;");
    assert_int_equal(c->memory_per_rank, 4LL << 30);
    free(c);
    c = load_ok("memory_per_rank = \"1M\";");
    assert_int_equal(c->memory_per_rank, 1 << 20);
    free(c);
    load_fails("memory_per_rank = \"1023K\";", "t.cfg:1: key 'memory_per_rank': must be at least");
    load_fails("memory_per_rank = 1000;", "t.cfg:1: key 'memory_per_rank': must be at least");
    load_fails("\nmemory_per_rank = \"12X\";", "t.cfg:2: key 'memory_per_rank': bad size '12X'");
    load_fails("memory_per_rank = \"1.5G\";", "fractions are not supported");
    load_fails("memory_per_rank = -1;", "must be at least");
    load_fails("memory_per_rank = 4294967296;", "L");   /* libconfig wraps it to 0 */
    load_fails("memory_per_rank = 1.5;", "key 'memory_per_rank': expected a size");
}

static void test_key_errors(void **state)
{
    (void)state;
    load_fails("session = {\n  gap = 1800;\n}; \nfoo = 1;", "t.cfg:4: unknown key 'foo' (known keys: input, output, memory_per_rank, shared_memory, max_reject_share, max_late_share, session, report, rank, checkpoint, rules, import)");
    load_fails("session = {\n  gapp = 60;\n};", "t.cfg:2: unknown key 'session.gapp' (known keys in 'session': gap, max_duration, max_lateness, mode, split)");
    load_fails("import = { csv = { colour = 1; }; };", "t.cfg:1: unknown key 'import.csv.colour'");
    load_fails("import = { max_reject_share = 1.5; };", "t.cfg:1: key 'import.max_reject_share': must be from 0 to 1");
    load_fails("import = { max_reject_share = \"5 %\"; };", "key 'import.max_reject_share': expected a share");
    load_fails("import = { max_reject_share = true; };", "key 'import.max_reject_share': expected a share");
    load_fails("max_reject_share = 2;", "t.cfg:1: key 'max_reject_share': must be from 0 to 1");
    load_fails("max_reject_share = \"-1%\";", "key 'max_reject_share'");
    load_fails("max_late_share = 1.01;", "t.cfg:1: key 'max_late_share': must be from 0 to 1");
    cs_config *lt = load_ok("max_late_share = \"50%\";");
    assert_true(lt->max_late_share == 0.5);
    free(lt);
    cs_config *r = load_ok("max_reject_share = \"5%\";");
    assert_true(r->max_reject_share > 0.0499 && r->max_reject_share < 0.0501);
    free(r);
    load_fails("import = { split = \"year\"; };", "key 'import.split': expected one of \"day\", \"week\", \"month\", \"none\"");
    load_fails("import = { timezone = \"Mars/Olympus\"; };", "key 'import.timezone'");
    load_fails("import = { csv = { delimiter = \";;\"; }; };", "t.cfg:1: key 'import.csv.delimiter': must be one character");
    load_fails("import = { csv = { time_format = \"%Y-%Q\"; }; };", "t.cfg:1: key 'import.csv.time_format': time pattern");
    load_fails("import = { csv = { events = \"view=looked\"; }; };", "t.cfg:1: key 'import.csv.events': event map entry 'view=looked'");
    load_fails("import = { csv = { user = \"\"; }; };", "key 'import.csv.user': must not be empty");
    load_fails("output = {\n dir = \"x\";\n deeper = { a = 1; };\n};", "t.cfg:3: unknown key 'output.deeper'");
    load_fails("report = { period = \"day\"; x = { y = { z = 1; }; }; };", "unknown key 'report.x'");
    load_fails("\n\nsession = { gap = \"30\"; };",
               "t.cfg:3: key 'session.gap': expected an integer number of seconds, got a string");
    load_fails("session = { gap = 1.5; };", "key 'session.gap': expected an integer number of seconds, got a floating-point number");
    load_fails("output = { sessions = 1; };", "key 'output.sessions': expected true or false, got an integer");
    load_fails("output = { dir = \"\"; };", "key 'output.dir': must not be empty");
    load_fails("session = 5;", "key 'session': expected a group { ... }, got an integer");
    load_fails("input = 5;", "key 'input': expected a string or a list of strings, got an integer");
    load_fails("input = ( \"a\",\n 5 );", "key 'input': expected a string (a path), got an integer");
    load_fails("input = ( \"\" );", "an empty path");
    load_fails("session = { gap = 0; };", "key 'session.gap': must be at least 1 (seconds), got 0");
    load_fails("session = { max_lateness = -5; };", "key 'session.max_lateness': must be at least 0");
    load_fails("checkpoint = { every = -1; };", "key 'checkpoint.every': must be at least 0 (a count), got -1");
    load_fails("checkpoint = { every = \"5\"; };", "key 'checkpoint.every': expected a non-negative integer, got a string");
    load_fails("session = { mode = \"gapp\"; };", "key 'session.mode': expected one of \"gap\", \"source\", got \"gapp\"");
    load_fails("report = { period = \"year\"; };", "expected one of \"day\", \"week\", \"month\", got \"year\"");
    load_fails("report = { period = 7; };", "key 'report.period': expected a string, got an integer");
    load_fails("report = {\n timezone = \"Mars/Olympus\"; };", "t.cfg:2: key 'report.timezone': timezone 'Mars/Olympus'");
    load_fails("report = { timezone = \"+5:30\"; };", "+HH:MM");
    load_fails("report = { currency = \"euro\"; };", "key 'report.currency': expected");
    /* cross-key: blamed on the max_duration line */
    load_fails("session = {\n gap = 1800;\n max_duration = 600;\n};",
               "t.cfg:3: key 'session.max_duration': must be 0 (no limit) or at least session.gap (1800 s), got 600 s");
    load_fails("session = {\n max_duration = 600;\n};", "t.cfg:2: key 'session.max_duration'");
}

static void test_rule_errors(void **state)
{
    (void)state;
    load_fails("rules = (\n  { segment = \"a\"; when = ( \"purchase >= 1\" ); },\n  { segment = \"b\"; }\n);",
               "t.cfg:2: key 'rules[0].when[0]': condition 'purchase >= 1': unknown feature 'purchase'");
    load_fails("rules = (\n { segment = \"b\"; },\n { segment = \"a\";\n   when = ( { feature = \"purchase\"; op = \">=\"; value = 1; } ); },\n { segment = \"b\"; }\n);",
               "t.cfg:4: key 'rules[1].when[0].feature': unknown feature 'purchase'");
    load_fails("rules = ( { segment = \"a\"; when = ( \"events => 1\" ); }, { segment = \"b\"; } );",
               "unknown operator '=>'");
    load_fails("rules = ( { segment = \"a\"; when = ( { feature = \"events\"; op = \"=\"; value = 1; } ); }, { segment = \"b\"; } );",
               "key 'rules[0].when[0].op': unknown operator '='");
    load_fails("rules = ( { segment = \"a\"; when = ( \"events >= 1.5\" ); }, { segment = \"b\"; } );",
               "value '1.5' is not an integer");
    load_fails("rules = ( { segment = \"a\"; when = ( { feature = \"events\"; op = \">=\"; value = 1.5; } ); }, { segment = \"b\"; } );",
               "key 'rules[0].when[0].value': expected an integer, got a floating-point number");
    load_fails("rules = ( { segment = \"a\"; when = ( { feature = \"events\"; op = \">=\"; value = \"1\"; } ); }, { segment = \"b\"; } );",
               "key 'rules[0].when[0].value': expected an integer, got a string");
    load_fails("rules = ( { segment = \"a\"; when = ( { feature = \"events\"; op = \">=\"; } ); }, { segment = \"b\"; } );",
               "key 'rules[0].when[0]': missing 'value'");
    load_fails("rules = ( { segment = \"a\"; when = ( { feature = \"events\"; op = \">=\"; value = 1; bar = 2; } ); }, { segment = \"b\"; } );",
               "unknown key 'rules[0].when[0].bar'");
    load_fails("rules = ( { segment = \"a\"; foo = 1; } );", "unknown key 'rules[0].foo' (known keys in a rule: segment, when)");
    load_fails("rules = (\n { when = ( \"events >= 1\" ); } );", "t.cfg:2: key 'rules[0]': missing 'segment'");
    load_fails("rules = ( { segment = 3; } );", "key 'rules[0].segment': expected a string");
    load_fails("rules = ( { segment = \"\"; } );", "a segment name must not be empty");
    load_fails("rules = ( { segment = \"a\"; when = \"events >= 1\"; } );", "key 'rules[0].when': expected a list of conditions");
    load_fails("rules = ( { segment = \"a\"; when = ( 5 ); } );", "key 'rules[0].when[0]': expected a condition");
    load_fails("rules = ( \"a\" );", "key 'rules[0]': expected a group");
    load_fails("rules = { a = 1; };", "key 'rules': expected a list of rules");
    load_fails("rules = ( );", "rules: at least one rule is needed");
    load_fails("rules = (\n { segment = \"a\"; },\n { segment = \"b\"; when = ( \"events >= 1\" ); }\n);",
               "t.cfg:3: key 'rules': rules: the last rule (segment 'b') must have no conditions");
    load_fails("rules = ( { segment = \"a\"; when = ( \"events >= 1\", \"events >= 2\", \"events >= 3\","
               " \"events >= 4\", \"events >= 5\", \"events >= 6\", \"events >= 7\", \"events >= 8\","
               " \"events >= 9\" ); }, { segment = \"b\"; } );", "9 conditions, at most 8");
}

static void test_rules_replace_and_partial_load(void **state)
{
    (void)state;
    /* a file with only session.gap changes only that */
    cs_config *c = load_ok("session = { gap = 900; };"), *d = new_defaults();
    assert_int_equal(c->session_gap_us, 900 * US);
    c->session_gap_us = d->session_gap_us;
    assert_config_equal(c, d);
    assert_string_equal(c->source_path, "test.cfg");
    free(c);
    /* a rules key replaces the defaults entirely; both condition forms */
    c = load_ok("rules = ( { segment = \"big\"; when = ( \"events >= 50\","
                " { feature = \"revenue\"; op = \">\"; value = 10000L; } ); },"
                " { segment = \"small\"; } );");
    assert_int_equal(c->rules.nrules, 2);
    assert_int_equal(c->rules.nsegments, 2);
    assert_int_equal(c->rules.bot_segment, -1);
    assert_int_equal(c->rules.rule[0].ncond, 2);
    assert_int_equal(c->rules.rule[0].cond[1].feature, F_REVENUE);
    assert_int_equal(c->rules.rule[0].cond[1].op, OP_GT);
    assert_int_equal(c->rules.rule[0].cond[1].value, 10000);
    /* the file's input replaces the previous list; a single string works */
    cs_err err;
    assert_int_equal(config_load_string(c, "input = \"one.h5\";", "x", &err), CS_OK);
    assert_int_equal(c->ninputs, 1);
    assert_string_equal(c->inputs[0], "one.h5");
    assert_int_equal(c->rules.nrules, 2);   /* untouched by the second file */
    free(c);
    free(d);
}

static void test_files(void **state)
{
    (void)state;
    cs_config *c = new_defaults();
    cs_err err;
    assert_int_equal(config_load_file(c, "/nonexistent/dir/x.cfg", &err), CS_ECONFIG);
    assert_string_equal(err.msg, "/nonexistent/dir/x.cfg: cannot read config file: No such file or directory");
    assert_int_equal(config_load_file(c, "/tmp", &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "/tmp: cannot read config file: Is a directory"));

    char path[] = "/tmp/clickseg-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("session = {\n  gap = 600;\n  mode = ;\n};\n", f);   /* no value */
    fclose(f);
    assert_int_equal(config_load_file(c, path, &err), CS_ECONFIG);
    char want[128];
    snprintf(want, sizeof want, "%s:3: syntax error", path);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("got \"%s\", want prefix \"%s\"", err.msg, want);
    f = fopen(path, "w");
    fputs("# ok so far\nreport = {\n  period = \"week\";\n  colour = \"red\";\n};\n", f);
    fclose(f);
    assert_int_equal(config_load_file(c, path, &err), CS_ECONFIG);
    snprintf(want, sizeof want, "%s:4: unknown key 'report.colour'", path);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("got \"%s\", want prefix \"%s\"", err.msg, want);
    unlink(path);

    assert_int_equal(config_load_string(c, "a = 1;\nb = ;\n", "inline", &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "inline:2: syntax error"));
    free(c);
}

static void test_config_set(void **state)
{
    (void)state;
    cs_config *c = new_defaults(), *d = new_defaults();
    cs_err err;
    assert_int_equal(config_set(c, "session.gap", "600", &err), CS_OK);
    assert_int_equal(c->session_gap_us, 600 * US);
    assert_int_equal(config_set(c, "memory_per_rank", "2G", &err), CS_OK);
    assert_int_equal(c->memory_per_rank, 2LL << 30);
    assert_int_equal(config_set(c, "output.sessions", "true", &err), CS_OK);
    assert_int_equal(c->output_sessions, 1);
    assert_int_equal(config_set(c, "report.timezone", "+05:30", &err), CS_OK);
    assert_int_equal(config_set(c, "report.period", "month", &err), CS_OK);
    assert_int_equal(c->report_period, PERIOD_MONTH);
    assert_int_equal(config_set(c, "input", "x.h5", &err), CS_OK);
    assert_int_equal(c->ninputs, 1);
    memcpy(d, c, sizeof *d);
    assert_int_equal(config_set(c, "session.gap", "10m", &err), CS_ECONFIG);
    assert_string_equal(err.msg, "key 'session.gap': expected an integer number of seconds, got \"10m\"");
    assert_int_equal(config_set(c, "session.gapp", "1", &err), CS_ECONFIG);
    assert_string_equal(err.msg, "unknown key 'session.gapp'");
    assert_int_equal(config_set(c, "session", "1", &err), CS_ECONFIG);
    assert_int_equal(config_set(c, "report.timezone", "Nowhere/City", &err), CS_ECONFIG);
    assert_int_equal(config_set(c, "rules", "x >= 1", &err), CS_ECONFIG);
    assert_int_equal(config_set(c, "output.sessions", "yes", &err), CS_ECONFIG);
    assert_config_equal(c, d);
    free(c);
    free(d);
}

/* config_dump of c, reloaded over fresh defaults, must give c back. */
static void roundtrip(const cs_config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_dump(c, f);
    fclose(f);
    cs_config *back = new_defaults();
    cs_err err;
    cs_err_clear(&err);
    if (config_load_string(back, text, "dump", &err) != CS_OK)
        fail_msg("reload failed: %s\n%s", err.msg, text);
    assert_config_equal(back, c);
    free(back);
    free(text);
}

static void test_write_roundtrip(void **state)
{
    (void)state;
    cs_config *c = new_defaults();
    roundtrip(c);
    free(c);
    c = load_ok(non_default_text);
    assert_string_equal(c->inputs[0], "/data/a \"quoted\" \\ name.h5");
    assert_string_equal(c->rules.segments[1], "odd_n\xc3\xa4me");
    cs_err err;
    assert_int_equal(config_set(c, "memory_per_rank", "1048577", &err), CS_OK);
    roundtrip(c);
    strcpy(c->output_dir, "tab\there\x01");
    roundtrip(c);
    free(c);
}

static void test_print_keys(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_print_keys(f);
    fclose(f);
    const char *keys[] = { "input", "output.dir", "output.sessions", "memory_per_rank",
                           "session.gap", "session.max_duration", "session.max_lateness",
                           "session.mode", "report.period", "report.timezone", "rules", NULL };
    for (int i = 0; keys[i]; i++)
        if (!strstr(text, keys[i]))
            fail_msg("key %s missing from:\n%s", keys[i], text);
    assert_non_null(strstr(text, "512M"));
    free(text);
}

static void test_hash(void **state)
{
    (void)state;
    cs_config *c = new_defaults(), *d = new_defaults();
    uint64_t h = config_hash(c);
    /* a fixed value: the hash depends on values only, in every process */
    assert_int_equal(h, 0xe6beacb8e53b216aULL);
    assert_int_equal(config_hash(d), h);
    /* values that do not change results do not change the hash */
    cs_err err;
    config_set(d, "memory_per_rank", "4G", &err);
    config_set(d, "output.dir", "elsewhere", &err);
    config_set(d, "input", "x.h5", &err);
    d->output_sessions = 1;
    assert_int_equal(config_hash(d), h);
    /* values that do, do */
    config_set(d, "session.gap", "1801", &err);
    assert_int_not_equal(config_hash(d), h);
    config_defaults(d);
    config_set(d, "report.timezone", "+00:00", &err);
    assert_int_not_equal(config_hash(d), h);
    config_defaults(d);
    strcpy(d->rules.segments[3], "simple_visitor");
    assert_int_not_equal(config_hash(d), h);
    config_defaults(d);
    d->rules.rule[2].cond[3].value = 13;
    assert_int_not_equal(config_hash(d), h);
    config_defaults(d);
    config_set(d, "session.mode", "source", &err);
    assert_int_not_equal(config_hash(d), h);
    free(c);
    free(d);
}

static void test_validate(void **state)
{
    (void)state;
    cs_config *c = new_defaults();
    cs_err err;
    c->session_max_duration_us = 1800 * US;   /* == gap: fine */
    assert_int_equal(config_validate(c, &err), CS_OK);
    c->session_max_duration_us = 1799 * US;
    assert_int_equal(config_validate(c, &err), CS_ECONFIG);
    config_defaults(c);
    c->memory_per_rank = 1000;
    assert_int_equal(config_validate(c, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "memory_per_rank"));
    config_defaults(c);
    c->rules.rule[7].ncond = 1;
    assert_int_equal(config_validate(c, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "last rule"));
    config_defaults(c);
    strcpy(c->report_timezone, "Not/AZone");
    assert_int_equal(config_validate(c, &err), CS_ECONFIG);
    assert_non_null(strstr(err.msg, "key 'report.timezone'"));
    config_defaults(c);
    c->report_period = 3;
    assert_int_equal(config_validate(c, &err), CS_ECONFIG);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_default_cfg_file),
        cmocka_unit_test(test_example_weekly),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_memory_key),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_rule_errors),
        cmocka_unit_test(test_rules_replace_and_partial_load),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_config_set),
        cmocka_unit_test(test_write_roundtrip),
        cmocka_unit_test(test_print_keys),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_int_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
