#ifndef FB_REPORT_H
#define FB_REPORT_H

#include <stdio.h>

#include "expect.h"
#include "stats.h"
#include "summary.h"
#include "threads.h"

struct fb_run;
struct fb_config;
struct fb_target;
struct fb_server_stats;
struct cJSON;

/* One run and what was gathered about it after it ended. */
struct fb_run_record {
    struct fb_run *run;
    const struct fb_target *target;
    const struct fb_server_stats *server;   /* valid == 0: no server stats */
    struct fb_thread_life *lives;           /* absolute monotonic µs */
    size_t nlives;
    struct fb_thread_sample *samples;
    size_t nsamples;
    uint32_t baseline, peak_threads;
    size_t threads_failed;                  /* creations that failed */
    struct fb_summary summary;              /* report_summarize fills them */
    struct fb_load load;
    int load_from_server;
};

/* What the whole invocation shares: its header. */
struct fb_report_head {
    const struct fb_config *cfg;
    const struct fb_target *target;         /* the first run's */
    uint32_t ntasks;                        /* arrivals drawn */
    unsigned fetch_cap;                     /* 0: no limit */
    uint64_t fd_limit;                      /* 0: none */
};

/* A mode's runs, for the end of the report. */
struct fb_mode_runs {
    const char *mode;
    struct fb_summary *runs;
    size_t n;
};

/* Fills r->summary and r->load from the run, the thread log and the
 * server's stats. -1 out of memory. */
int report_summarize(struct fb_run_record *r);
void report_record_free(struct fb_run_record *r);

/* The fetchbench/2 document (docs/report-v2.md), streamed into f in three
 * parts: the head before the first run's record, each run as it ends, the
 * tail. Each returns 0, or -1 when a write failed (or memory ran out). */
int report_begin(FILE *f, const struct fb_report_head *h);
int report_run(struct fb_run_record *r);
int report_end(const struct fb_mode_runs *modes, size_t nmodes, const struct fb_verdict *verdicts,
               size_t nverdicts, int repeat);

/* A fleet's pieces. report_run_alone writes one run object alone into f
 * (a client process's part); report_run_text appends such an object,
 * read back as text, to the report report_begin started; report_end_fleet
 * is report_end with the "fleet" member (docs/report-v2.md) before the
 * tail, taking ownership of it (NULL: none). 0, or -1 as above. */
int report_run_alone(FILE *f, struct fb_run_record *r);
int report_run_text(const char *text);
int report_end_fleet(const struct fb_mode_runs *modes, size_t nmodes, const struct fb_verdict *verdicts,
                     size_t nverdicts, int repeat, struct cJSON *fleet);

/* A few human lines about one run: what ran, how long, what it cost. */
void report_print_run(FILE *f, const struct fb_run_record *r);

#endif
