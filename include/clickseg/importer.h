/* importer.h — one clickstream export format behind one interface.
 *
 * Each format (imp_rees46.c, imp_csv.c, ...) fills a cs_importer with
 * designated initialisers: a sniff function that rank 0 calls once per
 * input file with its first line (is this the format? is that line a
 * header? which variant of the format, which columns?), and a parse
 * function that every rank calls for each data line of its byte range.
 * parse turns one line into zero or more events with imp_emit, or rejects
 * the whole line by returning a reason; the framework (import.c) counts,
 * spills rejects, sorts and writes. How each format maps onto the eight
 * event types is written down in docs/import.md.
 *
 * The helpers below turn id text into ids: decimal ids are kept, any other
 * text is hashed to a stable id and remembered in a dictionary so that the
 * archive can show the original (dictionaries.h5). Pure C, no MPI. */
#ifndef CLICKSEG_IMPORTER_H
#define CLICKSEG_IMPORTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clickseg/config.h"
#include "clickseg/dict.h"
#include "clickseg/error.h"
#include "clickseg/tz.h"
#include "clickseg/textparse.h"

/* An imported event before the archive's 32-bit ids are assigned; 72
 * bytes of plain data so MPI moves it as bytes. category and brand hold the
 * id itself when the source gave a number below 2^31, else the 64-bit hash
 * of the text (top bit set), mapped to a 32-bit id when writing. */
typedef struct imp_event {
    int64_t ts;           /* µs since the epoch, UTC */
    uint64_t user_id;
    uint64_t product_id;
    uint64_t session_id;
    uint64_t category;
    uint64_t brand;
    int64_t price;        /* minor units */
    uint64_t line;        /* 1-based line in its input file */
    uint32_t sub;         /* the event's index within its line */
    uint16_t file;        /* input index */
    uint8_t type;         /* enum cs_event_type */
    uint8_t pad;
} imp_event;

/* Why a line is rejected (the reject's `reason` column). 0 is "accepted". */
enum imp_reason {
    IMP_ACCEPT = 0,
    R_FIELD_COUNT,    /* not the number of fields the format has */
    R_BAD_QUOTES,     /* an unterminated quote or text after a closing quote */
    R_BAD_TIME,       /* missing or malformed time, or outside 1970..9999 */
    R_BAD_USER,       /* missing or malformed user id */
    R_UNKNOWN_EVENT,  /* an event name the format (or the event map) does not know */
    R_BAD_PRODUCT,    /* malformed product id */
    R_BAD_PRICE,      /* malformed price or quantity */
    R_BAD_ID,         /* malformed or over-long session, category or brand id */
    R_BAD_JSON,       /* not the JSON object the format has */
    R_BAD_VALUE,      /* another field is malformed */
    R_BAD_ENCODING,   /* id or label text that is not UTF-8, or holds a NUL */
    R_DUPLICATE,      /* repeats an earlier event exactly (import.duplicates = "drop") */
    IMP_NREASONS
};

/* Returned by parse when the import cannot go on (out of memory); p->err
 * holds the message. */
#define IMP_FATAL (-1)

/* reason name ("bad_time"), or NULL out of range. */
const char *imp_reason_name(int reason);

/* What rank 0's sniff learns about one input file; broadcast to all. */
#define IMP_MAXCOLS 16
typedef struct imp_file {
    char path[1024];
    int64_t bytes;
    int gzip;             /* gzip-compressed (by its magic bytes) */
    int has_header;       /* line 1 is a header, not a row */
    int variant;          /* the format's sub-kind (yoochoose: clicks, buys, prepared) */
    int col[IMP_MAXCOLS]; /* the format's 0-based column indices, -1 = absent */
    int ncols;            /* fields a row must have (0 = any) */
} imp_file;

/* The dictionaries ids go to (dictionaries.h5 /dictionaries/<name>). */
enum imp_dict_id { DICT_USER = 0, DICT_SESSION, DICT_PRODUCT, DICT_CATEGORY, DICT_BRAND, DICT_N };
const char *imp_dict_name(int d);
/* 1 for the dictionaries of 32-bit columns (category, brand). */
int imp_dict_is32(int d);

