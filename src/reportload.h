#ifndef FB_REPORTLOAD_H
#define FB_REPORTLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"

struct cJSON;

/* A saved report (fetchbench/1 or /2) as `fetchbench report` shows it and
 * `fetchbench compare` judges it: its runs' summaries grouped by mode, the
 * vocabulary's names, the verdicts, and the text itself, so that the tasks
 * can be walked (taskwalk.h) without ever being a tree. The one reader of
 * reports' runs: both commands refuse the same files with the same words. */
#define REPORTLOAD_MODE_MAX  32
#define REPORTLOAD_MAX_MODES 32
#define REPORTLOAD_MAX_NAMES 64

struct fb_loaded_run {
    char mode[REPORTLOAD_MODE_MAX];
    size_t mode_index;          /* into modes */
    long repeat, client;        /* -1: the report does not say (v1) */
    int interrupted;            /* the run's own mark (v1: the report's, on the last of repeats.runs) */
    struct fb_summary summary;
};

struct fb_loaded_report {
    const char *path;           /* borrowed: as given on the command line */
    int version;                /* 1 or 2 */
    char *text;                 /* the file; owned */
    size_t len;
    struct cJSON *config;       /* owned; may be NULL */
    struct cJSON *expectations; /* owned; NULL when none */
    struct fb_loaded_run *runs; /* owned */
    size_t nruns;
    int interrupted;            /* the report's own mark, top-level "interrupted" */
    char modes[REPORTLOAD_MAX_MODES][REPORTLOAD_MODE_MAX]; /* in order of first run */
    size_t nmodes;
    /* The vocabulary's outcomes and counters, in its order (v1: none). */
    char outcomes[REPORTLOAD_MAX_NAMES][SUMMARY_NAME_MAX];
    int outcome_ok[REPORTLOAD_MAX_NAMES]; /* the vocabulary's "ok": 0, a failing outcome */
    size_t noutcomes;
    char counters[REPORTLOAD_MAX_NAMES][SUMMARY_NAME_MAX];
    size_t ncounters;
};

/* Reads and checks the report at path ("-": stdin) into r. Returns 0, or -1
 * with a one-line reason (without the path) in err; r is then empty.
 * reportload_free releases it either way. */
int reportload_read(struct fb_loaded_report *r, const char *path, char *err, size_t errlen);

void reportload_free(struct fb_loaded_report *r);

/* The run tasks belong to when the walk says run (fetchbench/1 keeps the
 * tasks of its last run only): an index into r->runs. */
size_t reportload_task_run(const struct fb_loaded_report *r, size_t run);

#endif
