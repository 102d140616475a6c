#ifndef FB_JSONREAD_H
#define FB_JSONREAD_H

#include <stddef.h>

struct cJSON;

/* Reads a fetchbench report for its summaries without building a tree of
 * its task array: a million-task report is hundreds of megabytes, while
 * `compare` needs a few hundred bytes of it. The top-level members "tasks"
 * and "threads" are scanned (checked for balanced structure) and replaced by
 * null; the rest is parsed by cJSON.
 *
 * Returns the document (caller cJSON_Deletes it), or NULL with a one-line
 * reason in err: "not JSON (line L column C)", "truncated", "not an object",
 * nested too deeply. text needs no terminating NUL. */
struct cJSON *jsonread_report(const char *text, size_t len, char *err, size_t errlen);

/* Reads the file at path (at most max bytes) into a malloc'd buffer; returns
 * it and its length, or NULL with a reason in err. */
char *jsonread_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
