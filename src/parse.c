#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stddef.h>

/* strtoull accepts leading blanks and a '-' sign (negating the result
 * silently), so digits are checked here before it ever sees the string. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_int(const char *s, int min, int max, int *out)
{
    int negative = 0;
    uint64_t mag;

    if (s != NULL && *s == '-') {
        negative = 1;
        s++;
    }
    if (parse_u64(s, 0, (uint64_t)INT_MAX + 1, &mag) < 0)
        return -1;
    long long v = negative ? -(long long)mag : (long long)mag;
    if (v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int parse_double(const char *s, double *out)
{
    char *end;

    /* strtod also takes blanks, hex, "inf" and "nan": none is a threshold. */
    if (s == NULL || !(isdigit((unsigned char)*s) || *s == '-' || *s == '.'))
        return -1;
    for (const char *p = s; *p; p++)
        if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' || *p == 'e' || *p == 'E'))
            return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}
