/* libFuzzer: the server's request-path parser on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delaypath.h"

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
    free(s);
    return 0;
}
