/* tz.c — local time in a timezone: proleptic Gregorian date arithmetic
 * and a reader for the system's TZif zone files (RFC 8536, with the POSIX
 * TZ footer rule for times after the last stored transition). Pure C, no
 * MPI, no process-global state (the TZ variable and localtime() are not
 * used). */
#include "clickseg/tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400
#define TZIF_MAX_BYTES (1 << 20)

/* One date of a POSIX rule: Jn (kind 'J', n 1..365, no leap day), n (kind
 * 'D', 0..365) or Mm.w.d (kind 'M'); time is seconds after local midnight. */
struct rule_date {
    char kind;
    int n, m, w, d;
    int32_t time;
};

struct cs_tz_rule {
    int32_t std_off, dst_off;   /* seconds east of UTC */
    int has_dst;
    struct rule_date start, end;
};

/* ---- date arithmetic ------------------------------------------------- */

/* Days since 1970-01-01 of y-m-d (Howard Hinnant's algorithm). */
int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = tz_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The y-m-d of a day number (inverse of days_from_civil). */
void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = tz_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Whether y is a Gregorian leap year. */
static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_weekday(int64_t days)
{
    return (int)(days - tz_floor_div(days + 3, 7) * 7 + 3);
}

/* ---- POSIX TZ rules (the TZif footer) -------------------------------- */

/* Skips a zone abbreviation ("CET" or "<+0530>"); NULL when malformed. */
static const char *skip_abbr(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q ? q + 1 : NULL;
    }
    const char *s = p;
    while (isalpha((unsigned char)*p))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* Parses [+-]h[hh][:mm[:ss]] into seconds; NULL when malformed. */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int v[3] = { 0, 0, 0 };
    for (int k = 0; k < 3; k++) {
        if (!isdigit((unsigned char)*p))
            return NULL;
        int x = 0, nd = 0;
        while (isdigit((unsigned char)*p) && nd < 3)
            x = x * 10 + (*p++ - '0'), nd++;
        v[k] = x;
        if (*p != ':' || k == 2)
            break;
        p++;
    }
    if (v[0] > 167 || v[1] > 59 || v[2] > 59)
        return NULL;
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

/* Parses a small unsigned decimal; NULL when there is no digit. */
static const char *parse_uint(const char *p, int *out)
{
    if (!isdigit((unsigned char)*p))
        return NULL;
    int x = 0;
    while (isdigit((unsigned char)*p) && x < 100000)
        x = x * 10 + (*p++ - '0');
    *out = x;
    return p;
}

/* Parses one rule date with its optional "/time"; NULL when malformed. */
static const char *parse_rule_date(const char *p, struct rule_date *rd)
{
    memset(rd, 0, sizeof *rd);
    rd->time = 7200;
    if (*p == 'M') {
        rd->kind = 'M';
        if (!(p = parse_uint(p + 1, &rd->m)) || *p++ != '.' ||
            !(p = parse_uint(p, &rd->w)) || *p++ != '.' || !(p = parse_uint(p, &rd->d)))
            return NULL;
        if (rd->m < 1 || rd->m > 12 || rd->w < 1 || rd->w > 5 || rd->d > 6)
            return NULL;
    } else {
        rd->kind = *p == 'J' ? 'J' : 'D';
        if (!(p = parse_uint(p + (*p == 'J'), &rd->n)))
            return NULL;
        if (rd->n > 365 || (rd->kind == 'J' && rd->n < 1))
            return NULL;
    }
    if (*p == '/')
        p = parse_hms(p + 1, &rd->time);
    return p;
}

/* Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3".
 * Returns 0, or -1 when it is malformed. */
