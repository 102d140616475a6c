#include "reportload.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"

#define MAX_REPORT_BYTES (4ull << 30)
#define MAX_RUNS         100000

/* A mode's name as strategies spell them: it is printed, so nothing else. */
static int is_mode_name(const char *s)
{
    if (*s == '\0' || strlen(s) >= REPORTLOAD_MODE_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'
              || *s == '-'))
            return 0;
    return 1;
}

static long int_or(const cJSON *v, long dflt)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (long)v->valuedouble : dflt;
}

/* Adds a run of mode with the summary obj; 0, or -1 with the reason
 * (prefixed with where, the summary's place in the file) in err. */
static int add_run(struct fb_loaded_report *r, const cJSON *obj, const char *mode, long repeat, long client,
                   const char *where, char *err, size_t errlen)
{
    char why[256];
    size_t m;

    if (r->nruns == MAX_RUNS) {
        snprintf(err, errlen, "more than %d runs", MAX_RUNS);
        return -1;
    }
    for (m = 0; m < r->nmodes && strcmp(r->modes[m], mode) != 0; m++)
        ;
    if (m == REPORTLOAD_MAX_MODES) {
        snprintf(err, errlen, "more than %d modes", REPORTLOAD_MAX_MODES);
        return -1;
    }
    if (m == r->nmodes)
        snprintf(r->modes[r->nmodes++], REPORTLOAD_MODE_MAX, "%s", mode);
    struct fb_loaded_run *run = &r->runs[r->nruns];
    memset(run, 0, sizeof(*run));
    if (summary_from_json(obj, &run->summary, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s%s", where, why);
        return -1;
    }
    snprintf(run->mode, sizeof(run->mode), "%s", mode);
    run->mode_index = m;
    run->repeat = repeat;
    run->client = client;
    r->nruns++;
    return 0;
}

/* v2: every run of "runs", under its "mode". */
static int read_runs_v2(struct fb_loaded_report *r, const cJSON *doc, char *err, size_t errlen)
{
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs"), *run;
    size_t i = 0;

    if (!cJSON_IsArray(runs) || cJSON_GetArraySize(runs) == 0) {
        snprintf(err, errlen, "runs: %s", cJSON_IsArray(runs) ? "no runs" : "missing or not an array");
        return -1;
    }
    r->runs = calloc((size_t)cJSON_GetArraySize(runs), sizeof(*r->runs));
    if (r->runs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cJSON_ArrayForEach(run, runs) {
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(run, "mode");
        const cJSON *intr = cJSON_GetObjectItemCaseSensitive(run, "interrupted");
        char where[48];
        snprintf(where, sizeof(where), "runs[%zu].", i);
        if (!cJSON_IsString(mode) || !is_mode_name(mode->valuestring)) {
            snprintf(err, errlen, "runs[%zu].mode: not a mode's name (letters, digits, '_', '-'; at most %d)", i,
                     REPORTLOAD_MODE_MAX - 1);
            return -1;
        }
        if (intr && !cJSON_IsBool(intr)) {
            snprintf(err, errlen, "runs[%zu].interrupted: not true or false", i);
            return -1;
        }
        if (add_run(r, cJSON_GetObjectItemCaseSensitive(run, "summary"), mode->valuestring,
                    int_or(cJSON_GetObjectItemCaseSensitive(run, "repeat"), -1),
                    int_or(cJSON_GetObjectItemCaseSensitive(run, "client"), -1), where, err, errlen) < 0)
            return -1;
        r->runs[r->nruns - 1].interrupted = cJSON_IsTrue(intr);
        i++;
    }
    return 0;
}

/* v1: one mode, config.mode; its runs are repeats.runs, or the summary. */
static int read_runs_v1(struct fb_loaded_report *r, const cJSON *doc, char *err, size_t errlen)
{
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "config"), "mode");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "repeats"), "runs");
    const cJSON *run;
    long i = 0;

    if (!cJSON_IsString(mode) || !is_mode_name(mode->valuestring)) {
        snprintf(err, errlen, "config.mode: not a mode's name");
        return -1;
    }
    /* An empty repeats.runs is no repeats: the summary is the one run. */
    int repeated = cJSON_IsArray(runs) && cJSON_GetArraySize(runs) > 0;
    r->runs = calloc(repeated ? (size_t)cJSON_GetArraySize(runs) : 1, sizeof(*r->runs));
    if (r->runs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!repeated)
        return add_run(r, cJSON_GetObjectItemCaseSensitive(doc, "summary"), mode->valuestring, 0, -1, "", err,
                       errlen);
    cJSON_ArrayForEach(run, runs) {
        char where[48];
        snprintf(where, sizeof(where), "repeats.runs[%ld].", i);
        if (add_run(r, run, mode->valuestring, i, -1, where, err, errlen) < 0)
            return -1;
        i++;
    }
    r->runs[r->nruns - 1].interrupted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "interrupted"));
    return 0;
}

