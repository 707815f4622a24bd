/* config_keys.h — private to config.c and config_load.c (not a public
 * header): the table of configuration keys that drives defaults, parsing,
 * checks and output, and the setters both files share. */
#ifndef CLICKSEG_CONFIG_KEYS_H
#define CLICKSEG_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/config.h"

#define US_PER_S 1000000LL
#define MIB (1LL << 20)

enum key_type { KT_GROUP, KT_PATHS, KT_STRING, KT_BOOL, KT_SIZE, KT_SECONDS, KT_CHOICE,
                KT_TIMEZONE, KT_RULES, KT_INT, KT_COUNT, KT_SHARE };

typedef struct key_def {
    const char *path;     /* "session.gap"; a group's members follow it */
    int type;
    const char *def;      /* default, in the text form config_set takes */
    const char *help;
    const char *const *choices;   /* KT_CHOICE: allowed names, NULL-ended */
    int64_t min, max;     /* KT_SIZE bytes, KT_SECONDS seconds, KT_COUNT the count,
                             KT_STRING min length */
    size_t off, size;     /* field in cs_config */
} key_def;

#define FIELD(cfg, k, T) ((T *)(void *)((char *)(cfg) + (k)->off))
#define CFIELD(cfg, k, T) ((const T *)(const void *)((const char *)(cfg) + (k)->off))

/* The key table, in file order (a group's keys follow the group). */
extern const key_def cfg_keys[];
extern const int cfg_nkeys;

/* The table entry of a key path ("session.gap"), or NULL. */
const key_def *cfg_key_find(const char *path);

/* What a key of this type expects, for messages ("an integer number of
 * seconds"). */
const char *cfg_type_expects(int type);

/* Copies s into a zero-padded char field of the given size; CS_ECONFIG
 * when it does not fit (dst unchanged then). */
int cfg_copy_field(char *dst, size_t size, const char *s, cs_err *err);

/* Index of name in a NULL-ended list, or -1. */
int cfg_choice_index(const char *const *choices, const char *name);

/* Stores an integer key (bytes or seconds) after its range check; on
 * error returns CS_ECONFIG (message without the key) and cfg is unchanged. */
int cfg_set_number(cs_config *cfg, const key_def *k, int64_t v, cs_err *err);

/* Stores a share (KT_SHARE, a double in [0, 1]) after its range check. */
int cfg_set_share(cs_config *cfg, const key_def *k, double v, cs_err *err);

/* Parses a share: "0.05", "5%", "0", "1". CS_ECONFIG otherwise. */
int cfg_parse_share(const char *s, double *v, cs_err *err);

/* Stores a string, choice or timezone key after its checks; as above. */
int cfg_set_string_key(cs_config *cfg, const key_def *k, const char *s, cs_err *err);

/* Sets a key from its text form (as config_set; message without the key). */
int cfg_set_from_text(cs_config *cfg, const key_def *k, const char *text, cs_err *err);

/* All checks of config_validate; on error *key names the key to blame
 * (NULL when none), so a loader can point at its line. */
int cfg_validate(const cs_config *cfg, cs_err *err, const char **key);

#endif