static int parse_posix_tz(const char *s, cs_tz_rule *r)
{
    int32_t west;
    const char *p = skip_abbr(s);
    if (!p || !(p = parse_hms(p, &west)))
        return -1;
    memset(r, 0, sizeof *r);
    r->std_off = r->dst_off = -west;
    if (*p == '\0')
        return 0;
    if (!(p = skip_abbr(p)))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, &west)))
            return -1;
        r->dst_off = -west;
    }
    /* no rule given: the POSIX default (US rules) */
    const char *rules = *p ? p : ",M3.2.0,M11.1.0";
    if (*rules != ',' || !(rules = parse_rule_date(rules + 1, &r->start)) ||
        *rules != ',' || !(rules = parse_rule_date(rules + 1, &r->end)))
        return -1;
    return *rules == '\0' ? 0 : -1;
}

/* Day number of a rule date in year y. */
static int64_t rule_day(const struct rule_date *rd, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (rd->kind == 'J')
        return jan1 + rd->n - 1 + (is_leap(y) && rd->n >= 60);
    if (rd->kind == 'D')
        return jan1 + rd->n;
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int64_t first = days_from_civil(y, rd->m, 1);
    int sunday_based = (days_weekday(first) + 1) % 7;   /* 0 = Sunday */
    int64_t day = first + (rd->d - sunday_based + 7) % 7 + (int64_t)(rd->w - 1) * 7;
    int len = mdays[rd->m - 1] + (rd->m == 2 && is_leap(y));
    while (day >= first + len)
        day -= 7;
    return day;
}

/* Offset under rule r at UTC second t, with the surrounding interval
 * [*lo, *hi) in which that offset holds. */
static void rule_offset(const cs_tz_rule *r, int64_t t, int32_t *off,
                        int64_t *lo, int64_t *hi)
{
    *off = r->std_off;
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    if (!r->has_dst)
        return;
    int64_t y;
    int m, d;
    civil_from_days(tz_floor_div(t + r->std_off, DAY_S), &y, &m, &d);
    int64_t at[6];
    int32_t to[6];
    for (int k = 0; k < 3; k++) {
        at[2 * k] = rule_day(&r->start, y - 1 + k) * DAY_S + r->start.time - r->std_off;
        to[2 * k] = r->dst_off;
        at[2 * k + 1] = rule_day(&r->end, y - 1 + k) * DAY_S + r->end.time - r->dst_off;
        to[2 * k + 1] = r->std_off;
    }
    for (int i = 1; i < 6; i++)          /* insertion sort by time */
        for (int j = i; j > 0 && at[j] < at[j - 1]; j--) {
            int64_t ta = at[j]; at[j] = at[j - 1]; at[j - 1] = ta;
            int32_t tt = to[j]; to[j] = to[j - 1]; to[j - 1] = tt;
        }
    int last = -1;
    for (int i = 0; i < 6 && at[i] <= t; i++)
        last = i;
    if (last < 0) {   /* cannot happen for sane rules; do not cache */
        *off = to[0] == r->dst_off ? r->std_off : r->dst_off;
        *lo = t;
        *hi = t + 1;
        return;
    }
    *off = to[last];
    *lo = at[last];
    *hi = last + 1 < 6 ? at[last + 1] : t + 1;
}

/* ---- TZif files ------------------------------------------------------ */

struct tzif_hdr {
    int version;
    uint32_t isut, isstd, leap, time, type, chars;
};

/* Big-endian 32-bit value at p. */
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Big-endian 64-bit signed value at p. */
static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads a 44-byte TZif header; returns 0, or -1 when it is not one. */
static int tzif_header(const unsigned char *p, size_t n, struct tzif_hdr *h)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = p[4] ? p[4] - '0' : 1;
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chars = be32(p + 40);
    if (h->type == 0 || h->type > 256 || h->time > 100000 || h->chars > 100000 ||
        h->leap > 100000 || h->isut > 256 || h->isstd > 256)
        return -1;
    return 0;
}

/* Length of the data block after a header, for tsize-byte times. */
static size_t tzif_block_len(const struct tzif_hdr *h, size_t tsize)
{
    return h->time * tsize + h->time + h->type * 6 + h->chars +
           h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Fills tz's transitions from a data block (offsets that do not change are
 * merged). Returns CS_OK, or CS_ENOMEM / CS_ECONFIG with err set. */
