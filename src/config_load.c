/* config_load.c — reading a libconfig file or string into a cs_config:
 * walks the libconfig tree against the key table (config_keys.h), checks
 * every type and value, parses the rules list in both condition syntaxes,
 * and reports each error as "FILE:LINE: key '...': ...". Pure C, no MPI. */
#include "clickseg/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_keys.h"

/* How a libconfig setting type reads in a message ("got a string"). */
static const char *setting_kind(int t)
{
    switch (t) {
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a floating-point number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    case CONFIG_TYPE_GROUP: return "a group";
    default: return "nothing";
    }
}

typedef struct loader {
    const char *name;   /* the file, or the name standing for a string */
    const char *text;   /* the string loaded (NULL: a file) */
    cs_config *cfg;
    cs_err *err;
} loader;

/* File of a setting (an @include'd file, or the loaded one). */
static const char *where_file(const loader *ld, const config_setting_t *s)
{
    return config_setting_source_file(s) ? config_setting_source_file(s) : ld->name;
}

/* Prefixes the error with "FILE:LINE: what" of setting s; returns the code. */
static int locate(const loader *ld, const config_setting_t *s, const char *what)
{
    return cs_err_wrap(ld->err, "%s:%u: %s", where_file(ld, s),
                       config_setting_source_line(s), what);
}

/* A "FILE:LINE: key 'path': expected X, got Y" error. */
static int type_error(const loader *ld, const config_setting_t *s, const char *path,
                      const char *expects)
{
    return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s': expected %s, got %s",
                      where_file(ld, s), config_setting_source_line(s), path, expects,
                      setting_kind(config_setting_type(s)));
}

/* The setting's source text from its line on, into buf (up to n - 1
 * bytes: several lines, so a value on the line after its key is there);
 * "" when it cannot be read. */
static void source_text(const loader *ld, const config_setting_t *s, char *buf, size_t n)
{
    unsigned want = config_setting_source_line(s), at = 1;
    buf[0] = '\0';
    if (!config_setting_source_file(s) && ld->text) {
        const char *p = ld->text;
        while (at < want && (p = strchr(p, '\n')))
            p++, at++;
        if (p && at == want)
            snprintf(buf, n, "%s", p);
        return;
    }
    FILE *f = fopen(where_file(ld, s), "r");
    if (!f)
        return;
    int ch;
    while (at < want && (ch = getc(f)) != EOF)
        at += ch == '\n';
    size_t got = at == want ? fread(buf, 1, n - 1, f) : 0;
    buf[got] = '\0';
    fclose(f);
}

static int ident_char(char c)
{
    return c == '_' || c == '-' || c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* text with what libconfig skips (comments: block, "//" and "#" to the
 * line's end; string contents) turned into spaces, newlines kept, so a
 * name or number inside them is not taken for a setting. */
static void mask_comments_strings(char *text)
{
    for (char *p = text; *p; p++) {
        if (p[0] == '/' && p[1] == '*') {
            for (; *p && !(p[0] == '*' && p[1] == '/'); p++)
                if (*p != '\n')
                    *p = ' ';
            if (*p)
                p[0] = p[1] = ' ', p++;
        } else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            for (; *p && *p != '\n'; p++)
                *p = ' ';
            if (!*p)
                break;
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    *p++ = ' ';
                if (*p != '\n')
                    *p = ' ';
            }
            if (!*p)
                break;
        }
    }
}

/* libconfig 1.5 (Debian 12's) reads an integer literal past 32 bits that
 * has no L suffix into an int, without a word: 4294969096 loads as 1800.
 * So the setting's line is read again (comments and strings left out):
 * a literal given to its name there that lies outside 32 bits and whose
 * low 32 bits are the value loaded is that wrap, CS_ECONFIG. Every such
 * assignment on the line is looked at, not just the first: two settings of
 * one name can share a line (rule conditions' `value`). */
