/* csvtext.h — the text fields of the CSV files clickseg writes, as a
 * spreadsheet must not run them. Visitor ids, profile labels and rejected
 * rows come from the clickstream (a cookie's value is whatever the browser
 * sent): a field that starts with "=", "@", "+" or "-" is a formula to
 * Excel or LibreOffice when the file is opened ("=HYPERLINK(...)",
 * "-2+3+cmd|' /C calc'!A0"). OWASP's remedy is a leading apostrophe, which
 * spreadsheets show as text; numbers with a sign ("+4917012345", "-12.5")
 * are left alone, as every other field, so joins on such keys still work.
 * report.json and report.h5 keep the text as it came. Called by
 * report_rank.c (targets.csv, prospects.csv, profiles.csv) and
 * import_write.c (rejects.csv). */
#ifndef CLICKSEG_CSVTEXT_H
#define CLICKSEG_CSVTEXT_H

#include <stddef.h>
#include <stdio.h>

/* 1 when s[0..n) would be read as a formula: it starts with "=" or "@",
 * a tab or carriage return, or "+" or "-" not followed by a plain number
 * (digits with at most one "."). */
int csv_formula_risk(const char *s, size_t n);

/* Writes s (NUL-terminated) as one quoted RFC 4180 field ("" for each "),
 * with an apostrophe first when csv_formula_risk. */
void csv_put_text(FILE *f, const char *s);

#endif
