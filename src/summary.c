#include "summary.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct fb_metric fb_metrics[] = {
    {"wall_us", METRIC_MEASURE, 0},
    {"upstream_requests", METRIC_COUNT, 0},
    {"server_requests", METRIC_COUNT, 0},
    {"cache_hits", METRIC_COUNT, 1},
    {"cache_misses", METRIC_COUNT, 0},
    {"errors", METRIC_COUNT, 0},
    {"peak_threads", METRIC_MEASURE, 0},
    {"threads_created", METRIC_COUNT, 0},
    {"threads_failed", METRIC_COUNT, 0},
    {"peak_connections", METRIC_MEASURE, 0},
    {NULL, 0, 0},
};

static const struct fb_metric derived[] = {
    {"wall_ms", METRIC_MEASURE, 0},
    {"wall_s", METRIC_MEASURE, 0},
    {"errors.total", METRIC_COUNT, 0},
    {NULL, 0, 0},
};

const struct fb_metric *metric_find(const char *name)
{
    for (int i = 0; fb_metrics[i].name; i++)
        if (strcmp(fb_metrics[i].name, name) == 0)
            return &fb_metrics[i];
    for (int i = 0; derived[i].name; i++)
        if (strcmp(derived[i].name, name) == 0)
            return &derived[i];
    return NULL;
}

int metric_value(const struct fb_summary *s, const char *name, double *out)
{
    if (strcmp(name, "wall_us") == 0)
        *out = (double)s->wall_us;
    else if (strcmp(name, "wall_ms") == 0)
        *out = s->wall_us / 1e3;
    else if (strcmp(name, "wall_s") == 0)
        *out = s->wall_us / 1e6;
    else if (strcmp(name, "upstream_requests") == 0)
        *out = (double)s->upstream_requests;
    else if (strcmp(name, "server_requests") == 0) {
        if (s->server_requests < 0)
            return -1;
        *out = (double)s->server_requests;
    } else if (strcmp(name, "cache_hits") == 0)
        *out = (double)s->cache_hits;
    else if (strcmp(name, "cache_misses") == 0)
        *out = (double)s->cache_misses;
    else if (strcmp(name, "errors") == 0 || strcmp(name, "errors.total") == 0)
        *out = (double)s->errors_total;
    else if (strcmp(name, "peak_threads") == 0)
        *out = (double)s->peak_threads;
    else if (strcmp(name, "threads_created") == 0)
        *out = (double)s->threads_created;
    else if (strcmp(name, "threads_failed") == 0)
        *out = (double)s->threads_failed;
    else if (strcmp(name, "peak_connections") == 0)
        *out = (double)s->peak_connections;
    else
        return -1;
    return 0;
}

cJSON *summary_to_json(const struct fb_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *errors = cJSON_CreateObject();
    if (o == NULL || errors == NULL) {
        cJSON_Delete(o);
        cJSON_Delete(errors);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "wall_us", (double)s->wall_us);
    cJSON_AddNumberToObject(o, "upstream_requests", (double)s->upstream_requests);
    if (s->server_requests >= 0)
        cJSON_AddNumberToObject(o, "server_requests", (double)s->server_requests);
    else
        cJSON_AddNullToObject(o, "server_requests");
    cJSON_AddNumberToObject(o, "cache_hits", (double)s->cache_hits);
    cJSON_AddNumberToObject(o, "cache_misses", (double)s->cache_misses);
    cJSON_AddNumberToObject(errors, "total", (double)s->errors_total);
    for (int i = 0; i < STAGE_COUNT; i++)
        cJSON_AddNumberToObject(errors, task_stage_name(i), (double)s->errors[i]);
    cJSON_AddItemToObject(o, "errors", errors);
    cJSON_AddNumberToObject(o, "peak_threads", (double)s->peak_threads);
    cJSON_AddNumberToObject(o, "threads_created", (double)s->threads_created);
    cJSON_AddNumberToObject(o, "threads_failed", (double)s->threads_failed);
    cJSON_AddNumberToObject(o, "peak_connections", (double)s->peak_connections);
    return o;
}