static int check_int_literal(const loader *ld, const config_setting_t *s, const char *path)
{
    const char *name = config_setting_name(s);
    if (config_setting_type(s) != CONFIG_TYPE_INT || !name)
        return CS_OK;
    long long loaded = config_setting_get_int64(s);
    char text[8192];
    source_text(ld, s, text, sizeof text);
    mask_comments_strings(text);
    const char *eol = strchr(text, '\n');
    size_t len = strlen(name);
    for (const char *p = strstr(text, name); p && (!eol || p < eol); p = strstr(p + 1, name)) {
        if ((p > text && ident_char(p[-1])) || ident_char(p[len]))
            continue;
        const char *q = p + len;
        q += strspn(q, " \t\r\n");
        if (*q != '=' && *q != ':')
            continue;
        q++;
        q += strspn(q, " \t\r\n");
        const char *digits = q + (*q == '-' || *q == '+');
        int hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
        char *end = NULL;
        long long v = hex ? (long long)strtoull(q, &end, 16) : strtoll(q, &end, 10);
        if (end == q || *end == 'L' || *end == '.' || *end == 'e' || *end == 'E')
            continue;   /* not a 32-bit integer literal */
        if ((v >= INT32_MIN && v <= INT32_MAX) ||
            (long long)(int32_t)(uint32_t)(unsigned long long)v != loaded)
            continue;
        return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s': %.*s does not fit in a "
                          "32-bit integer (libconfig would read %lld); write %.*sL for a "
                          "64-bit one", where_file(ld, s), config_setting_source_line(s), path,
                          (int)(end - q), q, loaded, (int)(end - q), q);
    }
    return CS_OK;
}

/* Lists every feature name, for messages. */
static void feature_list(char *buf, size_t n)
{
    buf[0] = '\0';
    for (int f = 0; f < F_NFEATURES; f++) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%s", f ? ", " : "", feature_name(f));
    }
}

/* Loads a condition group { feature = "..."; op = "..."; value = N; }. */
static int load_cond_group(loader *ld, const config_setting_t *g, const char *path,
                           cs_cond *c)
{
    const config_setting_t *m[3] = { NULL, NULL, NULL };   /* feature, op, value */
    static const char *const names[4] = { "feature", "op", "value", NULL };
    char sub[128], list[512];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
        int j = cfg_choice_index(names, config_setting_name(e));
        snprintf(sub, sizeof sub, "%s.%s", path, config_setting_name(e));
        if (j < 0)
            return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: unknown key '%s' (known keys in "
                              "a condition: feature, op, value)", where_file(ld, e),
                              config_setting_source_line(e), sub);
        int want = j == 2 ? CONFIG_TYPE_INT : CONFIG_TYPE_STRING;
        int t = config_setting_type(e);
        if (t != want && !(j == 2 && t == CONFIG_TYPE_INT64))
            return type_error(ld, e, sub, j == 2 ? "an integer" : "a string");
        m[j] = e;
    }
    for (int j = 0; j < 3; j++)
        if (!m[j])
            return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s': missing '%s'",
                              where_file(ld, g), config_setting_source_line(g), path, names[j]);
    const char *fname = config_setting_get_string(m[0]), *oname = config_setting_get_string(m[1]);
    c->feature = feature_index(fname);
    c->op = rules_parse_op(oname);
    c->value = config_setting_get_int64(m[2]);
    if (check_int_literal(ld, m[2], path) != CS_OK)
        return CS_ECONFIG;
    if (c->feature < 0) {
        feature_list(list, sizeof list);
        return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s.feature': unknown feature '%s' "
                          "(features: %s)", where_file(ld, m[0]),
                          config_setting_source_line(m[0]), path, fname, list);
    }
    if (c->op < 0)
        return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s.op': unknown operator '%s' "
                          "(use <, <=, >, >=, == or !=)", where_file(ld, m[1]),
                          config_setting_source_line(m[1]), path, oname);
    return CS_OK;
}

