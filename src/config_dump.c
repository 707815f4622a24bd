/* config_dump.c — a cs_config written out as a libconfig file that loads
 * back to the same values, and the table of keys: what `clickseg config`
 * prints (see config.h). Pure C, no MPI. */
#include "clickseg/config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"

/* Writes s as a libconfig string literal, escaping what needs it. */
static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* Writes a size with the largest exact unit ("512M"), as a string. */
static void put_size(FILE *out, int64_t v)
{
    const char *units = "TGMK";
    for (int i = 0; i < 4; i++) {
        int shift = 10 * (4 - i);
        if (v > 0 && v % ((int64_t)1 << shift) == 0) {
            fprintf(out, "\"%" PRId64 "%c\"", v >> shift, units[i]);
            return;
        }
    }
    fprintf(out, "\"%" PRId64 "\"", v);
}

/* Writes a share as a libconfig float with the fewest digits that read
 * back as the same double ("0.01", "1.0"). */
static void put_share(FILE *out, double v)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
    if (!strpbrk(buf, ".e"))
        fputs(".0", out);
}

/* Writes the rules as a libconfig list, one rule a line. */
static void put_rules(FILE *out, const cs_rules *rs, const char *indent)
{
    char buf[128];
    fputs("(\n", out);
    for (int i = 0; i < rs->nrules; i++) {
        const cs_rule *r = &rs->rule[i];
        fprintf(out, "%s  { segment = ", indent);
        put_string(out, rs->segments[r->segment]);
        fputs(";", out);
        for (int c = 0; c < r->ncond; c++) {
            rules_format_cond(&r->cond[c], buf, sizeof buf);
            fprintf(out, "%s\"%s\"", c ? ", " : " when = ( ", buf);
        }
        fprintf(out, "%s }%s\n", r->ncond ? " );" : "", i + 1 < rs->nrules ? "," : "");
    }
    fprintf(out, "%s)", indent);
}

/* Writes the value of key k of cfg in libconfig syntax. */
static void put_value(FILE *out, const cs_config *cfg, const key_def *k, const char *indent)
{
    switch (k->type) {
    case KT_PATHS:
        fputs("(", out);
        for (int i = 0; i < cfg->ninputs; i++) {
            fputs(i ? ", " : " ", out);
            put_string(out, cfg->inputs[i]);
        }
        fputs(" )", out);
        break;
    case KT_BOOL: fputs(*CFIELD(cfg, k, int) ? "true" : "false", out); break;
    case KT_SIZE: put_size(out, *CFIELD(cfg, k, int64_t)); break;
    case KT_SECONDS:
        fprintf(out, "%" PRId64, (int64_t)(*CFIELD(cfg, k, int64_t) / US_PER_S));
        break;
    case KT_INT:
        fprintf(out, "%" PRId64, *CFIELD(cfg, k, int64_t));
        break;
    case KT_COUNT: fprintf(out, "%" PRId64, *CFIELD(cfg, k, int64_t)); break;
    case KT_CHOICE: {
        int i = *CFIELD(cfg, k, int), n = 0;
        while (k->choices[n])
            n++;
        put_string(out, i >= 0 && i < n ? k->choices[i] : "?");
        break;
    }
    case KT_RULES: put_rules(out, &cfg->rules, indent); break;
    case KT_SHARE: put_share(out, *CFIELD(cfg, k, double)); break;
    default: put_string(out, CFIELD(cfg, k, char)); break;
    }
}

/* Depth of a key path: the number of dots ("import.csv.time" = 2). */
static int key_depth(const char *path)
{
    int d = 0;
    for (; *path; path++)
        d += *path == '.';
    return d;
}

/* Writes every key, with its help as a comment, in table order; a group's
 * keys (which follow it in the table) go inside its braces. */
void config_dump(const cs_config *cfg, FILE *out)
{
    static const char pad[] = "                ";
    fputs("# clickseg configuration: every key with its value (see docs/config.md)\n", out);
    int open = 0;   /* groups open */
    for (int i = 0; i < cfg_nkeys; i++) {
        const key_def *k = &cfg_keys[i];
        int depth = key_depth(k->path);
        for (; open > depth; open--)
            fprintf(out, "%.*s};\n", 2 * (open - 1), pad);
        const char *indent = pad + sizeof pad - 1 - 2 * depth;
        int first_in_group = i > 0 && cfg_keys[i - 1].type == KT_GROUP;
        fprintf(out, "%s%s# %s\n", first_in_group ? "" : "\n", indent, k->help);
        const char *name = depth ? strrchr(k->path, '.') + 1 : k->path;
        if (k->type == KT_GROUP) {
            fprintf(out, "%s%s = {\n", indent, name);
            open++;
            continue;
        }
        fprintf(out, "%s%s = ", indent, name);
        put_value(out, cfg, k, indent);
        fputs(";\n", out);
    }
    for (; open > 0; open--)
        fprintf(out, "%.*s};\n", 2 * (open - 1), pad);
}

/* Prints the key table: path, type, default, help. */
void config_print_keys(FILE *out)
{
    static const char *const tnames[] = { "group", "paths", "string", "bool", "size",
                                          "seconds", "choice", "timezone", "rules", "integer", "count", "share" };
    fprintf(out, "%-26s %-9s %-14s %s\n", "KEY", "TYPE", "DEFAULT", "MEANING");
    for (int i = 0; i < cfg_nkeys; i++) {
        const key_def *k = &cfg_keys[i];
        const char *def = k->type == KT_GROUP ? "" : k->type == KT_PATHS ? "()" : k->def;
        fprintf(out, "%-26s %-9s %-14s %s\n", k->path, tnames[k->type], def, k->help);
    }
}
