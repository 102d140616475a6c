#ifndef FB_TASKWALK_H
#define FB_TASKWALK_H

#include <stddef.h>

struct cJSON;

/* Hands each task of a report's text to fn, one at a time, in document
 * order: a million-task report is never a tree of a million objects (what
 * jsonread_report skips, this visits). run is the index in "runs"
 * (fetchbench/2) or 0 (fetchbench/1's top-level "tasks"); task is parsed
 * by cJSON, borrowed for the call (fn may detach items from it). The walk
 * steps between values on its own and lets cJSON parse each value, so the
 * text must be one that jsonread_report accepted. fn returns 0 to go on,
 * anything else to stop: that is returned. Returns 0, or -1 with a reason
 * in err when the text is not as expected. */
int taskwalk_report(const char *text, size_t len, int (*fn)(void *ctx, size_t run, struct cJSON *task),
                    void *ctx, char *err, size_t errlen);

#endif
