#ifndef FB_JSONREAD_H
#define FB_JSONREAD_H

#include <stddef.h>

struct cJSON;

/* Reads a fetchbench report (fetchbench/1 or /2) for its summaries without
 * building a tree of its task arrays: a million-task report is hundreds of
 * megabytes, while `compare` needs a few hundred bytes of it. The top-level
 * members "tasks" and "threads" (v1), and in each object of the top-level
 * array "runs" (v2) the members "tasks", "threads", "keys", "load" and
 * "server", are scanned (checked for balanced structure) and replaced by
 * null; the rest is parsed by cJSON.
 *
 * Returns the document (caller cJSON_Deletes it), or NULL with a one-line
 * reason in err: "not JSON (line L column C)", "truncated", "not an object",
 * nested too deeply, `duplicate key "summary.wall_us"` (two members of one
 * object with one name, anywhere but inside the skipped members). text needs
 * no terminating NUL. */
struct cJSON *jsonread_report(const char *text, size_t len, char *err, size_t errlen);

/* Replaces every control byte of s with '?', in place: text quoted from a
 * file must not break a one-line message. */
void jsonread_one_line(char *s);

/* How far into a file jsonread_report_file looks for a report's beginning. */
#define JSONREAD_PREFIX_MAX 65536

/* Whether text[0..n) begins like a report: an object whose first member is
 * "schema" with a string value starting "fetchbench/" (our writer always puts
 * it first). Returns 1 yes, 0 no, -1 not known yet (the text ends first). */
int jsonread_report_prefix(const char *text, size_t n);

/* Reads the report at path ("-": stdin), at most max bytes, into a malloc'd
 * buffer (caller frees); returns it and its length, or NULL with a reason in
 * err. Whatever does not begin like a report (jsonread_report_prefix) is
 * refused after at most JSONREAD_PREFIX_MAX bytes, and a regular file larger
 * than max before any, so a 5 GB file or an endless pipe costs milliseconds. */
char *jsonread_report_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
