/* numfmt.h — numbers formatted for people: thousands separators, money in
 * minor units with the currency's symbol and decimals, percentages, compact
 * axis labels (1.2k, 3.4M), durations and memory sizes.
 *
 * Used by the HTML report and its SVG charts, `clickseg report`'s text
 * summary and the run's progress lines, so a number reads the same
 * everywhere. Pure C, no locale: the output never depends on the
 * environment. Every function writes a terminated string into buf (cut to
 * n - 1 characters) and returns buf. */
#ifndef CLICKSEG_NUMFMT_H
#define CLICKSEG_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Size that holds any result of these functions. */
#define NUMFMT_MAX 64

/* 1234567 → "1,234,567"; -1234 → "-1,234". */
char *fmt_int(char *buf, size_t n, int64_t v);
char *fmt_uint(char *buf, size_t n, uint64_t v);

/* v with `decimals` digits after the point and thousands separators:
 * (1234.5678, 2) → "1,234.57". NaN → "–". */
char *fmt_fixed(char *buf, size_t n, double v, int decimals);

/* A ratio as a percentage: (0.1234, 1) → "12.3%". NaN → "–". */
char *fmt_pct(char *buf, size_t n, double ratio, int decimals);

/* Compact, for axis ticks and tight labels: 950 → "950", 12500 → "12.5k",
 * 3400000 → "3.4M", 2e9 → "2G"; values below 10 keep up to 2 decimals. */
char *fmt_si(char *buf, size_t n, double v);

/* Digits after the decimal point of a currency's minor unit (ISO 4217:
 * 2 for EUR/USD/..., 0 for JPY/KRW/...; 2 when unknown or empty). */
int currency_decimals(const char *code);

/* Money in minor units: (123456, "EUR") → "€1,234.56", (500, "JPY") →
 * "¥500", (123456, "CHF") → "CHF 1,234.56", (123456, "") → "1,234.56". */
char *fmt_money(char *buf, size_t n, int64_t minor, const char *currency);

/* Compact money for axes: (123456789, "EUR") → "€1.23M". */
char *fmt_money_si(char *buf, size_t n, double minor, const char *currency);

/* Seconds for people: 0.25 → "250 ms", 12.34 → "12.3 s", 245 → "4 min 05 s",
 * 7384 → "2 h 03 min", 190000 → "2 d 04 h". Negative or NaN → "–". */
char *fmt_duration(char *buf, size_t n, double seconds);

/* MiB for people: 512 → "512 MiB", 1536 → "1.5 GiB", 0.5 → "0.5 MiB". */
char *fmt_mib(char *buf, size_t n, double mib);

#endif
