#ifndef FB_TRACE_H
#define FB_TRACE_H

#include <stdint.h>
#include <stdio.h>

struct fb_run_record;

/* Process ids: client C's run N has its tasks in pid C * TRACE_PIDS_PER_CLIENT
 * + 2N + 1 and its threads in the next, so the traces of a fleet's clients
 * merge without collisions and a pid reads as "client, run" in decimal. An
 * invocation has at most 16 modes x 1000 repeats = 16000 runs; pids stay
 * below 2^31 (what viewers read) for clients below 21474. */
#define TRACE_PIDS_PER_CLIENT 100000u

/* Above this many aggregated-state changes in a run, the "tasks in STATE"
 * counters are sampled in TRACE_BUCKETS buckets of the run (each bucket's
 * peak at its start, its closing level at its last µs) instead of at every
 * change: a 100,000-task run would otherwise write a counter event per µs. */
#define TRACE_EXACT_POINTS 16384u
#define TRACE_BUCKETS 2000u

/* Writes the runs as a Chrome Trace Event Format file (JSON object form),
 * which Perfetto and chrome://tracing open: for each run a process of task
 * tracks with their states as complete events (an enclosing state, like
 * lock_held, around the states inside it; each with a cat and args: task,
 * key, outcome, and a failed fetch's stage, HTTP status and message) and the
 * outcome as an instant, flow events from a task to the task that waited on
 * it (waited_on) and from a task's dns slice to the resolver thread it
 * started, the live thread count and the server's requests in service as
 * counters, and a process of the threads it created. At most max_tasks task
 * tracks per run (and as many thread tracks): the rest are aggregated into
 * "tasks in STATE" counters, and a "fetchbench_aggregated" metadata event in
 * each run's process says how many. Streamed like the report: begin, one
 * call per run, end; nothing is held between runs. Each returns 0, or -1
 * when a write failed or memory ran out. */
int trace_begin(FILE *f, uint32_t max_tasks);
int trace_run(const struct fb_run_record *r, unsigned index);
int trace_end(void);

/* Tasks aggregated into counters so far, and in how many runs. */
void trace_aggregated(uint64_t *tasks, unsigned *runs);

#endif
