#ifndef FB_TRACE_H
#define FB_TRACE_H

#include <stdio.h>

struct fb_run_record;

/* Writes the runs as a Chrome Trace Event Format file (JSON object form),
 * which Perfetto and chrome://tracing open: for each run a process of task
 * tracks with their states as complete events (an enclosing state, like
 * lock_held, around the states inside it) and the outcome as an instant,
 * the live thread count and the server's requests in service as counters,
 * and a process of the threads it created. Streamed like the report: begin,
 * one call per run, end. Each returns 0, or -1 when a write failed. */
int trace_begin(FILE *f);
int trace_run(const struct fb_run_record *r, unsigned index);
int trace_end(void);

#endif
