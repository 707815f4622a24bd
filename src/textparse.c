/* textparse.c — fields, numbers, times and event-name maps of text exports
 * (see textparse.h). Strict by design: a value is either exactly what the
 * format says or the row is rejected with a reason; nothing is guessed. */
#include "clickseg/textparse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clickseg/features.h"

#define US 1000000LL

int tp_split(const char *line, size_t len, char delim, tp_fields *f, char *scratch)
{
    size_t i = 0, used = 0;
    f->n = 0;
    for (;;) {
        if (f->n == TP_MAX_FIELDS)
            return -2;
        if (i < len && line[i] == '"') {
            char *out = scratch + used;
            size_t k = 0;
            for (i++;; i++) {
                if (i >= len)
                    return -1;
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        out[k++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                out[k++] = line[i];
            }
            if (i < len && line[i] != delim)
                return -1;
            f->p[f->n] = out;
            f->len[f->n] = k;
            used += k;
        } else {
            size_t s = i;
            while (i < len && line[i] != delim)
                i++;
            f->p[f->n] = line + s;
            f->len[f->n] = i - s;
        }
        f->n++;
        if (i >= len)
            return 0;
        i++;   /* the delimiter; a trailing one yields a last, empty field */
    }
}

size_t tp_utf8_bad(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        /* lead byte: sequence length and the allowed range of the second byte */
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;        /* overlong */
            if (c == 0xED) hi = 0x9F;        /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;        /* overlong */
            if (c == 0xF4) hi = 0x8F;        /* past U+10FFFF */
        } else
            return i;                        /* NUL, a continuation byte, C0, C1, F5..FF */
        if (i + len > n || u[i + 1] < lo || u[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if (u[i + k] < 0x80 || u[i + k] > 0xBF)
                return i;
        i += len;
    }
    return n;
}

int tp_eq(const char *s, size_t n, const char *z)
{
    return strlen(z) == n && memcmp(s, z, n) == 0;
}

/* Drops blanks (space, tab) at both ends of s[0..*n). */
static const char *trim(const char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

int tp_u64(const char *s, size_t n, uint64_t *v)
{
    s = trim(s, &n);
    if (n == 0)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

int tp_i64(const char *s, size_t n, int64_t *v)
{
    s = trim(s, &n);
    int neg = n && s[0] == '-';
    if (n && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    uint64_t x;
    if (tp_u64(s, n, &x) != 0 || n == 0 || s[0] == ' ' || x > (uint64_t)INT64_MAX + neg)
        return -1;
    *v = neg ? (int64_t)(0 - x) : (int64_t)x;
    return 0;
}

int tp_decimal(const char *s, size_t n, int scale, int64_t *v)
{
    s = trim(s, &n);
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    int64_t x = 0;
    int digits = 0, frac = 0, round_up = 0;
    for (; i < n && isdigit((unsigned char)s[i]); i++, digits++)
        if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, s[i] - '0', &x))
            return -1;
    if (i < n && s[i] == '.') {
        for (i++; i < n && isdigit((unsigned char)s[i]); i++, digits++) {
            if (frac < scale) {
                if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, s[i] - '0', &x))
                    return -1;
                frac++;
            } else if (frac == scale) {
                round_up = s[i] >= '5';
                frac++;   /* later digits do not matter: half away from zero */
            }
        }
    }
    if (i != n || digits == 0)
        return -1;
    for (; frac < scale; frac++)
        if (__builtin_mul_overflow(x, 10, &x))
            return -1;
    if (round_up && __builtin_add_overflow(x, 1, &x))
        return -1;
    *v = neg ? -x : x;
    return 0;
}

/* ---- times ---- */

int tp_time_spec_parse(const char *text, tp_time_spec *spec, cs_err *err)
{
    static const char *const names[] = { "iso8601", "unix_s", "unix_ms", "unix_us" };
    memset(spec, 0, sizeof *spec);
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            spec->kind = i;
            return CS_OK;
        }
    if (!strchr(text, '%'))
        return cs_err_set(err, CS_ECONFIG, "unknown time format \"%s\" (use iso8601, unix_s, "
                          "unix_ms, unix_us or a pattern like \"%%d/%%m/%%Y %%H:%%M:%%S\")", text);
    if (strlen(text) >= sizeof spec->pattern)
        return cs_err_set(err, CS_ECONFIG, "time pattern \"%.20s...\" is longer than %zu "
                          "characters", text, sizeof spec->pattern - 1);
    for (const char *p = text; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (!*p || !strchr("YmdHMSfzbFT%", *p))
            return cs_err_set(err, CS_ECONFIG, "time pattern \"%s\": unknown conversion '%%%s' "
                              "(known: %%Y %%m %%d %%H %%M %%S %%f %%z %%b %%F %%T %%%%)", text,
                              *p ? (char[2]){*p, 0} : "");
    }
    /* %F and %T are shorthands: expand them once here. */
    char *o = spec->pattern, *end = spec->pattern + sizeof spec->pattern - 1;
    for (const char *p = text; *p; p++) {
        const char *put = NULL;
        char one[3] = { p[0], 0, 0 };
        if (*p == '%') {
            p++;
            put = *p == 'F' ? "%Y-%m-%d" : *p == 'T' ? "%H:%M:%S" : (one[1] = *p, one);
        } else {
            put = one;
        }
        size_t k = strlen(put);
        if (o + k > end)
            return cs_err_set(err, CS_ECONFIG, "time pattern \"%.20s...\" is too long", text);
        memcpy(o, put, k);
        o += k;
    }
    *o = '\0';
    spec->kind = TP_TIME_PATTERN;
    return CS_OK;
}

