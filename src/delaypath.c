#include "delaypath.h"

#include <stdint.h>
#include <string.h>

#include "parse.h"

int delaypath_parse(const char *rest, unsigned *ms, int *capped)
{
    size_t n = strcspn(rest, "/");
    char digits[24];
    uint64_t v;

    if (rest[n] != '\0' && strncmp(rest + n, "/url/", 5) != 0)
        return 404;
    if (n == 0)
        return 400;
    if (n < sizeof digits) {
        memcpy(digits, rest, n);
        digits[n] = '\0';
        if (parse_u64(digits, 0, DELAYPATH_MAX_MS, &v) == 0) {
            *ms = (unsigned)v;
            *capped = 0;
            return 200;
        }
    }
    /* Too big for the cap, or even for uint64_t: still a delay, capped. */
    for (size_t i = 0; i < n; i++)
        if (rest[i] < '0' || rest[i] > '9')
            return 400;
    *ms = DELAYPATH_MAX_MS;
    *capped = 1;
    return 200;
}
