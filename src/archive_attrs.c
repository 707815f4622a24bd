/* archive_attrs.c — /events attributes checked at plan time (see
 * archive_attrs.h). A foreign writer's attributes are left alone unless
 * they say something format v1 would read wrongly. */
#include "clickseg/archive_attrs.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "clickseg/archive.h"
#include "clickseg/h5util.h"

/* `version` counts only when the file says it is a clickseg archive:
 * another program's "version" attribute is its own business. */
static int check_version(hid_t g, const char *path, cs_err *err)
{
    char format[64];
    if (h5_attr_get_string(g, "format", format, sizeof format) != 1 ||
        strcmp(format, "clickseg-archive") != 0)
        return CS_OK;
    int64_t v = 0;
    int got = h5_attr_get_int64(g, "version", &v);
    if (got == 0 && H5Aexists(g, "version") <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return CS_OK;
    }
    if (got == 1 && v == CS_ARCHIVE_VERSION)
        return CS_OK;
    if (got == 1) {
        char said[32];
        h5_attr_int_text(g, "version", said, sizeof said);
        return cs_err_set(err, CS_EINPUT, "%s: /events says archive format version %s; this "
                          "clickseg reads version %d (written by a newer clickseg?)", path,
                          said, CS_ARCHIVE_VERSION);
    }
    return cs_err_set(err, CS_EINPUT, "%s: attribute /events/version is not one integer "
                      "(format v%d has version = %d)", path, CS_ARCHIVE_VERSION,
                      CS_ARCHIVE_VERSION);
}

/* Microseconds, however a writer spells it; anything else (milliseconds,
 * nanoseconds, seconds) would put every event at a wrong time or reject
 * it, so the file is refused with the unit named. */
static int check_ts_unit(hid_t g, const char *path, cs_err *err)
{
    char unit[256];
    int got = h5_attr_get_string(g, "ts_unit", unit, sizeof unit);
    if (got == 0)
        return CS_OK;
    if (got < 0)
        return cs_err_set(err, CS_EINPUT, "%s: attribute /events/ts_unit is not one string "
                          "(format v1: \"microseconds since 1970-01-01T00:00:00Z\")", path);
    size_t k = strspn(unit, " "), n = strlen(unit);
    while (n > k && unit[n - 1] == ' ')
        unit[--n] = '\0';
    const char *u = unit + k;
    /* "since" another epoch than v1's is as wrong as another unit: the
     * text after it must name 1970, or "epoch" with no other date */
    char low[sizeof unit];
    size_t i = 0;
    for (; u[i]; i++)
        low[i] = (char)tolower((unsigned char)u[i]);
    low[i] = '\0';
    const char *since = strstr(low, "since");
    int epoch_ok = !since || strstr(since, "1970") ||
                   (strstr(since, "epoch") && !strpbrk(since, "0123456789"));
    if ((strncasecmp(u, "microsecond", 11) == 0 && epoch_ok) || strcasecmp(u, "us") == 0 ||
        strcasecmp(u, "usec") == 0 || strcmp(u, "\xc2\xb5s") == 0 ||   /* micro sign */
        strcmp(u, "\xce\xbcs") == 0)                                   /* Greek mu */
        return CS_OK;
    return cs_err_set(err, CS_EINPUT, "%s: attribute /events/ts_unit is \"%s\", but format "
                      "v1 stores ts in microseconds since 1970-01-01T00:00:00Z: convert the "
                      "column (and the attribute), or import the source with clickseg import",
                      path, unit);
}

/* One string: an ISO 4217 code (three capitals), or "unknown" for none. */
static int check_currency(hid_t g, const char *path, char *currency, size_t n, cs_err *err)
{
    int got = h5_attr_get_string(g, "currency", currency, n);
    if (got < 0)
        return cs_err_set(err, CS_EINPUT, "%s: attribute /events/currency is not one string "
                          "of at most %zu characters (an ISO 4217 code such as \"EUR\")",
                          path, n - 1);
    if (got == 0 || strcmp(currency, "unknown") == 0) {
        currency[0] = '\0';   /* no currency: amounts without a symbol; sums with any other */
        return CS_OK;
    }
    const unsigned char *c = (const unsigned char *)currency;
    if (strlen(currency) == 3 && isupper(c[0]) && isupper(c[1]) && isupper(c[2]))
        return CS_OK;
    return cs_err_set(err, CS_EINPUT, "%s: attribute /events/currency is \"%s\"; expected an "
                      "ISO 4217 code such as \"EUR\" (three capitals), or \"unknown\"", path,
                      currency);
}

int archive_check_attrs(hid_t g, const char *path, char *currency, size_t n, cs_err *err)
{
    if (check_version(g, path, err) != CS_OK || check_ts_unit(g, path, err) != CS_OK)
        return err->code;
    return check_currency(g, path, currency, n, err);
}
