/* imp_otto.c — OTTO session dataset (otto-de/recsys-dataset), JSON lines:
 *   {"session":12899779,"events":[{"aid":59625,"ts":1661724000278,"type":"clicks"},...]}
 * Mapping (docs/import.md): one line is one session of an anonymous
 * visitor and yields one event per element of "events": clicks ->
 * product_view, carts -> add_to_cart, orders -> purchase; ts is Unix
 * milliseconds; the session id is both the user and the session. A line
 * with any malformed event is rejected whole. The reader below knows only
 * the JSON this format needs: objects, arrays, strings, integers; other
 * values of unknown keys are skipped. */
#include <string.h>

#include "clickseg/features.h"
#include "clickseg/importer.h"

#define MAX_DEPTH 32

typedef struct js {
    const char *s;
    size_t n, i;
} js;

static void ws(js *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\r'))
        j->i++;
}

static int eat(js *j, char c)
{
    ws(j);
    if (j->i < j->n && j->s[j->i] == c) {
        j->i++;
        return 1;
    }
    return 0;
}

/* A string: its raw text (escapes left as they are) in *p, *len. */
static int string(js *j, const char **p, size_t *len)
{
    if (!eat(j, '"'))
        return -1;
    size_t s = j->i;
    while (j->i < j->n && j->s[j->i] != '"')
        j->i += j->s[j->i] == '\\' ? 2 : 1;
    if (j->i >= j->n)
        return -1;
    *p = j->s + s;
    *len = j->i - s;
    j->i++;
    return 0;
}

/* An integer (no fraction, no exponent). */
static int integer(js *j, int64_t *v)
{
    ws(j);
    size_t s = j->i;
    if (j->i < j->n && j->s[j->i] == '-')
        j->i++;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
        j->i++;
    if (j->i < j->n && strchr(".eE", j->s[j->i]))
        return -1;
    return tp_i64(j->s + s, j->i - s, v);
}

/* Skips any value. */
static int isdig(char c)
{
    return c >= '0' && c <= '9';
}

/* A JSON number at j (RFC 8259: -? int frac? exp?); 0 and past it, or -1. */
static int number(js *j)
{
    const char *s = j->s;
    size_t i = j->i, n = j->n;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && isdig(s[i]))
        while (i < n && isdig(s[i]))
            i++;
    else
        return -1;
    if (i < n && s[i] == '.') {
        if (++i >= n || !isdig(s[i]))
            return -1;
        while (i < n && isdig(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !isdig(s[i]))
            return -1;
        while (i < n && isdig(s[i]))
            i++;
    }
    j->i = i;
    return 0;
}

static int skip(js *j, int depth)
{
    const char *p;
    size_t n;
    ws(j);
    if (depth > MAX_DEPTH || j->i >= j->n)
        return -1;
    char c = j->s[j->i];
    if (c == '"')
        return string(j, &p, &n);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->i++;
        if (eat(j, close))
            return 0;
        do {
            if (c == '{' && (string(j, &p, &n) || !eat(j, ':')))
                return -1;
            if (skip(j, depth + 1))
                return -1;
        } while (eat(j, ','));
        return eat(j, close) ? 0 : -1;
    }
    /* A literal (true, false, null) or a JSON number, nothing else: a run
     * of such characters is not a value ("+-+-"). */
    static const char *const lits[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t ln = strlen(lits[k]);
        if (j->n - j->i >= ln && memcmp(j->s + j->i, lits[k], ln) == 0) {
            j->i += ln;
            return 0;
        }
    }
    return number(j);
}

