/* libFuzzer: the server's request-path parser on arbitrary bytes. Besides
 * the contract's ranges it checks that spelling never changes a number: a
 * leading zero, or a first digit percent-encoded, parses the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delaypath.h"

/* Parses prefix + s, which must give 200 with the same ms and capped. */
static void same_number(const char *prefix, const char *s, unsigned ms, int capped)
{
    size_t plen = strlen(prefix), slen = strlen(s);
    char *t = malloc(plen + slen + 1);
    unsigned ms2 = 0;
    int capped2 = 0;

    if (t == NULL)
        return;
    memcpy(t, prefix, plen);
    memcpy(t + plen, s, slen + 1);
    if (delaypath_parse(t, &ms2, &capped2) != 200 || ms2 != ms || capped2 != capped)
        abort();
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    unsigned ms = 0;
    int capped = 0;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int status = delaypath_parse(s, &ms, &capped);
    if (status != 200 && status != 400 && status != 404)
        abort();
    if (status == 200 && (ms > DELAYPATH_MAX_MS || (capped && ms != DELAYPATH_MAX_MS)))
        abort();
    if (status == 200) {
        same_number("0", s, ms, capped);
        same_number("%30", s, ms, capped);
        if (s[0] >= '0' && s[0] <= '9') {
            char enc[4] = { '%', '3', s[0], '\0' };
            same_number(enc, s + 1, ms, capped);
        }
    }
    free(s);
    return 0;
}
