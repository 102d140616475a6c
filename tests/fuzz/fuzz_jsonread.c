/* libFuzzer: the report reader behind `compare`, then the summary reader on
 * whatever it accepts; the prefix check against itself. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"
#include "summary.h"

/* The plain way: every pair of members of every object. Whatever
 * jsonread_report accepts must have no two of one name. */
static int has_duplicate(const cJSON *node)
{
    const cJSON *a, *b;

    cJSON_ArrayForEach(a, node) {
        if (cJSON_IsObject(node))
            for (b = a->next; b; b = b->next)
                if (a->string && b->string && strcmp(a->string, b->string) == 0)
                    return 1;
        if (has_duplicate(a))
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct fb_summary s;
    const char *text = (const char *)data;

    /* Once decided, more text never changes the answer. */
    int half = jsonread_report_prefix(text, size / 2), whole = jsonread_report_prefix(text, size);
    if (half != -1 && half != whole)
        abort();
    err[0] = '\0';
    cJSON *doc = jsonread_report(text, size, err, sizeof(err));
    if (doc == NULL) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL)
            abort(); /* every refusal has a reason, on one line */
        return 0;
    }
    if (has_duplicate(doc))
        abort();
    (void)summary_from_json(cJSON_GetObjectItemCaseSensitive(doc, "summary"), &s, err, sizeof(err));
    cJSON_Delete(doc);
    return 0;
}
