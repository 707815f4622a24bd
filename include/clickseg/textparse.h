/* textparse.h — parsing the text of clickstream exports: splitting a
 * delimited line into fields (RFC 4180 quotes), strict integers, decimal
 * money, times in ISO 8601, Unix epochs or a strftime-like pattern, and
 * maps from a source's event names to the event types of format v1.
 *
 * Called by the importers (imp_*.c) for every field of every row, and by
 * config.c to check the import.csv keys. Nothing here allocates or prints;
 * parsers return 0 on success and -1 on a malformed value, leaving the
 * output unchanged, so the caller can reject the row with its own reason.
 * Pure C, no MPI. */
#ifndef CLICKSEG_TEXTPARSE_H
#define CLICKSEG_TEXTPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "clickseg/error.h"
#include "clickseg/tz.h"

#define TP_MAX_FIELDS 256

/* A line split into fields: field i is p[i][0..len[i]), not terminated. */
typedef struct tp_fields {
    int n;
    const char *p[TP_MAX_FIELDS];
    size_t len[TP_MAX_FIELDS];
} tp_fields;

/* Splits line[0..len) at `delim`. A field that starts with '"' is quoted:
 * it runs to the next lone '"', and '""' inside stands for one quote; the
 * unquoted text goes to `scratch` (at least len bytes), other fields point
 * into line. Returns 0, or -1 for an unterminated quote or text after a
 * closing quote, -2 for more than TP_MAX_FIELDS fields. */
int tp_split(const char *line, size_t len, char delim, tp_fields *f, char *scratch);

/* Offset of the first byte of s[0..n) that is not part of well-formed
 * UTF-8 (overlong forms, surrogates and code points past U+10FFFF are not)
 * or is a NUL; n when there is none. */
size_t tp_utf8_bad(const char *s, size_t n);

/* 1 when field text s[0..n) equals the C string z. */
int tp_eq(const char *s, size_t n, const char *z);

/* Unsigned decimal integer (digits only, optional surrounding blanks);
 * -1 on anything else or overflow. */
int tp_u64(const char *s, size_t n, uint64_t *v);

/* Signed decimal integer (optional '-' or '+'); -1 on anything else. */
int tp_i64(const char *s, size_t n, int64_t *v);

/* A decimal number "123", "-4.5", "35.79" scaled by 10^scale and rounded
 * half away from zero: tp_decimal("35.795", 2) = 3580. -1 on anything
 * else (exponents, thousands separators) or overflow. */
int tp_decimal(const char *s, size_t n, int scale, int64_t *v);

/* Time formats of tp_time. */
enum tp_time_kind {
    TP_TIME_ISO = 0,   /* 2019-10-01 00:00:00 UTC, 2014-04-07T10:51:09.277Z, 2016-05-09 */
    TP_TIME_UNIX_S,    /* seconds since the epoch, fraction allowed: 1396860669.277 */
    TP_TIME_UNIX_MS,   /* milliseconds, fraction allowed */
    TP_TIME_UNIX_US,   /* microseconds */
    TP_TIME_PATTERN    /* a strftime-like pattern, see tp_time_spec_parse */
};

typedef struct tp_time_spec {
    int kind;
    char pattern[64];
} tp_time_spec;

/* Parses a time format name: "iso8601", "unix_s", "unix_ms", "unix_us", or
 * a pattern with %Y %m %d %H %M %S %f (fraction) %z (Z, +HH, +HHMM, +HH:MM)
 * %b (Jan..Dec) %F (%Y-%m-%d) %T (%H:%M:%S) %% and literal characters.
 * CS_ECONFIG naming the problem otherwise. */
int tp_time_spec_parse(const char *text, tp_time_spec *spec, cs_err *err);

/* Parses a time into µs since the epoch, UTC. A time without a zone is
 * local time in `tz` (an instant that a daylight-saving change skips is
 * read with the offset before the change; a repeated one as the first).
 * Dates must be real (no Feb 30), years 1..9999. -1 when malformed. */
int tp_time(const tp_time_spec *spec, const char *s, size_t n, cs_tz *tz, int64_t *us);

/* µs since the epoch of a local civil time in tz (see tp_time). */
int64_t tp_local_to_utc(cs_tz *tz, int64_t local_us);

/* ---- event-name maps ---- */

#define TP_EVMAP_MAX 64
#define TP_EVNAME_MAX 48

/* Source event names to format v1 types. The v1 names ("product_view",
 * ...) and their codes ("0".."7") always map to themselves unless the map
 * names them; "*" maps every other name. */
typedef struct tp_evmap {
    int n;
    char name[TP_EVMAP_MAX][TP_EVNAME_MAX];
    uint8_t type[TP_EVMAP_MAX];
    int wildcard;          /* type for "*", or -1 */
} tp_evmap;

/* Parses "view=product_view, cart=add_to_cart, *=page_view" (blanks around
 * names are ignored; "" is the empty map). CS_ECONFIG naming the bad entry. */
int tp_evmap_parse(const char *text, tp_evmap *m, cs_err *err);

/* The type of event name s[0..n), or -1 when the map does not know it. */
int tp_evmap_lookup(const tp_evmap *m, const char *s, size_t n);

#endif
