#ifndef FB_STATS_H
#define FB_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Per-run figures computed from the run's record after it ends: latency
 * percentiles and the backend's load over time. Pure functions over arrays,
 * so report, trace and progress never read a run's internals for them. */

/* Task durations by nearest rank (the value at rank ceil(p/100 * n), 1-based),
 * exact; mean rounded down. */
struct fb_percentiles {
    uint64_t p50, p90, p99, p99_9, max, mean;
};

/* Fills out from values[0..n) (µs), reordering values (selection, O(n) per
 * percentile). Returns 0, or -1 when n is 0 (out is zeroed). */
int stats_percentiles(uint32_t *values, size_t n, struct fb_percentiles *out);

/* Requests in service over time, per interval: the most in service at any
 * moment of [i*interval, (i+1)*interval). */
struct fb_load {
    uint64_t interval_us;
    size_t n;
    uint32_t *max_in_service;   /* [n]; stats_load_free frees it */
};

/* An interval that gives at most about 200 points over wall_us, rounded to
 * 1, 2 or 5 times a power of ten µs, at least 1 ms. */
uint64_t stats_load_interval(uint64_t wall_us);

/* From a step log: log[i] = {t_us, count} with t_us µs from the run's
 * start, non-decreasing, count the number in service from t_us on (the
 * count before the first entry is 0). Returns 0, or -1 out of memory. */
int stats_load_from_steps(struct fb_load *l, const int64_t (*log)[2], size_t n, uint64_t wall_us);

/* From intervals [start[i], end[i]) (µs from the run's start): the client's
 * own view of the fetches in flight when no server log exists. start and end
 * are sorted in place. Returns 0, or -1 out of memory. */
int stats_load_from_spans(struct fb_load *l, uint32_t *start, uint32_t *end, size_t n, uint64_t wall_us);

void stats_load_free(struct fb_load *l);

#endif
