#ifndef FB_FLEET_H
#define FB_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "summary.h"

struct cJSON;
struct fb_config;

/* --processes P: each run (a mode, a repeat) made by P client processes at
 * once, forked by us after we started the one server they share; each
 * child runs its own loop on its own workload (seed + its index) and hands
 * its run object back through an unlinked temporary file. */

/* What the fleet did, for main's verdicts, report tail and exit code. */
struct fb_fleet_result {
    int wrote_head;             /* the report's head and runs are in json */
    unsigned ngroups;           /* rounds recorded (each mode of each repeat) */
    int failed_runs;            /* runs with failed tasks */
    int lost;                   /* clients that died or could not run */
    struct cJSON *fleet;        /* the report's "fleet" member; caller owns */
};

/* Runs the warm-up and the recorded rounds, writes the head and every
 * client's run into json (report_begin, report_run_text), and puts each
 * round's fleet summary in modes[m].runs (the verdicts judge it). Stops
 * after a round that lost a client or was interrupted. Returns 0, or an
 * exit code after a message on stderr (res says what was written). */
int fleet_run(const struct fb_config *cfg, FILE *json, unsigned fetch_cap, uint64_t fd_limit,
              struct fb_mode_runs *modes, struct fb_fleet_result *res);

/* Task durations gathered from runs' task lists: every arrived task's, and
 * the waiters' (tasks that say "waiter"). */
struct fleet_durations {
    uint32_t *all, *waiters;
    size_t nall, nwaiters, capall, capwaiters;
};

/* A round's aggregate over its clients' run summaries (docs/report-v2.md,
 * "fleet"): counts summed, wall and peaks the largest, latency from the
 * durations of every client's arrived tasks and the waiters' (reordered:
 * the waiters' only when the tasks named as many waiters as the summaries
 * count, else unknown, as for reports older than the flag);
 * server_requests as given (-1: unknown). */
void fleet_sum(const struct fb_summary *runs, size_t n, struct fleet_durations *d, int64_t server_requests,
               struct fb_summary *out);

/* Appends the durations (end_us - start_us) of a run object's tasks that
 * arrived (all but those cancelled with no span) to d; -1 out of memory. */
int fleet_durations(const struct cJSON *run, struct fleet_durations *d);
void fleet_durations_free(struct fleet_durations *d);

/* One round's "fleet.groups" entry; per[i] is client clients[i]'s run
 * summary and interrupted flag. NULL out of memory. */
struct cJSON *fleet_group_json(const char *mode, uint32_t repeat, const uint32_t *clients,
                               const struct fb_summary *per, const int *interrupted, size_t n,
                               const uint32_t *lost, size_t nlost, const struct fb_summary *agg);

#endif
