/* fuzz_config.c — libFuzzer target for the config loader (config_load_string).
 *
 * Any text must either load, validate and survive a round trip (config_dump
 * then loading the dump gives the same values and the same config_hash), or
 * fail with CS_ECONFIG, a message naming the file, and the config left as it
 * was. A crash, sanitizer report, leak or abort() is a finding.
 * Built only with clang (tests/fuzz/CMakeLists.txt); run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/config.h"

#define MAX_INPUT (64 * 1024)

static void finding(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_config: %s: %s\n", what, detail);
    abort();
}

/* The fields config_hash leaves out must survive the round trip too. */
static int same_config(const cs_config *a, const cs_config *b)
{
    if (config_hash(a) != config_hash(b) || a->ninputs != b->ninputs ||
        a->output_sessions != b->output_sessions || a->memory_per_rank != b->memory_per_rank ||
        strcmp(a->output_dir, b->output_dir) != 0)
        return 0;
    for (int i = 0; i < a->ninputs; i++)
        if (strcmp(a->inputs[i], b->inputs[i]) != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* @include reads other files (the fuzzer could name /dev/zero or a
     * pipe); the loader's own code is what is fuzzed here. */
    if (size > MAX_INPUT || memmem(data, size, "@include", 8))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static cs_config cfg, before, back;
    cs_err err;
    cs_err_clear(&err);
    config_defaults(&cfg);
    before = cfg;
    int rc = config_load_string(&cfg, text, "fuzz.cfg", &err);
    if (rc != CS_OK) {
        if (rc != CS_ECONFIG || err.code != CS_ECONFIG)
            finding("error code is not CS_ECONFIG", err.msg);
        if (strncmp(err.msg, "fuzz.cfg", 8) != 0)
            finding("error does not name the file", err.msg);
        if (memcmp(&cfg, &before, sizeof cfg) != 0)
            finding("a failed load changed the config", err.msg);
    } else {
        if (config_validate(&cfg, &err) != CS_OK)
            finding("a loaded config does not validate", err.msg);
        char *dump = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&dump, &len);
        if (!f)
            abort();
        config_dump(&cfg, f);
        fclose(f);
        config_defaults(&back);
        if (config_load_string(&back, dump, "dump.cfg", &err) != CS_OK) {
            fprintf(stderr, "--- dump ---\n%s\n", dump);
            finding("the dump of a loaded config does not load", err.msg);
        }
        if (!same_config(&cfg, &back)) {
            fprintf(stderr, "--- dump ---\n%s\n", dump);
            finding("dump and reload changed the config", "values differ");
        }
        free(dump);
    }
    free(text);
    return 0;
}
