/* fuzz_rules_cond.c — libFuzzer target for the rule condition parser
 * (rules_parse_cond: "feature op value").
 *
 * Any text must either parse into a known feature, a known operator and a
 * value that format back into text parsing to the same condition, or fail
 * with CS_ECONFIG, a message quoting the condition, and the output left
 * untouched. A crash, sanitizer report, leak or abort() is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/rules.h"

#define MAX_INPUT 4096

static void finding(const char *what, const char *text, const char *detail)
{
    fprintf(stderr, "fuzz_rules_cond: %s: input '%s': %s\n", what, text, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const cs_cond sentinel = {-7, -7, 0x5a5a5a5a5a5a};
    cs_cond c = sentinel, again = sentinel;
    cs_err err;
    cs_err_clear(&err);
    if (rules_parse_cond(text, &c, &err) != CS_OK) {
        if (err.code != CS_ECONFIG || strncmp(err.msg, "condition '", 11) != 0)
            finding("bad error", text, err.msg);
        if (memcmp(&c, &sentinel, sizeof c) != 0)
            finding("a failed parse wrote the condition", text, err.msg);
    } else {
        if (!feature_name(c.feature) || !rules_op_name(c.op))
            finding("parsed an unknown feature or operator", text, "");
        char buf[160];
        int n = rules_format_cond(&c, buf, sizeof buf);
        if (n < 0 || (size_t)n >= sizeof buf)
            finding("formatted condition too long", text, buf);
        if (rules_parse_cond(buf, &again, &err) != CS_OK)
            finding("the formatted condition does not parse", buf, err.msg);
        if (again.feature != c.feature || again.op != c.op || again.value != c.value)
            finding("format and parse changed the condition", text, buf);
    }
    free(text);
    return 0;
}
