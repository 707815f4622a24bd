/* csvtext.c — CSV text fields kept from running as formulas (see csvtext.h). */
#include "clickseg/csvtext.h"

#include <string.h>

/* 1 when s[0..n) is one or more digits with at most one "." among them. */
static int plain_number(const char *s, size_t n)
{
    size_t digits = 0, dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && ++dots <= 1)
            continue;
        else
            return 0;
    }
    return digits > 0;
}

int csv_formula_risk(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    switch (s[0]) {
    case '=': case '@': case '\t': case '\r':
        return 1;
    case '+': case '-':
        return !plain_number(s + 1, n - 1);
    default:
        return 0;
    }
}

void csv_put_text(FILE *f, const char *s)
{
    fputc('"', f);
    if (csv_formula_risk(s, strlen(s)))
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
