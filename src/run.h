#ifndef FB_RUN_H
#define FB_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "strategy.h"
#include "timeline.h"
#include "workload.h"

struct fb_config;
struct fb_procsample;

/* One run: one strategy on the invocation's workload, on its own loop, to
 * completion or interrupt. Owns the loop, the scheduler (ready queue, one
 * deadline heap for every sleeping task, the arrivals), the fetcher, the
 * store and every task's record; report, trace and progress read it through
 * the functions below, never its fields. */
struct fb_run;

struct fb_run_opts {
    const struct fb_config *cfg;
    const struct fb_strategy *strategy;
    const struct fb_workload *workload;
    const char *url;            /* borrowed; "{key}" is replaced by the key */
    unsigned fetch_cap;         /* most fetches in libcurl at once; 0 = no limit */
    uint32_t client;            /* the process that runs it (fleets) */
    uint32_t repeat;            /* its index among its strategy's runs */
    int warmup;                 /* a warm-up run (not recorded): a shared
                                 * store keeps its keys apart from the
                                 * recorded runs' */
};

/* What a run counted; progress reads it while the run goes. */
struct fb_run_totals {
    uint32_t ntasks, narrived, nfinished;
    uint32_t nwaiting;          /* tasks in a wait state now */
    uint64_t upstream_requests;  /* fetches handed to libcurl, as they go */
    uint32_t stampede_max;      /* most fetches of one key upstream at once */
    uint64_t waited_for_slot, connections_peak; /* at the run's end */
    uint64_t cache_hits, cache_misses;
    uint64_t errors[STAGE_COUNT];
    uint64_t counters[STRATEGY_MAX_OWN];
    uint64_t t0_us;             /* absolute monotonic start */
    uint64_t wall_us;           /* start to the last task's end (or the interrupt) */
    int interrupted;            /* the signal that stopped it, or 0 */
    int overran;                /* stopped at the 71-minute limit of a run */
};

struct fb_task_error {
    uint8_t stage;              /* enum fb_stage */
    long http_status;
    char *message;
};

/* One task as the report sees it. */
struct fb_task_view {
    uint32_t id, key, arrival_us;
    int arrived;
    uint32_t start_us, end_us;
    const char *outcome;
    unsigned outcome_id;
    const struct fb_task_error *error;      /* or NULL */
    const struct fb_span *spans;            /* valid until the next view */
    int nspans;
    uint64_t wait_us;           /* time in its spans of wait states */
    int waiter;                 /* it waited for another task or a poll */
    struct fb_link_view {
        uint32_t task, at_us;   /* the task it waited on; when that one let it go */
        uint8_t kind;           /* enum fb_link_kind; LINK_NONE: no link */
    } waited_on;                /* the last task it waited on and went on because of */
    struct fb_lock_view {
        uint32_t attempts;
        uint8_t woken_by;       /* enum fb_lock_woken; LOCK_WOKEN_NONE: asked none */
        uint8_t lease_expired;
    } lock;                     /* its wait for a store lock */
};

/* Sets a run up. NULL on failure, with a one-line reason in err. */
struct fb_run *run_new(const struct fb_run_opts *o, char *err, size_t errlen);
/* Runs it; 0 when it took place (tasks may have failed), -1 when it could not
 * start (reason in err). */
int run_execute(struct fb_run *run, char *err, size_t errlen);
void run_free(struct fb_run *run);

const struct fb_run_totals *run_totals(const struct fb_run *run);
const struct fb_run_opts *run_opts(const struct fb_run *run);
/* Absolute monotonic µs to µs from the run's start (0 before it). */
uint64_t run_rel_us(const struct fb_run *run, int64_t abs_us);
/* The /proc thread-count samples, if they were asked for. */
const struct fb_procsample *run_procsample(const struct fb_run *run);
/* Task i; -1 out of memory for its spans. */
int run_task_view(struct fb_run *run, uint32_t i, struct fb_task_view *v);
/* The name of state id in this run's vocabulary. */
const char *run_state_name(const struct fb_run *run, unsigned state);
/* Every error recorded, in order. */
const struct fb_task_error *run_errors(const struct fb_run *run, size_t *n);
/* Upstream fetches per key, and the most of them upstream at once [workload keys]. */
const uint32_t *run_key_fetches(const struct fb_run *run);
const uint32_t *run_key_max_in_flight(const struct fb_run *run);
/* Each fetch's libcurl start and end (µs from t0), for the client's view of
 * the backend's load; caller frees both. -1 out of memory. */
int run_fetch_intervals(const struct fb_run *run, uint32_t **start, uint32_t **end, size_t *n);
/* One pass over the tasks after the run: outcome counts by id (core ids,
 * then OUTCOME_OWN(i) at [OUTCOME_OWN_BASE + i]), the time spent in each
 * state id over all tasks (µs), the durations (end - start) of the tasks
 * that arrived, and apart those of the waiters (tasks that waited for
 * another task or a poll, not only for the loop or a connection slot).
 * The caller frees durations (waiters' durations share its block).
 * -1 out of memory. */
struct fb_tally {
    uint64_t outcomes[OUTCOME_OWN_BASE + STRATEGY_MAX_OWN];
    uint64_t state_us[256];
    uint32_t *durations;
    size_t ndurations;
    uint32_t *waiter_durations;
    size_t nwaiters;
};
int run_tally(const struct fb_run *run, struct fb_tally *tally);

#endif