static int tzif_load_block(cs_tz *tz, const struct tzif_hdr *h, const unsigned char *p,
                           size_t tsize, cs_err *err)
{
    const unsigned char *idx = p + h->time * tsize;
    const unsigned char *types = idx + h->time;
    tz->trans = cs_malloc((h->time + 1) * sizeof *tz->trans, err, "timezone transitions");
    tz->trans_off = cs_malloc((h->time + 1) * sizeof *tz->trans_off, err, "timezone offsets");
    if (!tz->trans || !tz->trans_off)
        return CS_ENOMEM;
    tz->first_off = (int32_t)be32(types);
    int32_t prev = tz->first_off;
    for (uint32_t i = 0; i < h->time; i++) {
        if (idx[i] >= h->type)
            return cs_err_set(err, CS_ECONFIG, "corrupt zone file (type index)");
        int64_t at = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        int32_t off = (int32_t)be32(types + idx[i] * 6);
        if (tz->ntrans > 0 && at <= tz->trans[tz->ntrans - 1])
            return cs_err_set(err, CS_ECONFIG, "corrupt zone file (unsorted)");
        if (off == prev)
            continue;
        tz->trans[tz->ntrans] = at;
        tz->trans_off[tz->ntrans++] = off;
        prev = off;
    }
    return CS_OK;
}

/* Parses a whole TZif file image into tz. Returns CS_OK or CS_ECONFIG. */
static int tzif_parse(cs_tz *tz, const unsigned char *buf, size_t n, cs_err *err)
{
    struct tzif_hdr h;
    if (tzif_header(buf, n, &h) != 0)
        return cs_err_set(err, CS_ECONFIG, "not a TZif zone file");
    size_t tsize = 4, pos = 44, len = tzif_block_len(&h, 4);
    if (h.version >= 2) {   /* skip the 32-bit block, use the 64-bit one */
        if (n < pos + len || tzif_header(buf + pos + len, n - pos - len, &h) != 0)
            return cs_err_set(err, CS_ECONFIG, "corrupt zone file (second header)");
        pos += len + 44;
        tsize = 8;
        len = tzif_block_len(&h, 8);
    }
    if (n < pos + len)
        return cs_err_set(err, CS_ECONFIG, "corrupt zone file (truncated)");
    if (h.leap > 0)
        return cs_err_set(err, CS_ECONFIG, "zones with leap seconds (\"right/\") are not "
                          "supported");
    int rc = tzif_load_block(tz, &h, buf + pos, tsize, err);
    if (rc != CS_OK || h.version < 2)
        return rc;
    pos += len;   /* footer: "\n<POSIX TZ>\n" */
    if (pos >= n || buf[pos] != '\n')
        return cs_err_set(err, CS_ECONFIG, "corrupt zone file (footer)");
    const unsigned char *end = memchr(buf + pos + 1, '\n', n - pos - 1);
    size_t flen = end ? (size_t)(end - buf - pos - 1) : 0;
    if (!end || flen == 0 || flen > 255)
        return end && flen == 0 ? CS_OK : cs_err_set(err, CS_ECONFIG, "corrupt zone file (footer)");
    char footer[256];
    memcpy(footer, buf + pos + 1, flen);
    footer[flen] = '\0';
    if (!(tz->rule = cs_malloc(sizeof *tz->rule, err, "timezone rule")))
        return CS_ENOMEM;
    if (parse_posix_tz(footer, tz->rule) != 0)
        return cs_err_set(err, CS_ECONFIG, "unsupported zone rule '%s'", footer);
    return CS_OK;
}

/* Reads a whole file into a malloc'ed buffer. Returns CS_OK, or CS_ECONFIG
 * (with strerror) / CS_ENOMEM. */