/* A non-negative integer that a double holds exactly. */
static int get_count(const cJSON *obj, const char *key, uint64_t *out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0
        || v->valuedouble != floor(v->valuedouble)) {
        snprintf(err, errlen, "summary.%s: %s", key, v ? "not a non-negative integer" : "missing");
        return -1;
    }
    *out = (uint64_t)v->valuedouble;
    return 0;
}

int summary_from_json(const cJSON *obj, struct fb_summary *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "summary: not an object");
        return -1;
    }
    const cJSON *server = cJSON_GetObjectItemCaseSensitive(obj, "server_requests");
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(obj, "errors");
    uint64_t v;

    if (get_count(obj, "wall_us", &s->wall_us, err, errlen) < 0
        || get_count(obj, "upstream_requests", &s->upstream_requests, err, errlen) < 0
        || get_count(obj, "cache_hits", &s->cache_hits, err, errlen) < 0
        || get_count(obj, "cache_misses", &s->cache_misses, err, errlen) < 0
        || get_count(obj, "peak_threads", &s->peak_threads, err, errlen) < 0
        || get_count(obj, "threads_created", &s->threads_created, err, errlen) < 0
        || get_count(obj, "peak_connections", &s->peak_connections, err, errlen) < 0)
        return -1;
    /* Reports before threads_failed existed had none. */
    if (cJSON_GetObjectItemCaseSensitive(obj, "threads_failed")
        && get_count(obj, "threads_failed", &s->threads_failed, err, errlen) < 0)
        return -1;
    if (cJSON_IsNull(server)) {
        s->server_requests = -1;
    } else {
        if (get_count(obj, "server_requests", &v, err, errlen) < 0)
            return -1;
        s->server_requests = (int64_t)v;
    }
    if (!cJSON_IsObject(errors) || get_count(errors, "total", &s->errors_total, err, errlen) < 0) {
        snprintf(err, errlen, "summary.errors.total: missing or not an integer");
        return -1;
    }
    for (int i = 0; i < STAGE_COUNT; i++)
        if (cJSON_GetObjectItemCaseSensitive(errors, task_stage_name(i)))
            (void)get_count(errors, task_stage_name(i), &s->errors[i], err, errlen);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Aggregates one uint64_t field at byte offset off across the runs. */
static void aggregate_field(const struct fb_summary *runs, size_t n, size_t off, uint64_t *vals,
                            struct fb_summary *med, struct fb_summary *min, struct fb_summary *max)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = *(const uint64_t *)((const char *)&runs[i] + off);
    qsort(vals, n, sizeof(*vals), cmp_u64);
    *(uint64_t *)((char *)med + off) = vals[(n - 1) / 2];
    *(uint64_t *)((char *)min + off) = vals[0];
    *(uint64_t *)((char *)max + off) = vals[n - 1];
}

void summary_aggregate(const struct fb_summary *runs, size_t n, struct fb_summary *med,
                       struct fb_summary *min, struct fb_summary *max)
{
    uint64_t *vals = malloc(n * sizeof(*vals));

    memset(med, 0, sizeof(*med));
    memset(min, 0, sizeof(*min));
    memset(max, 0, sizeof(*max));
    if (vals == NULL || n == 0) {
        free(vals);
        return;
    }
    /* Every field is 8 bytes wide and unsigned but server_requests, which
     * is aggregated like the rest when every run knows it and is unknown
     * (-1) in all three when any run does not. */
    _Static_assert(sizeof(struct fb_summary) % sizeof(uint64_t) == 0, "summary: 8-byte fields only");
    for (size_t off = 0; off < sizeof(struct fb_summary); off += sizeof(uint64_t))
        aggregate_field(runs, n, off, vals, med, min, max);
    for (size_t i = 0; i < n; i++)
        if (runs[i].server_requests < 0)
            med->server_requests = min->server_requests = max->server_requests = -1;
    free(vals);
}
