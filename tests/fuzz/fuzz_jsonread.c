/* libFuzzer: the report reader behind `compare`, then the summary reader on
 * whatever it accepts. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "jsonread.h"
#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct fb_summary s;

    err[0] = '\0';
    cJSON *doc = jsonread_report((const char *)data, size, err, sizeof(err));
    if (doc == NULL) {
        if (err[0] == '\0')
            abort(); /* every refusal has a reason */
        return 0;
    }
    (void)summary_from_json(cJSON_GetObjectItemCaseSensitive(doc, "summary"), &s, err, sizeof(err));
    cJSON_Delete(doc);
    return 0;
}
