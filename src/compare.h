#ifndef FB_COMPARE_H
#define FB_COMPARE_H

#include <stddef.h>
#include <stdio.h>

struct cJSON;

/* `fetchbench compare BASE.json NEW.json [--threshold PCT] [--counts-only]
 * [--allow-interrupted] [--allow-different]`: per mode present in both
 * reports (fetchbench/1 has one, config.mode), a table of the summary
 * metrics with absolute and relative deltas. Counts must match
 * (a change for the worse is a regression); measures are compared with a
 * tolerance: single runs by the threshold, repeated runs (--repeat) by the
 * threshold beyond the runs' spread, or by a one-sided Mann-Whitney U test at
 * five runs a side or more. Interrupted runs, modes in one report only and
 * different workloads are refused unless allowed. Exit 0 no regression, 1
 * regression (or stdout could not be written), 2 bad input. */
int compare_main(int argc, char **argv);

/* One-sided Mann-Whitney U: the probability of a rank sum of b at least as
 * large as observed if a and b came from one distribution (small p: b tends
 * to be larger). Exact for small samples, normal approximation beyond. */
double compare_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

/* Writes one line, prefix + "workloads differ: config.KEY A vs B", to out for
 * each workload key (tasks, delay_ms, capacity, url, max_connections, and
 * each key of config.workload: "workload.seed") whose values differ in two
 * reports' "config" objects; returns how many. A key missing on either side
 * is unknown, not a difference; url is skipped when both used the embedded
 * server (its port is ephemeral). The modes are not a workload key: compare
 * pairs them itself. */
size_t compare_workloads(const struct cJSON *base, const struct cJSON *cur, FILE *out, const char *prefix);

#endif