static int read_small_file(const char *path, unsigned char **buf, size_t *n, cs_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_err_set(err, CS_ECONFIG, "%s: %s", path, strerror(errno));
    unsigned char *b = cs_malloc(TZIF_MAX_BYTES, err, "zone file");
    if (!b) {
        fclose(f);
        return CS_ENOMEM;
    }
    errno = 0;
    *n = fread(b, 1, TZIF_MAX_BYTES, f);
    int bad = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (bad) {
        free(b);
        return cs_err_set(err, CS_ECONFIG, "%s: %s", path, strerror(bad));
    }
    *buf = b;
    return CS_OK;
}

/* Whether name looks like an IANA zone name (no absolute path, no "..",
 * only letters, digits, "/", "_", "-", "+"). */
static int zone_name_ok(const char *name)
{
    if (!isalpha((unsigned char)name[0]) || strstr(name, "..") || strstr(name, "//"))
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
            return 0;
    return 1;
}

/* Parses a fixed offset "+HH:MM" / "-HH:MM"; returns 0, or -1. */
static int parse_fixed_offset(const char *s, int32_t *off)
{
    if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':')
        return -1;
    for (int i = 1; i < 6; i++)
        if (i != 3 && !isdigit((unsigned char)s[i]))
            return -1;
    int hh = (s[1] - '0') * 10 + (s[2] - '0'), mm = (s[4] - '0') * 10 + (s[5] - '0');
    if (hh > 23 || mm > 59)
        return -1;
    *off = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return 0;
}

/* Loads an IANA zone into tz. Returns CS_OK or CS_ECONFIG. */
static int tz_open_zone(cs_tz *tz, const char *name, cs_err *err)
{
    if (!zone_name_ok(name))
        return cs_err_set(err, CS_ECONFIG, "timezone '%s': expected \"UTC\", an offset like "
                          "\"+05:30\" or an IANA name like \"Europe/Berlin\"", name);
    char path[sizeof CS_ZONEINFO_DIR + CS_TZ_NAME_MAX + 1];
    snprintf(path, sizeof path, "%s/%s", CS_ZONEINFO_DIR, name);
    unsigned char *buf = NULL;
    size_t n = 0;
    int rc = read_small_file(path, &buf, &n, err);
    if (rc == CS_OK)
        rc = tzif_parse(tz, buf, n, err);
    free(buf);
    if (rc != CS_OK)
        return cs_err_wrap(err, "timezone '%s' (is it a zone in %s?)", name, CS_ZONEINFO_DIR);
    return CS_OK;
}

/* Builds tz from "UTC", "+HH:MM"/"-HH:MM" or an IANA name. CS_ECONFIG
 * (tz left empty) when the name is malformed or the zone file unusable. */
int tz_open(cs_tz *tz, const char *name, cs_err *err)
{
    memset(tz, 0, sizeof *tz);
    size_t len = strlen(name);
    if (len == 0 || len >= CS_TZ_NAME_MAX)
        return cs_err_set(err, CS_ECONFIG, "timezone '%s': %s", name,
                          len ? "name too long" : "empty name");
    memcpy(tz->name, name, len);
    int rc = CS_OK;
    if (strcmp(name, "UTC") != 0 && parse_fixed_offset(name, &tz->first_off) != 0) {
        if (name[0] == '+' || name[0] == '-')
            rc = cs_err_set(err, CS_ECONFIG, "timezone '%s': a fixed offset is written "
                            "+HH:MM or -HH:MM (hours 00-23)", name);
        else
            rc = tz_open_zone(tz, name, err);
    }
    if (rc != CS_OK) {
        tz_close(tz);
        return rc;
    }
    tz->cache_lo = 1;   /* empty cache: lo > hi */
    tz->cache_hi = 0;
    if (tz->ntrans == 0 && !tz->rule) {   /* one offset for all time */
        tz->cache_lo = INT64_MIN;
        tz->cache_hi = INT64_MAX;
        tz->cache_off = tz->first_off;
    }
    return CS_OK;
}

