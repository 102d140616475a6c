#ifndef FB_SUMMARY_H
#define FB_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"

struct cJSON;

/* A run's headline numbers: what the report's "summary" holds, what
 * --repeat aggregates, what --expect and `compare` judge. */
struct fb_summary {
    uint64_t wall_us;
    uint64_t upstream_requests;
    int64_t server_requests;    /* -1: unknown (no embedded server) */
    uint64_t cache_hits, cache_misses;
    uint64_t errors[STAGE_COUNT];
    uint64_t errors_total;
    uint64_t peak_threads, threads_created, peak_connections;
    uint64_t threads_failed;    /* thread starts that failed: not in threads_created */
};

/* How a metric is judged. Counts are the experiment's logic and must match
 * exactly; measures (times, thread peaks) vary from run to run and are
 * compared with a tolerance. */
enum fb_metric_kind { METRIC_COUNT, METRIC_MEASURE };

struct fb_metric {
    const char *name;           /* as in the JSON summary; wall_ms is derived */
    enum fb_metric_kind kind;
    int higher_is_better;
};

/* The metrics, in report order; NULL-name terminated. */
extern const struct fb_metric fb_metrics[];

/* The metric called name, or NULL. Accepts the summary's names plus wall_ms,
 * wall_s and errors (= errors.total). */
const struct fb_metric *metric_find(const char *name);
/* s's value of m; returns 0, or -1 when unknown (server_requests without a
 * server). */
int metric_value(const struct fb_summary *s, const char *name, double *out);

/* The JSON "summary" object (caller deletes), and back (0, or -1 naming the
 * first missing or ill-typed field in err). */
struct cJSON *summary_to_json(const struct fb_summary *s);
int summary_from_json(const struct cJSON *obj, struct fb_summary *s, char *err, size_t errlen);

/* Median (lower middle for even n), minimum and maximum of each field over
 * runs[0..n). */
void summary_aggregate(const struct fb_summary *runs, size_t n, struct fb_summary *median,
                       struct fb_summary *min, struct fb_summary *max);

#endif
