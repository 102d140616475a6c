/* libFuzzer: the command line's number parsers and --expect. Each accepted
 * value must print back to what was parsed. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), back[32], err[256];
    uint64_t u;
    int i;
    double d;
    struct fb_expect e;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (parse_u64(s, 0, UINT64_MAX, &u) == 0) {
        snprintf(back, sizeof(back), "%" PRIu64, u);
        /* Leading zeros are the only other spelling allowed. */
        const char *digits = s;
        while (digits[0] == '0' && digits[1] != '\0')
            digits++;
        if (strcmp(back, digits) != 0)
            abort();
    }
    if (parse_int(s, INT_MIN, INT_MAX, &i) == 0 && (s[0] == '-') != (i < 0) && i != 0)
        abort();
    if (parse_u64(s, 5, 10, &u) == 0 && (u < 5 || u > 10))
        abort();
    (void)parse_double(s, &d);
    if (expect_parse(s, &e, err, sizeof(err)) < 0 && err[0] == '\0')
        abort();
    free(s);
    return 0;
}