/* The names of vocabulary.KIND (outcomes or counters) into names; with ok
 * (outcomes), each its "ok" too, which they must have. */
static int read_names(const cJSON *doc, const char *kind, char (*names)[SUMMARY_NAME_MAX], int *ok, size_t *n,
                      char *err, size_t errlen)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "vocabulary"), kind);
    const cJSON *item;
    size_t i = 0;

    *n = 0;
    if (list == NULL)
        return 0;
    if (!cJSON_IsArray(list)) {
        snprintf(err, errlen, "vocabulary.%s: not an array", kind);
        return -1;
    }
    cJSON_ArrayForEach(item, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        const cJSON *okv = cJSON_GetObjectItemCaseSensitive(item, "ok");
        if (ok && (!cJSON_IsString(name) || !cJSON_IsBool(okv))) {
            snprintf(err, errlen, "vocabulary.%s[%zu]: expected {\"name\": string, \"ok\": true or false}", kind, i);
            return -1;
        }
        /* Printed as a column's and a line's name: a mode's alphabet. */
        if (!cJSON_IsString(name) || !is_mode_name(name->valuestring)) {
            snprintf(err, errlen, "vocabulary.%s[%zu].name: not a name (letters, digits, '_', '-')", kind, i);
            return -1;
        }
        if (*n < REPORTLOAD_MAX_NAMES) {
            if (ok)
                ok[*n] = cJSON_IsTrue(okv);
            snprintf(names[(*n)++], SUMMARY_NAME_MAX, "%s", name->valuestring);
        }
        i++;
    }
    return 0;
}

int reportload_read(struct fb_loaded_report *r, const char *path, char *err, size_t errlen)
{
    cJSON *doc = NULL;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    r->path = path;
    r->text = jsonread_report_file(path, MAX_REPORT_BYTES, &r->len, err, errlen);
    if (r->text == NULL)
        return -1;
    doc = jsonread_report(r->text, r->len, err, errlen);
    if (doc == NULL)
        goto out;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (cJSON_IsString(schema) && strcmp(schema->valuestring, "fetchbench/1") == 0)
        r->version = 1;
    else if (cJSON_IsString(schema) && strcmp(schema->valuestring, "fetchbench/2") == 0)
        r->version = 2;
    else {
        char s[80];
        snprintf(s, sizeof(s), "%.64s", cJSON_IsString(schema) ? schema->valuestring : "missing");
        jsonread_one_line(s);
        snprintf(err, errlen, "not a fetchbench/1 or fetchbench/2 report (schema: %s)", s);
        goto out;
    }
    /* Anywhere among the members: the writer puts it last, so that a signal
     * arriving while the report is written still marks it. Missing (a report
     * cut short has no end to parse anyway) means not interrupted. */
    const cJSON *interrupted = cJSON_GetObjectItemCaseSensitive(doc, "interrupted");
    if (interrupted && !cJSON_IsBool(interrupted)) {
        snprintf(err, errlen, "interrupted: not true or false");
        goto out;
    }
    r->interrupted = cJSON_IsTrue(interrupted);
    if ((r->version == 2 ? read_runs_v2(r, doc, err, errlen) : read_runs_v1(r, doc, err, errlen)) < 0
        || read_names(doc, "outcomes", r->outcomes, r->outcome_ok, &r->noutcomes, err, errlen) < 0
        || read_names(doc, "counters", r->counters, NULL, &r->ncounters, err, errlen) < 0)
        goto out;
    r->config = cJSON_DetachItemFromObjectCaseSensitive(doc, "config");
    r->expectations = cJSON_DetachItemFromObjectCaseSensitive(doc, "expectations");
    if (r->expectations && !cJSON_IsArray(r->expectations)) {
        snprintf(err, errlen, "expectations: not an array");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(doc);
    if (rc < 0) {
        /* Names from the file may be in the reason. */
        jsonread_one_line(err);
        reportload_free(r);
    }
    return rc;
}

void reportload_free(struct fb_loaded_report *r)
{
    free(r->text);
    free(r->runs);
    cJSON_Delete(r->config);
    cJSON_Delete(r->expectations);
    const char *path = r->path;
    memset(r, 0, sizeof(*r));
    r->path = path;
}

size_t reportload_task_run(const struct fb_loaded_report *r, size_t run)
{
    if (r->version == 1)
        return r->nruns - 1;
    return run;
}