/* Frees the zone tables; tz is zeroed. */
void tz_close(cs_tz *tz)
{
    free(tz->trans);
    free(tz->trans_off);
    free(tz->rule);
    memset(tz, 0, sizeof *tz);
}

/* Refills the cache with the offset interval around UTC second t. */
static void tz_lookup(cs_tz *tz, int64_t t)
{
    tz->lookups++;
    int n = tz->ntrans;
    if (n == 0 || t < tz->trans[0]) {
        tz->cache_off = tz->first_off;
        tz->cache_lo = INT64_MIN;
        tz->cache_hi = n ? tz->trans[0] : INT64_MAX;
        if (n == 0 && tz->rule)
            rule_offset(tz->rule, t, &tz->cache_off, &tz->cache_lo, &tz->cache_hi);
        return;
    }
    int lo = 0, hi = n - 1;   /* last i with trans[i] <= t */
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    tz->cache_off = tz->trans_off[lo];
    tz->cache_lo = tz->trans[lo];
    tz->cache_hi = lo + 1 < n ? tz->trans[lo + 1] : INT64_MAX;
    if (lo == n - 1 && tz->rule) {
        int64_t rlo, rhi;
        rule_offset(tz->rule, t, &tz->cache_off, &rlo, &rhi);
        if (rlo > tz->cache_lo)
            tz->cache_lo = rlo;
        tz->cache_hi = rhi;
    }
}

/* Offset in seconds east of UTC at UTC second t; searches only
 * when t leaves the cached interval. */
int32_t tz_offset(cs_tz *tz, int64_t t)
{
    if (t < tz->cache_lo || t >= tz->cache_hi)
        tz_lookup(tz, t);
    return tz->cache_off;
}

/* Local calendar fields of ts_us (microseconds, floor-divided). */
void tz_local(cs_tz *tz, int64_t ts_us, cs_local_time *lt)
{
    int64_t t = tz_floor_div(ts_us, 1000000);
    lt->utc_offset = tz_offset(tz, t);
    int64_t local = t + lt->utc_offset;
    int64_t days = tz_floor_div(local, DAY_S);
    int64_t sod = local - days * DAY_S;
    int64_t y;
    civil_from_days(days, &y, &lt->month, &lt->day);
    lt->year = (int)y;
    lt->hour = (int)(sod / 3600);
    lt->minute = (int)(sod / 60 % 60);
    lt->second = (int)(sod % 60);
    lt->weekday = days_weekday(days);
    lt->yday = (int)(days - days_from_civil(y, 1, 1));
}

/* Local hour 0..23 of ts_us. */
int tz_hour(cs_tz *tz, int64_t ts_us)
{
    int64_t t = tz_floor_div(ts_us, 1000000);
    int64_t local = t + tz_offset(tz, t);
    return (int)((local - tz_floor_div(local, DAY_S) * DAY_S) / 3600);
}

/* Local weekday of ts_us, 0 = Monday .. 6 = Sunday. */
int tz_weekday(cs_tz *tz, int64_t ts_us)
{
    int64_t t = tz_floor_div(ts_us, 1000000);
    return days_weekday(tz_floor_div(t + tz_offset(tz, t), DAY_S));
}

/* Both at once: one offset lookup and one day split for a session's entry. */
void tz_hour_weekday(cs_tz *tz, int64_t ts_us, int *hour, int *weekday)
{
    int64_t t = tz_floor_div(ts_us, 1000000);
    int64_t local = t + tz_offset(tz, t), days = tz_floor_div(local, DAY_S);
    *hour = (int)((local - days * DAY_S) / 3600);
    *weekday = days_weekday(days);
}

int64_t tz_day(cs_tz *tz, int64_t ts_us)
{
    int64_t t = tz_floor_div(ts_us, 1000000);
    return tz_floor_div(t + tz_offset(tz, t), DAY_S);
}
