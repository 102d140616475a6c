#include "delaypath.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Enough digits to hold DELAYPATH_MAX_MS; a number with more significant
 * digits than this is above the cap whatever they are. */
#define SIGNIFICANT_DIGITS 7

/* The decimal digit at s (plain, or "%3D" percent-encoded), with *len set to
 * the bytes it takes; -1 when s holds no digit there. */
static int digit_at(const char *s, size_t *len)
{
    if (s[0] >= '0' && s[0] <= '9') {
        *len = 1;
        return s[0] - '0';
    }
    /* '0'..'9' are 0x30..0x39, so the encoding's hex digits are themselves
     * decimal and its case never matters. */
    if (s[0] == '%' && s[1] == '3' && s[2] >= '0' && s[2] <= '9') {
        *len = 3;
        return s[2] - '0';
    }
    return -1;
}

int delaypath_parse(const char *rest, unsigned *ms, int *capped)
{
    size_t n = strcspn(rest, "/");
    size_t significant = 0;
    uint32_t v = 0;

    if (rest[n] != '\0' && strncmp(rest + n, "/url/", 5) != 0)
        return 404;
    if (n == 0)
        return 400;
    /* One pass, no copy and no overflow: past SIGNIFICANT_DIGITS the value
     * no longer matters, only that every byte is a digit. */
    for (size_t i = 0; i < n;) {
        size_t len;
        int d = digit_at(rest + i, &len);
        if (d < 0 || i + len > n)
            return 400;
        i += len;
        if (significant == 0 && d == 0)
            continue;
        if (++significant <= SIGNIFICANT_DIGITS)
            v = v * 10 + (uint32_t)d;
    }
    if (significant > SIGNIFICANT_DIGITS || v > DELAYPATH_MAX_MS) {
        *ms = DELAYPATH_MAX_MS;
        *capped = 1;
    } else {
        *ms = v;
        *capped = 0;
    }
    return 200;
}