/* Loads one condition: a string "feature op value" or a group. */
static int load_cond(loader *ld, const config_setting_t *e, const char *path, cs_cond *c)
{
    int t = config_setting_type(e);
    if (t == CONFIG_TYPE_GROUP)
        return load_cond_group(ld, e, path, c);
    if (t != CONFIG_TYPE_STRING)
        return type_error(ld, e, path, "a condition: a string \"feature op value\" or a group "
                          "{ feature = \"...\"; op = \"...\"; value = N; }");
    if (rules_parse_cond(config_setting_get_string(e), c, ld->err) == CS_OK)
        return CS_OK;
    char what[128];
    snprintf(what, sizeof what, "key '%s'", path);
    return locate(ld, e, what);
}

/* Loads rule number i, { segment = "..."; when = ( ... ); }, into rs. */
static int load_rule(loader *ld, const config_setting_t *r, int i, cs_rules *rs)
{
    char path[64], sub[96];
    snprintf(path, sizeof path, "rules[%d]", i);
    if (!config_setting_is_group(r))
        return type_error(ld, r, path, "a group { segment = \"...\"; when = ( ... ); }");
    const config_setting_t *seg = NULL, *when = NULL;
    for (int j = 0; j < config_setting_length(r); j++) {
        const config_setting_t *m = config_setting_get_elem(r, (unsigned)j);
        const char *name = config_setting_name(m);
        snprintf(sub, sizeof sub, "%s.%s", path, name);
        if (strcmp(name, "segment") == 0 && config_setting_type(m) != CONFIG_TYPE_STRING)
            return type_error(ld, m, sub, "a string (the segment name)");
        if (strcmp(name, "segment") == 0)
            seg = m;
        else if (strcmp(name, "when") == 0)
            when = m;
        else
            return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: unknown key '%s' (known keys in "
                              "a rule: segment, when)", where_file(ld, m),
                              config_setting_source_line(m), sub);
    }
    if (!seg)
        return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s': missing 'segment'",
                          where_file(ld, r), config_setting_source_line(r), path);
    cs_cond conds[CS_MAX_CONDS];
    int n = when ? config_setting_length(when) : 0;
    snprintf(sub, sizeof sub, "%s.when", path);
    if (when && !config_setting_is_list(when) && !config_setting_is_array(when))
        return type_error(ld, when, sub, "a list of conditions ( \"feature op value\", ... )");
    if (n > CS_MAX_CONDS)
        return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s': %d conditions, at most %d",
                          where_file(ld, when), config_setting_source_line(when), sub, n,
                          CS_MAX_CONDS);
    for (int j = 0; j < n; j++) {
        snprintf(sub, sizeof sub, "%s.when[%d]", path, j);
        if (load_cond(ld, config_setting_get_elem(when, (unsigned)j), sub, &conds[j]) != CS_OK)
            return CS_ECONFIG;
    }
    if (rules_add(rs, config_setting_get_string(seg), conds, n, ld->err) != CS_OK)
        return locate(ld, seg, path);
    return CS_OK;
}

/* Loads the rules list; it replaces the rules in rs entirely. */
static int load_rules(loader *ld, const config_setting_t *s, cs_rules *rs)
{
    int n = config_setting_length(s);
    if (!config_setting_is_list(s) && !(config_setting_is_array(s) && n == 0))
        return type_error(ld, s, "rules", cfg_type_expects(KT_RULES));
    rules_init(rs);
    for (int i = 0; i < n; i++)
        if (load_rule(ld, config_setting_get_elem(s, (unsigned)i), i, rs) != CS_OK)
            return CS_ECONFIG;
    if (rules_validate(rs, ld->err) != CS_OK)
        return locate(ld, n ? config_setting_get_elem(s, (unsigned)n - 1) : s, "key 'rules'");
    return CS_OK;
}

