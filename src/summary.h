#ifndef FB_SUMMARY_H
#define FB_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "task.h"

struct cJSON;

/* Named figures whose names come from the vocabulary (outcomes, counters,
 * wait states): "outcomes.shared", "counters.lock_handoffs",
 * "wait_us.lock_wait". */
#define SUMMARY_MAX_NAMED 64
#define SUMMARY_NAME_MAX  48

struct fb_named {
    char name[SUMMARY_NAME_MAX];
    uint64_t value;
};

/* A run's headline numbers: what a run's "summary" holds, what --repeat
 * aggregates, what --expect and `compare` judge. */
struct fb_summary {
    /* Fixed fields: every one 8 bytes wide (summary_aggregate walks them). */
    int64_t tasks;              /* -1: unknown (v1) */
    uint64_t wall_us;
    uint64_t upstream_requests;
    int64_t server_requests;    /* -1: unknown (no server to ask) */
    uint64_t cache_hits, cache_misses;
    uint64_t errors[STAGE_COUNT];
    uint64_t errors_total;      /* failed upstream fetches */
    uint64_t peak_threads, threads_created, peak_connections;
    uint64_t threads_failed;    /* thread starts that failed: not in threads_created */
    int64_t p50_us, p90_us, p99_us, p99_9_us, max_us, mean_us; /* -1: unknown (v1, no tasks) */
    int64_t wait_us;            /* all tasks' time in wait states; -1: unknown (v1) */
    int64_t stampede_max;       /* most fetches of one key upstream at once; -1: unknown (older) */
    int64_t waiters;            /* tasks that waited for another task or a poll; -1: unknown */
    int64_t waiter_p50_us, waiter_p90_us, waiter_p99_us, waiter_p99_9_us, waiter_max_us,
        waiter_mean_us;         /* the waiters' durations; -1: unknown, or no waiters */
    /* Then the named ones. */
    size_t nnamed;
    struct fb_named named[SUMMARY_MAX_NAMED];
};

/* How a metric is judged. Counts are the experiment's logic and must match
 * exactly; measures (times, thread peaks) vary from run to run and are
 * compared with a tolerance. */
enum fb_metric_kind { METRIC_COUNT, METRIC_MEASURE };

struct fb_metric {
    const char *name;           /* as in the JSON summary; *_ms are derived */
    enum fb_metric_kind kind;
    int higher_is_better;       /* 1, 0 (lower is better), -1 neither: a change is a difference */
};

/* The fixed metrics, in report order; NULL-name terminated. */
extern const struct fb_metric fb_metrics[];

/* How name is judged: 0, or -1 when no report could have it. Accepts the
 * fixed names, the derived ones (wall_ms, wall_s, errors, errors.total,
 * errors.STAGE, p50_ms p90_ms p99_ms p99_9_ms max_ms mean_ms wait_ms), and
 * the named families "outcomes.X" and "counters.X" (counts) and
 * "wait_us.X"/"wait_ms.X" (measures). */
int metric_kind(const char *name, enum fb_metric_kind *kind, int *higher_is_better);
/* s's value of name; 0, or -1 when s has none (server_requests without a
 * server, a percentile of a v1 report, a counter this run does not have). */
int metric_value(const struct fb_summary *s, const char *name, double *out);

/* Sets the percentiles of all tasks (waiters 0) or of the waiters (1)
 * from p, or to unknown when p is NULL (no such tasks). */
void summary_set_latency(struct fb_summary *s, int waiters, const struct fb_percentiles *p);

/* Adds (or sets) a named figure; ignores it when the table is full or the
 * name does not fit SUMMARY_NAME_MAX. */
void summary_set_named(struct fb_summary *s, const char *name, uint64_t value);
/* The named figure, or -1 when s has none. */
int summary_get_named(const struct fb_summary *s, const char *name, uint64_t *out);

/* The JSON "summary" object (caller deletes), and back: 0, or -1 naming the
 * first missing or ill-typed field in err. Reads v1 summaries too (no
 * percentiles, outcomes or counters: those are unknown). */
struct cJSON *summary_to_json(const struct fb_summary *s);
int summary_from_json(const struct cJSON *obj, struct fb_summary *s, char *err, size_t errlen);

/* Median (lower middle for even n), minimum and maximum of each field over
 * runs[0..n); a named figure is aggregated over the runs that have it. */
void summary_aggregate(const struct fb_summary *runs, size_t n, struct fb_summary *median,
                       struct fb_summary *min, struct fb_summary *max);

/* hyperfine's figures of one metric over the runs that have it: the mean,
 * the sample standard deviation (0 for one run), the minimum and maximum.
 * Returns how many runs had it (0: the outputs are untouched). */
size_t summary_spread(const struct fb_summary *runs, size_t n, const char *metric, double *mean, double *sd,
                      double *min, double *max);

#endif