/* A civil time being parsed; zone_set when the text named an offset. */
typedef struct civil {
    int y, mo, d, h, mi, s;
    int64_t frac_us;
    int zone_set;
    int32_t zone_off;   /* seconds east of UTC */
} civil;

/* Reads between lo and hi digits at s[*i]; -1 when fewer than lo. */
static int digits(const char *s, size_t n, size_t *i, int lo, int hi, int *out)
{
    int v = 0, k = 0;
    while (k < hi && *i < n && isdigit((unsigned char)s[*i])) {
        v = v * 10 + (s[(*i)++] - '0');
        k++;
    }
    if (k < lo)
        return -1;
    *out = v;
    return 0;
}

/* A fraction of a second after the '.': 1..9 digits, kept to µs. */
static int fraction(const char *s, size_t n, size_t *i, int64_t *us)
{
    int64_t v = 0;
    int k = 0;
    while (*i < n && isdigit((unsigned char)s[*i])) {
        if (k < 6)
            v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    if (k == 0 || k > 9)
        return -1;
    for (int j = k; j < 6; j++)
        v *= 10;
    *us = v;
    return 0;
}

/* A zone: Z, UTC, GMT, +HH, +HHMM, +HH:MM (after optional blanks). */
static int zone(const char *s, size_t n, size_t *i, civil *c)
{
    while (*i < n && s[*i] == ' ')
        (*i)++;
    if (*i < n && s[*i] == 'Z') {
        (*i)++;
        c->zone_set = 1;
        return 0;
    }
    if (*i + 3 <= n && (strncmp(s + *i, "UTC", 3) == 0 || strncmp(s + *i, "GMT", 3) == 0)) {
        *i += 3;
        c->zone_set = 1;
        if (*i == n)
            return 0;
    }
    if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
        return -1;
    int sign = s[(*i)++] == '-' ? -1 : 1, hh, mm = 0;
    if (digits(s, n, i, 2, 2, &hh) != 0)
        return -1;
    if (*i < n && s[*i] == ':')
        (*i)++;
    if (*i < n && digits(s, n, i, 2, 2, &mm) != 0)
        return -1;
    if (hh > 18 || mm > 59)
        return -1;
    c->zone_set = 1;
    c->zone_off = sign * (hh * 3600 + mm * 60);
    return 0;
}

/* YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][zone]. */
static int parse_iso(const char *s, size_t n, civil *c)
{
    size_t i = 0;
    if (digits(s, n, &i, 4, 4, &c->y) || i >= n || s[i++] != '-' ||
        digits(s, n, &i, 2, 2, &c->mo) || i >= n || s[i++] != '-' ||
        digits(s, n, &i, 2, 2, &c->d))
        return -1;
    if (i == n)
        return 0;
    if (s[i] != 'T' && s[i] != ' ')
        return -1;
    i++;
    if (digits(s, n, &i, 2, 2, &c->h) || i >= n || s[i++] != ':' ||
        digits(s, n, &i, 2, 2, &c->mi))
        return -1;
    if (i < n && s[i] == ':') {
        i++;
        if (digits(s, n, &i, 2, 2, &c->s))
            return -1;
        if (i < n && s[i] == '.') {
            i++;
            if (fraction(s, n, &i, &c->frac_us))
                return -1;
        }
    }
    if (i == n)
        return 0;
    return zone(s, n, &i, c) == 0 && i == n ? 0 : -1;
}

static int parse_pattern(const char *pat, const char *s, size_t n, civil *c)
{
    static const char *const mon[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec" };
    size_t i = 0;
    for (const char *p = pat; *p; p++) {
        if (*p != '%' || p[1] == '%') {
            p += *p == '%';
            if (i >= n || s[i++] != *p)
                return -1;
            continue;
        }
        int rc = 0;
        switch (*++p) {
        case 'Y': rc = digits(s, n, &i, 4, 4, &c->y); break;
        case 'm': rc = digits(s, n, &i, 1, 2, &c->mo); break;
        case 'd': rc = digits(s, n, &i, 1, 2, &c->d); break;
        case 'H': rc = digits(s, n, &i, 1, 2, &c->h); break;
        case 'M': rc = digits(s, n, &i, 1, 2, &c->mi); break;
        case 'S': rc = digits(s, n, &i, 1, 2, &c->s); break;
        case 'f': rc = fraction(s, n, &i, &c->frac_us); break;
        case 'z': rc = zone(s, n, &i, c); break;
        case 'b':
            rc = -1;
            for (int m = 0; m < 12 && i + 3 <= n; m++)
                if (strncasecmp(s + i, mon[m], 3) == 0) {
                    c->mo = m + 1;
                    i += 3;
                    rc = 0;
                    break;
                }
            break;
        default: return -1;
        }
        if (rc)
            return -1;
    }
    return i == n ? 0 : -1;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dm[m - 1] + (m == 2 && leap);
}

int64_t tp_local_to_utc(cs_tz *tz, int64_t local_us)
{
    int64_t L = local_us >= 0 ? local_us / US : -((-local_us + US - 1) / US);
    int64_t sub = local_us - L * US;
    int32_t oa = tz_offset(tz, L - 2 * 86400), ob = tz_offset(tz, L + 2 * 86400);
    int64_t ta = L - oa, tb = L - ob;
    int va = tz_offset(tz, ta) == oa, vb = tz_offset(tz, tb) == ob;
    int64_t t = va && vb ? (ta < tb ? ta : tb) : vb ? tb : ta;
    return t * US + sub;
}

int tp_time(const tp_time_spec *spec, const char *s, size_t n, cs_tz *tz, int64_t *us)
{
    s = trim(s, &n);
    if (n == 0)
        return -1;
    if (spec->kind != TP_TIME_ISO && spec->kind != TP_TIME_PATTERN) {
        int scale = spec->kind == TP_TIME_UNIX_S ? 6 : spec->kind == TP_TIME_UNIX_MS ? 3 : 0;
        return tp_decimal(s, n, scale, us);
    }
    civil c = { 1970, 1, 1, 0, 0, 0, 0, 0, 0 };
    int rc = spec->kind == TP_TIME_ISO ? parse_iso(s, n, &c) : parse_pattern(spec->pattern, s, n, &c);
    if (rc != 0 || c.y < 1 || c.y > 9999 || c.mo < 1 || c.mo > 12 || c.d < 1 ||
        c.d > days_in_month(c.y, c.mo) || c.h > 23 || c.mi > 59 || c.s > 59)
        return -1;
    int64_t secs = days_from_civil(c.y, c.mo, c.d) * 86400 + c.h * 3600 + c.mi * 60 + c.s;
    int64_t local = secs * US + c.frac_us;
    *us = c.zone_set ? local - (int64_t)c.zone_off * US : tp_local_to_utc(tz, local);
    return 0;
}

/* ---- event maps ---- */

int tp_evmap_parse(const char *text, tp_evmap *m, cs_err *err)
{
    memset(m, 0, sizeof *m);
    m->wildcard = -1;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return cs_err_set(err, CS_ECONFIG, "event map entry '%.*s': expected NAME=TYPE",
                              (int)len, p);
        size_t nl = (size_t)(eq - p), tl = len - nl - 1;
        const char *name = trim(p, &nl), *type = trim(eq + 1, &tl);
        int t = -1;
        for (int k = 0; k < EV_NTYPES; k++)
            if (tp_eq(type, tl, ev_type_name(k)))
                t = k;
        if (nl == 0 || nl >= TP_EVNAME_MAX)
            return cs_err_set(err, CS_ECONFIG, "event map entry '%.*s': the name must have 1 to "
                              "%d characters", (int)len, p, TP_EVNAME_MAX - 1);
        if (t < 0)
            return cs_err_set(err, CS_ECONFIG, "event map entry '%.*s': '%.*s' is not an event "
                              "type (page_view, product_view, search, add_to_cart, "
                              "remove_from_cart, checkout, purchase, refund)", (int)len, p,
                              (int)tl, type);
        if (tp_eq(name, nl, "*")) {
            if (m->wildcard >= 0)
                return cs_err_set(err, CS_ECONFIG, "event map: '*' is mapped twice");
            m->wildcard = t;
        } else {
            for (int k = 0; k < m->n; k++)
                if (tp_eq(name, nl, m->name[k]))
                    return cs_err_set(err, CS_ECONFIG, "event map: '%.*s' is mapped twice",
                                      (int)nl, name);
            if (m->n == TP_EVMAP_MAX)
                return cs_err_set(err, CS_ECONFIG, "event map: more than %d names", TP_EVMAP_MAX);
            memcpy(m->name[m->n], name, nl);
            m->type[m->n++] = (uint8_t)t;
        }
        p += len + (end != NULL);
    }
    return CS_OK;
}

int tp_evmap_lookup(const tp_evmap *m, const char *s, size_t n)
{
    for (int k = 0; k < m->n; k++)
        if (tp_eq(s, n, m->name[k]))
            return m->type[k];
    for (int k = 0; k < EV_NTYPES; k++)
        if (tp_eq(s, n, ev_type_name(k)))
            return k;
    if (n == 1 && s[0] >= '0' && s[0] <= '7')
        return s[0] - '0';
    return m->wildcard;
}
