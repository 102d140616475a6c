#ifndef FB_TRACE_H
#define FB_TRACE_H

#include <stdio.h>

struct fb_report;

/* Writes the run as a Chrome Trace Event Format file (JSON object form),
 * which Perfetto and chrome://tracing open: one track per task with its
 * states as complete events (lock_held encloses the states inside it), the
 * live thread count and the server's requests in service as counters, each
 * created thread as a span on a track of its own, and names as metadata.
 * Returns 0, or -1 when a write failed. */
int trace_write(FILE *f, const struct fb_report *r);

#endif
