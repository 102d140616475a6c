#ifndef FB_RUN_H
#define FB_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "procsample.h"
#include "runq.h"
#include "task.h"
#include "xfer.h"

struct event_base;
struct event;
struct fb_mode;

struct fb_task_error {
    uint8_t stage;              /* enum fb_stage */
    long http_status;
    char *message;
};

/* One experiment: N tasks on one loop through one mode. Owns the loop, the
 * scheduler, the fetcher, the cache and every task's record. */
struct fb_run {
    const struct fb_config *cfg;
    const char *url;
    const struct fb_mode *mode;
    void *mode_state;           /* the mode's own */

    struct event_base *base;
    struct fb_runq runq;
    struct fb_xfer xfer;
    struct fb_cache cache;
    struct event *sig_wake;     /* the first SIGINT/SIGTERM (sig.h) */
    struct event *progress;     /* or NULL */
    struct fb_procsample procsample; /* the /proc cross-check, if asked for */

    struct fb_task *tasks;
    uint32_t ntasks, nfinished;
    uint64_t t0_us;             /* absolute monotonic start */
    uint64_t wall_us;           /* start to the last task's end */

    unsigned fetch_cap;         /* most fetches in libcurl at once; 0 = no limit */
    int fd_bound;               /* the cap comes from the open-file limit */
    uint64_t fd_limit;          /* the open-file soft limit; 0 = none */

    uint64_t cache_hits, cache_misses, fetched;
    uint64_t errors[STAGE_COUNT];
    struct fb_task_error *errs;
    size_t nerrs, caperrs;
    int interrupted;            /* the signal that stopped the run, or 0 */
    char errbuf[256];           /* why run_execute failed */
};

/* Runs cfg->tasks tasks against url (borrowed) to completion or interrupt.
 * Returns 0 when the run took place (tasks may have failed: see errors), -1
 * when it could not start (reason in run->errbuf). run_free in both cases. */
int run_execute(struct fb_run *run, const struct fb_config *cfg, const char *url);
void run_free(struct fb_run *run);
uint64_t run_errors_total(const struct fb_run *run);
/* Absolute monotonic µs (a fetch's start, the thread log, the server's log)
 * to µs from the run's start; what happened just before the start is at 0. */
uint64_t run_rel_us(const struct fb_run *run, int64_t abs_us);

/* --- The primitives a mode drives its tasks with. --- */

/* Records mark m on t now. */
void run_mark(struct fb_run *run, struct fb_task *t, enum fb_mark m);
/* Checks the cache for the run's URL; returns 1 on a hit, 0 on a miss. */
int run_cache_lookup(struct fb_run *run, struct fb_task *t);
/* Starts the fetch; the mode's step runs again with the result. */
void run_fetch(struct fb_run *run, struct fb_task *t);
/* Stores a successful fetch's body in the cache (takes it from r). */
void run_store(struct fb_run *run, struct fb_task *t, struct fb_xfer_result *r);
/* Ends t: a cache hit when r is NULL, else fetched or an error by r->ok. */
void run_finish(struct fb_run *run, struct fb_task *t, const struct fb_xfer_result *r);
/* Resumes t (its step runs) on a later tick. */
void run_wake(struct fb_run *run, struct fb_task *t);

#endif
