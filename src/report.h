#ifndef FB_REPORT_H
#define FB_REPORT_H

#include <stdio.h>

#include "expect.h"
#include "summary.h"
#include "threads.h"

struct fb_run;
struct fb_target;
struct fb_server_stats;

/* Everything a report is made of, gathered after the run. */
struct fb_report {
    const struct fb_run *run;
    const struct fb_target *target;
    const struct fb_server_stats *server;   /* valid == 0: no server stats */
    struct fb_thread_life *lives;           /* absolute monotonic µs */
    size_t nlives;
    struct fb_thread_sample *samples;
    size_t nsamples;
    uint32_t baseline, peak_threads;
    size_t threads_failed;                  /* creations that failed */
    struct fb_summary summary;              /* report_summarize fills it */
    const struct fb_summary *runs;          /* every run of --repeat, or NULL */
    size_t nruns;
    const struct fb_expect *expects;        /* judged */
    size_t nexpects;
};

/* Fills r->summary from the run, the thread log and the server's stats. */
void report_summarize(struct fb_report *r);

/* Writes the fetchbench/1 JSON document (schema/fetchbench-1.schema.json),
 * streaming the task array. Returns 0, or -1 when a write failed. */
int report_write_json(FILE *f, const struct fb_report *r);
/* A few human lines: what ran, how long, what it cost. */
void report_print_summary(FILE *f, const struct fb_report *r);

#endif