/* Loads the input list (a string or a list/array of strings). */
static int load_paths(loader *ld, const config_setting_t *s, const char *path)
{
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_STRING) {
        if (cfg_set_from_text(ld->cfg, cfg_key_find(path), config_setting_get_string(s),
                              ld->err) != CS_OK)
            return locate(ld, s, "key 'input'");
        return CS_OK;
    }
    if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
        return type_error(ld, s, path, cfg_type_expects(KT_PATHS));
    int n = config_setting_length(s);
    if (n > CS_MAX_INPUTS)
        return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s': at most %d inputs, got %d",
                          where_file(ld, s), config_setting_source_line(s), path,
                          CS_MAX_INPUTS, n);
    memset(ld->cfg->inputs, 0, sizeof ld->cfg->inputs);
    ld->cfg->ninputs = 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return type_error(ld, e, path, "a string (a path)");
        const char *v = config_setting_get_string(e);
        if (!*v)
            return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: key '%s': an empty path",
                              where_file(ld, e), config_setting_source_line(e), path);
        if (cfg_copy_field(ld->cfg->inputs[i], CS_PATH_MAX, v, ld->err) != CS_OK)
            return locate(ld, e, "key 'input'");
        ld->cfg->ninputs = i + 1;
    }
    return CS_OK;
}

/* Loads one known, non-group key from its setting. */
static int load_key(loader *ld, const key_def *k, const config_setting_t *s)
{
    int t = config_setting_type(s), rc;
    int is_int = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
    switch (k->type) {
    case KT_PATHS:
        return load_paths(ld, s, k->path);
    case KT_RULES:
        return load_rules(ld, s, &ld->cfg->rules);
    case KT_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            return type_error(ld, s, k->path, cfg_type_expects(k->type));
        *FIELD(ld->cfg, k, int) = config_setting_get_bool(s);
        return CS_OK;
    case KT_SECONDS:
    case KT_INT:
    case KT_SIZE:
    case KT_COUNT:
        if (is_int && check_int_literal(ld, s, k->path) != CS_OK)
            return CS_ECONFIG;
        if (is_int)
            rc = cfg_set_number(ld->cfg, k, config_setting_get_int64(s), ld->err);
        else if (k->type == KT_SIZE && t == CONFIG_TYPE_STRING)
            rc = cfg_set_from_text(ld->cfg, k, config_setting_get_string(s), ld->err);
        else
            return type_error(ld, s, k->path, cfg_type_expects(k->type));
        break;
    case KT_SHARE:
        if (t == CONFIG_TYPE_FLOAT)
            rc = cfg_set_share(ld->cfg, k, config_setting_get_float(s), ld->err);
        else if (is_int && check_int_literal(ld, s, k->path) != CS_OK)
            return CS_ECONFIG;
        else if (is_int)
            rc = cfg_set_share(ld->cfg, k, (double)config_setting_get_int64(s), ld->err);
        else if (t == CONFIG_TYPE_STRING)
            rc = cfg_set_from_text(ld->cfg, k, config_setting_get_string(s), ld->err);
        else
            return type_error(ld, s, k->path, cfg_type_expects(k->type));
        break;
    default:
        if (t != CONFIG_TYPE_STRING)
            return type_error(ld, s, k->path, cfg_type_expects(k->type));
        rc = cfg_set_string_key(ld->cfg, k, config_setting_get_string(s), ld->err);
        break;
    }
    if (rc != CS_OK) {
        char what[128];
        snprintf(what, sizeof what, "key '%s'", k->path);
        return locate(ld, s, what);
    }
    return CS_OK;
}

/* Lists the known keys directly inside group prefix ("" = top level). */
static void known_children(const char *prefix, char *buf, size_t n)
{
    size_t plen = strlen(prefix);
    buf[0] = '\0';
    for (int i = 0; i < cfg_nkeys; i++) {
        const char *p = cfg_keys[i].path;
        if (plen && (strncmp(p, prefix, plen) != 0 || p[plen] != '.'))
            continue;
        const char *rest = plen ? p + plen + 1 : p;
        if (strchr(rest, '.'))
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%s", used ? ", " : "", rest);
    }
}