/* A rank's parsing state: settings from the config, the events emitted so
 * far, the dictionaries, scratch space, and the reason's detail. */
typedef struct imp_parser {
    const cs_config *cfg;
    cs_tz tz;                 /* import.timezone: for times without a zone */
    /* format csv settings (from import.csv.*) */
    char delim;
    tp_time_spec time_spec;
    tp_evmap evmap;
    /* events of this rank */
    imp_event *ev;
    uint64_t nev, cap;
    uint32_t sub;             /* events emitted for the current line */
    uint16_t cur_file;        /* the line being parsed: input index and */
    uint64_t cur_line;        /* line number (local to the rank's range until fixed up) */
    cs_dict dict[DICT_N];
    /* per line */
    tp_fields f;
    char *scratch;            /* at least the line's length (tp_split) */
    size_t scratch_cap;
    char detail[256];         /* what was wrong, for the reject */
    cs_err err;               /* set with IMP_FATAL */
} imp_parser;

typedef struct cs_importer {
    const char *name;
    const char *summary;      /* one line for --help */
    const char *currency;     /* the archive's currency attribute ("USD", "unknown") */
    /* Rank 0, once per non-empty input: checks the first line, sets
     * f->has_header, f->variant, f->col, f->ncols. CS_EINPUT naming what was
     * expected when the file is not of this format. */
    int (*sniff)(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err);
    /* Every rank, for each data line: imp_emit 0..n events and return
     * IMP_ACCEPT, or return a reason (the line's events are dropped and the
     * line is written to rejects.csv), or IMP_FATAL. */
    int (*parse)(imp_parser *p, const imp_file *f, const char *line, size_t len);
} cs_importer;

/* The registry: a format by name, or NULL; the names for messages. */
const cs_importer *importer_find(const char *name);
void importer_names(char *buf, size_t n);
void importer_help(FILE *out);

/* ---- helpers for the formats ---- */

/* Prepares p for cfg (time zone, csv settings); CS_ECONFIG on a bad
 * setting. imp_parser_free releases everything. */
int imp_parser_init(imp_parser *p, const cs_config *cfg, cs_err *err);
void imp_parser_free(imp_parser *p);

/* Splits the line at delim into p->f; R_BAD_QUOTES or R_FIELD_COUNT (when
 * ncols > 0 and the count differs) on failure, 0 on success. */
int imp_split(imp_parser *p, const char *line, size_t len, char delim, int ncols);

/* Appends event e (file, line, sub are filled by the framework). ts must
 * be in 1970..9999 (R_BAD_TIME otherwise) and price in 0..CS_PRICE_MAX
 * (R_BAD_PRICE). Returns 0, R_BAD_TIME, R_BAD_PRICE or IMP_FATAL. */
int imp_emit(imp_parser *p, const imp_event *e);

/* Sets p->detail (printf format) and returns reason, for `return imp_reject(...)`. */
int imp_reject(imp_parser *p, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An id field: canonical decimal text below 2^63 ("0", "541312140", no
 * leading zeros) is the id; other text is hashed (dict_hash) and kept in
 * dictionary d with an optional label; empty text is 0. For a 32-bit
 * dictionary the bound is 2^31 instead. Returns 0, or R_BAD_ID for text
 * longer than DICT_KEY_MAX (p->detail says which), or IMP_FATAL. */
int imp_id(imp_parser *p, int d, const char *s, size_t n, const char *label, size_t ln,
           uint64_t *id);

/* Like imp_id, but always hashes non-empty text (ids that are numbers but
 * must keep a label, e.g. REES46 category ids with their category codes). */
int imp_id_hashed(imp_parser *p, int d, const char *s, size_t n, const char *label,
                  size_t ln, uint64_t *id);

/* Finds column `name` (or a 1-based number) among a header's fields;
 * -1 when absent. Used by sniff functions. */
int imp_find_column(const tp_fields *hdr, const char *name);

#endif
