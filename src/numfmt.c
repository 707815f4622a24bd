/* numfmt.c — numbers for people (see numfmt.h). No locale is consulted:
 * separators are always "," and ".", so reports are identical everywhere. */
#include "clickseg/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DASH "\xe2\x80\x93"   /* en dash: "no value" */

/* Inserts a "," every three digits into the digit run `d` (no sign). */
static void group_digits(char *out, size_t n, const char *d)
{
    size_t len = strlen(d), k = 0;
    for (size_t i = 0; i < len && k + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && k + 1 < n)
            out[k++] = ',';
        if (k + 1 < n)
            out[k++] = d[i];
    }
    if (n)
        out[k < n ? k : n - 1] = '\0';
}

char *fmt_uint(char *buf, size_t n, uint64_t v)
{
    char d[32];
    snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    group_digits(buf, n, d);
    return buf;
}

char *fmt_int(char *buf, size_t n, int64_t v)
{
    if (v >= 0 || n < 2)
        return fmt_uint(buf, n, (uint64_t)(v < 0 ? 0 : v));
    buf[0] = '-';
    fmt_uint(buf + 1, n - 1, (uint64_t)0 - (uint64_t)v);
    return buf;
}

char *fmt_fixed(char *buf, size_t n, double v, int decimals)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, n, DASH);
        return buf;
    }
    char tmp[400], grouped[420];
    snprintf(tmp, sizeof tmp, "%.*f", decimals, fabs(v));
    /* "-0.0" reads oddly: a value that rounds to zero prints unsigned. */
    int neg = v < 0 && strspn(tmp, "0.") != strlen(tmp);
    char *dot = strchr(tmp, '.');
    if (dot)
        *dot = '\0';
    group_digits(grouped, sizeof grouped, tmp);
    snprintf(buf, n, "%s%s%s%s", neg ? "-" : "", grouped, dot ? "." : "", dot ? dot + 1 : "");
    return buf;
}

char *fmt_pct(char *buf, size_t n, double ratio, int decimals)
{
    if (isnan(ratio) || isinf(ratio)) {
        snprintf(buf, n, DASH);
        return buf;
    }
    char t[NUMFMT_MAX];
    fmt_fixed(t, sizeof t, ratio * 100.0, decimals);
    snprintf(buf, n, "%s%%", t);
    return buf;
}

/* Shortest of "%.0f", "%.1f", "%.2f" that shows v to 3 significant digits,
 * without trailing zeros. */
static void short_num(char *buf, size_t n, double v)
{
    double a = fabs(v);
    int dec = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    snprintf(buf, n, "%.*f", dec, v);
    if (strchr(buf, '.')) {
        size_t len = strlen(buf);
        while (len > 0 && buf[len - 1] == '0')
            buf[--len] = '\0';
        if (len > 0 && buf[len - 1] == '.')
            buf[--len] = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, n, "0");
}

char *fmt_si(char *buf, size_t n, double v)
{
    static const char *const suffix[] = {"", "k", "M", "G", "T", "P"};
    if (isnan(v) || isinf(v)) {
        snprintf(buf, n, DASH);
        return buf;
    }
    int k = 0;
    double a = fabs(v);
    while (a >= 999.5 && k < 5) {
        a /= 1000.0;
        v /= 1000.0;
        k++;
    }
    char t[NUMFMT_MAX];
    short_num(t, sizeof t, v);
    snprintf(buf, n, "%s%s", t, suffix[k]);
    return buf;
}