/* Loads every member of a group; prefix is the group's path ("" = root). */
static int load_group(loader *ld, const config_setting_t *grp, const char *prefix)
{
    int n = config_setting_length(grp);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
        char path[256], known[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
                 config_setting_name(s));
        const key_def *k = cfg_key_find(path);
        if (!k) {
            known_children(prefix, known, sizeof known);
            return cs_err_set(ld->err, CS_ECONFIG, "%s:%u: unknown key '%s' (known keys%s%s%s: %s)",
                              where_file(ld, s), config_setting_source_line(s), path,
                              *prefix ? " in '" : "", prefix, *prefix ? "'" : "", known);
        }
        int rc;
        if (k->type != KT_GROUP)
            rc = load_key(ld, k, s);
        else if (config_setting_is_group(s))
            rc = load_group(ld, s, path);
        else
            rc = type_error(ld, s, path, cfg_type_expects(KT_GROUP));
        if (rc != CS_OK)
            return rc;
    }
    return CS_OK;
}

/* Applies a parsed libconfig tree to cfg (all or nothing), then validates. */
static int load_tree(cs_config *cfg, config_t *lc, const char *name, const char *text,
                     cs_err *err)
{
    cs_config *tmp = cs_malloc(sizeof *tmp, err, "config");
    if (!tmp)
        return CS_ENOMEM;
    *tmp = *cfg;
    loader ld = { name, text, tmp, err };
    int rc = load_group(&ld, config_root_setting(lc), "");
    const char *key = NULL;
    if (rc == CS_OK && (rc = cfg_validate(tmp, err, &key)) != CS_OK) {
        const config_setting_t *s = key ? config_lookup(lc, key) : NULL;
        if (s)
            cs_err_wrap(err, "%s:%u", where_file(&ld, s), config_setting_source_line(s));
        else
            cs_err_wrap(err, "%s", name);
    }
    if (rc == CS_OK) {
        cfg_copy_field(tmp->source_path, sizeof tmp->source_path, name, NULL);
        *cfg = *tmp;
    }
    free(tmp);
    return rc;
}

/* A "FILE:LINE: syntax error: ..." from libconfig's parser state. */
static int syntax_error(const config_t *lc, const char *name, cs_err *err)
{
    const char *file = config_error_file(lc) ? config_error_file(lc) : name;
    const char *text = config_error_text(lc) ? config_error_text(lc) : "";
    /* libconfig's own text is mostly just "syntax error": said once. */
    if (!*text || strcmp(text, "syntax error") == 0)
        return cs_err_set(err, CS_ECONFIG, "%s:%d: syntax error (a missing ';', '=', closing "
                          "brace or quote, at or before this line)", file, config_error_line(lc));
    return cs_err_set(err, CS_ECONFIG, "%s:%d: syntax error: %s", file,
                      config_error_line(lc), text);
}

/* Loads a file over cfg (see config.h). CS_ECONFIG with
 * "PATH: cannot read config file: ..." or "PATH:LINE: ..."; cfg unchanged
 * on error. */
int config_load_file(cs_config *cfg, const char *path, cs_err *err)
{
    cs_err local;
    if (!err)
        err = &local;
    struct stat st;
    if (stat(path, &st) != 0)
        return cs_err_set(err, CS_ECONFIG, "%s: cannot read config file: %s", path,
                          strerror(errno));
    if (S_ISDIR(st.st_mode))
        return cs_err_set(err, CS_ECONFIG, "%s: cannot read config file: %s", path,
                          strerror(EISDIR));
    config_t lc;
    config_init(&lc);
    int rc;
    if (!config_read_file(&lc, path))
        rc = config_error_type(&lc) == CONFIG_ERR_FILE_IO
             ? cs_err_set(err, CS_ECONFIG, "%s: cannot read config file: %s", path,
                          strerror(errno ? errno : EIO))
             : syntax_error(&lc, path, err);
    else
        rc = load_tree(cfg, &lc, path, NULL, err);
    config_destroy(&lc);
    return rc;
}

/* Same, from text; name stands for the file in messages. */
int config_load_string(cs_config *cfg, const char *text, const char *name, cs_err *err)
{
    cs_err local;
    if (!err)
        err = &local;
    config_t lc;
    config_init(&lc);
    int rc = config_read_string(&lc, text) ? load_tree(cfg, &lc, name, text, err)
                                           : syntax_error(&lc, name, err);
    config_destroy(&lc);
    return rc;
}