/* One element of "events"; emits it. Returns 0, a reason or IMP_FATAL. */
static int event(imp_parser *p, js *j, uint64_t session, int k)
{
    int64_t aid = -1, ts = -1;
    const char *type = NULL, *key;
    size_t tn = 0, kn;
    if (!eat(j, '{'))
        return imp_reject(p, R_BAD_JSON, "events[%d] is not an object", k);
    do {
        if (string(j, &key, &kn) || !eat(j, ':'))
            return imp_reject(p, R_BAD_JSON, "events[%d]: bad key at byte %zu", k, j->i);
        int bad = tp_eq(key, kn, "aid") ? integer(j, &aid)
                : tp_eq(key, kn, "ts") ? integer(j, &ts)
                : tp_eq(key, kn, "type") ? string(j, &type, &tn) : skip(j, 1);
        if (bad)
            return imp_reject(p, R_BAD_JSON, "events[%d].%.*s: bad value at byte %zu", k,
                              (int)kn, key, j->i);
    } while (eat(j, ','));
    if (!eat(j, '}'))
        return imp_reject(p, R_BAD_JSON, "events[%d]: expected '}' at byte %zu", k, j->i);
    if (ts < 0 || !type)
        return imp_reject(p, R_BAD_TIME, "events[%d] has no %s", k, ts < 0 ? "ts" : "type");
    if (aid < 0)
        return imp_reject(p, R_BAD_PRODUCT, "events[%d] has no aid", k);
    imp_event e = { .user_id = session, .session_id = session, .product_id = (uint64_t)aid };
    if (__builtin_mul_overflow(ts, 1000, &e.ts))   /* imp_emit rejects what is past 9999 */
        return imp_reject(p, R_BAD_TIME, "events[%d].ts %lld ms is after 9999", k, (long long)ts);
    if (tp_eq(type, tn, "clicks"))
        e.type = EV_PRODUCT_VIEW;
    else if (tp_eq(type, tn, "carts"))
        e.type = EV_ADD_TO_CART;
    else if (tp_eq(type, tn, "orders"))
        e.type = EV_PURCHASE;
    else
        return imp_reject(p, R_UNKNOWN_EVENT, "events[%d].type '%.*s' (otto has clicks, carts, "
                          "orders)", k, (int)tn, type);
    return imp_emit(p, &e);
}

static int otto_parse(imp_parser *p, const imp_file *f, const char *line, size_t len)
{
    (void)f;
    js j = { line, len, 0 };
    int64_t session = -1;
    size_t events_at = 0;
    const char *key;
    size_t kn;
    if (!eat(&j, '{'))
        return imp_reject(p, R_BAD_JSON, "not a JSON object");
    /* First pass: the session id may come after the events. */
    do {
        if (string(&j, &key, &kn) || !eat(&j, ':'))
            return imp_reject(p, R_BAD_JSON, "bad key at byte %zu", j.i);
        ws(&j);
        if (tp_eq(key, kn, "events"))
            events_at = j.i;
        int bad = tp_eq(key, kn, "session") ? integer(&j, &session) : skip(&j, 1);
        if (bad)
            return imp_reject(p, R_BAD_JSON, "bad value of '%.*s' at byte %zu", (int)kn, key, j.i);
    } while (eat(&j, ','));
    if (!eat(&j, '}') || (ws(&j), j.i != j.n))
        return imp_reject(p, R_BAD_JSON, "expected the end of the object at byte %zu", j.i);
    if (session < 0)
        return imp_reject(p, R_BAD_USER, "no \"session\" (a non-negative integer)");
    if (!events_at)
        return imp_reject(p, R_BAD_JSON, "no \"events\"");
    j.i = events_at;
    if (!eat(&j, '['))
        return imp_reject(p, R_BAD_JSON, "\"events\" is not an array");
    if (eat(&j, ']'))
        return 0;
    int k = 0, rc;
    do {
        if ((rc = event(p, &j, (uint64_t)session, k++)) != 0)
            return rc;
    } while (eat(&j, ','));
    return eat(&j, ']') ? 0 : imp_reject(p, R_BAD_JSON, "expected ']' at byte %zu", j.i);
}

static int otto_sniff(imp_parser *p, imp_file *f, const char *line, size_t len, cs_err *err)
{
    (void)p;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] != '{')
        return cs_err_set(err, CS_EINPUT, "%s: line 1 is not a JSON object; otto files are JSON "
                          "lines like {\"session\":0,\"events\":[{\"aid\":1,\"ts\":1659304800025,"
                          "\"type\":\"clicks\"}]} (got '%.*s')", f->path,
                          (int)(len > 120 ? 120 : len), line);
    return CS_OK;
}

const cs_importer imp_otto = {
    .name = "otto",
    .summary = "OTTO sessions, JSON lines {\"session\":..,\"events\":[{\"aid\",\"ts\",\"type\"}]}",
    .currency = "unknown",
    .sniff = otto_sniff,
    .parse = otto_parse,
};