/* Symbol, placed before the amount; NULL when the code is written after. */
static const struct {
    const char *code, *symbol;
    int decimals;
} currencies[] = {
    {"EUR", "\xe2\x82\xac", 2}, {"USD", "$", 2}, {"GBP", "\xc2\xa3", 2},
    {"JPY", "\xc2\xa5", 0},     {"CNY", "CN\xc2\xa5", 2}, {"INR", "\xe2\x82\xb9", 2},
    {"RUB", "\xe2\x82\xbd", 2}, {"KRW", "\xe2\x82\xa9", 0}, {"BRL", "R$", 2},
    {"CAD", "CA$", 2},          {"AUD", "A$", 2},  {"CHF", NULL, 2}, {"SEK", NULL, 2},
    {"PLN", NULL, 2},           {"CZK", NULL, 2},  {"VND", NULL, 0}, {"CLP", NULL, 0},
    {"ISK", NULL, 0},           {"HUF", NULL, 2},  {"KWD", NULL, 3}, {"BHD", NULL, 3},
};
#define NCURRENCIES (sizeof currencies / sizeof currencies[0])

static int currency_index(const char *code)
{
    for (size_t i = 0; code && i < NCURRENCIES; i++)
        if (strcmp(code, currencies[i].code) == 0)
            return (int)i;
    return -1;
}

int currency_decimals(const char *code)
{
    int i = currency_index(code);
    return i < 0 ? 2 : currencies[i].decimals;
}

/* Puts the currency around an already formatted amount (which may start
 * with '-'): "-€1.00", "CHF 1.00", "1.00 XYZ"... */
static char *place_currency(char *buf, size_t n, const char *amount, const char *currency)
{
    int i = currency_index(currency);
    int neg = amount[0] == '-';
    if (i >= 0 && currencies[i].symbol)
        snprintf(buf, n, "%s%s%s", neg ? "-" : "", currencies[i].symbol, amount + neg);
    else if (i >= 0)
        snprintf(buf, n, "%s %s", currency, amount);
    else if (currency && currency[0])
        snprintf(buf, n, "%s %s", amount, currency);
    else
        snprintf(buf, n, "%s", amount);
    return buf;
}

char *fmt_money(char *buf, size_t n, int64_t minor, const char *currency)
{
    int dec = currency_decimals(currency);
    int64_t scale = 1;
    for (int i = 0; i < dec; i++)
        scale *= 10;
    /* Integer arithmetic: money stays exact however large. */
    uint64_t a = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    char whole[NUMFMT_MAX], amount[2 * NUMFMT_MAX + 8];
    fmt_uint(whole, sizeof whole, a / (uint64_t)scale);
    if (dec)
        snprintf(amount, sizeof amount, "%s%s.%0*llu", minor < 0 ? "-" : "", whole, dec,
                 (unsigned long long)(a % (uint64_t)scale));
    else
        snprintf(amount, sizeof amount, "%s%s", minor < 0 ? "-" : "", whole);
    return place_currency(buf, n, amount, currency);
}

char *fmt_money_si(char *buf, size_t n, double minor, const char *currency)
{
    char amount[NUMFMT_MAX];
    fmt_si(amount, sizeof amount, minor / pow(10.0, currency_decimals(currency)));
    return place_currency(buf, n, amount, currency);
}

char *fmt_duration(char *buf, size_t n, double s)
{
    if (isnan(s) || s < 0)
        snprintf(buf, n, DASH);
    else if (s < 1)
        snprintf(buf, n, "%.0f ms", s * 1000);
    else if (s < 59.95)
        snprintf(buf, n, "%.1f s", s);
    else if (s < 3600) {
        long t = lround(s);
        snprintf(buf, n, "%ld min %02ld s", t / 60, t % 60);
    } else if (s < 86400) {
        long t = lround(s / 60);
        snprintf(buf, n, "%ld h %02ld min", t / 60, t % 60);
    } else {
        long t = lround(s / 3600);
        snprintf(buf, n, "%ld d %02ld h", t / 24, t % 24);
    }
    return buf;
}

char *fmt_mib(char *buf, size_t n, double mib)
{
    char t[NUMFMT_MAX];
    if (mib >= 1024 * 1024)
        snprintf(buf, n, "%s TiB", (short_num(t, sizeof t, mib / 1048576), t));
    else if (mib >= 1024)
        snprintf(buf, n, "%s GiB", (short_num(t, sizeof t, mib / 1024), t));
    else
        snprintf(buf, n, "%s MiB", (short_num(t, sizeof t, mib), t));
    return buf;
}
