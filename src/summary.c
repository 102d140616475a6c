#include "summary.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct fb_metric fb_metrics[] = {
    /* Arrivals: fixed by the workload, so a change means another experiment,
     * neither better nor worse. */
    {"tasks", METRIC_COUNT, -1},
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
    {"p50_us", METRIC_MEASURE, 0},
    {"p90_us", METRIC_MEASURE, 0},
    {"p99_us", METRIC_MEASURE, 0},
    {"p99_9_us", METRIC_MEASURE, 0},
    {"max_us", METRIC_MEASURE, 0},
    {"mean_us", METRIC_MEASURE, 0},
    {"stampede_max", METRIC_COUNT, 0},
    {"waiters", METRIC_COUNT, -1},   /* the price of a defence, not a fault */
    {"waiter_p50_us", METRIC_MEASURE, 0},
    {"waiter_p99_us", METRIC_MEASURE, 0},
    {NULL, 0, 0},
};

/* Names --expect accepts beyond fb_metrics. wait_us is not in the table
 * `compare` prints: summed over tasks it is dominated by a few states whose
 * size is the workload's, and per state it is microseconds of noise. */
static const struct fb_metric derived[] = {
    {"wait_us", METRIC_MEASURE, 0},
    {"wait_ms", METRIC_MEASURE, 0},
    {"wall_ms", METRIC_MEASURE, 0},
    {"wall_s", METRIC_MEASURE, 0},
    {"errors.total", METRIC_COUNT, 0},
    {"p50_ms", METRIC_MEASURE, 0},
    {"p90_ms", METRIC_MEASURE, 0},
    {"p99_ms", METRIC_MEASURE, 0},
    {"p99_9_ms", METRIC_MEASURE, 0},
    {"max_ms", METRIC_MEASURE, 0},
    {"mean_ms", METRIC_MEASURE, 0},
    {"waiter_p90_us", METRIC_MEASURE, 0},
    {"waiter_p99_9_us", METRIC_MEASURE, 0},
    {"waiter_max_us", METRIC_MEASURE, 0},
    {"waiter_mean_us", METRIC_MEASURE, 0},
    {"waiter_p50_ms", METRIC_MEASURE, 0},
    {"waiter_p90_ms", METRIC_MEASURE, 0},
    {"waiter_p99_ms", METRIC_MEASURE, 0},
    {"waiter_p99_9_ms", METRIC_MEASURE, 0},
    {"waiter_max_ms", METRIC_MEASURE, 0},
    {"waiter_mean_ms", METRIC_MEASURE, 0},
    {NULL, 0, 0},
};

/* The percentiles: all tasks' (in latency_us) then the waiters' (in
 * waiter_latency_us); JSON name, metric stem, field. */
static const struct {
    const char *key, *stem;
    size_t off;
} percentiles[] = {
    {"p50", "p50", offsetof(struct fb_summary, p50_us)},
    {"p90", "p90", offsetof(struct fb_summary, p90_us)},
    {"p99", "p99", offsetof(struct fb_summary, p99_us)},
    {"p99_9", "p99_9", offsetof(struct fb_summary, p99_9_us)},
    {"max", "max", offsetof(struct fb_summary, max_us)},
    {"mean", "mean", offsetof(struct fb_summary, mean_us)},
    {"p50", "waiter_p50", offsetof(struct fb_summary, waiter_p50_us)},
    {"p90", "waiter_p90", offsetof(struct fb_summary, waiter_p90_us)},
    {"p99", "waiter_p99", offsetof(struct fb_summary, waiter_p99_us)},
    {"p99_9", "waiter_p99_9", offsetof(struct fb_summary, waiter_p99_9_us)},
    {"max", "waiter_max", offsetof(struct fb_summary, waiter_max_us)},
    {"mean", "waiter_mean", offsetof(struct fb_summary, waiter_mean_us)},
};
#define NPERCENTILES (sizeof(percentiles) / sizeof(percentiles[0]))
#define NGROUP 6                /* percentiles of one group */

static const char *const latency_object[2] = {"latency_us", "waiter_latency_us"};

void summary_set_latency(struct fb_summary *s, int waiters, const struct fb_percentiles *p)
{
    const uint64_t v[NGROUP] = {p ? p->p50 : 0, p ? p->p90 : 0, p ? p->p99 : 0,
                                p ? p->p99_9 : 0, p ? p->max : 0, p ? p->mean : 0};
    for (size_t i = 0; i < NGROUP; i++)
        *(int64_t *)((char *)s + percentiles[waiters * NGROUP + i].off) = p ? (int64_t)v[i] : -1;
}

static int64_t percentile_of(const struct fb_summary *s, size_t i)
{
    return *(const int64_t *)((const char *)s + percentiles[i].off);
}

/* The families of named figures. The JSON object holding family "F" is
 * "F"'s prefix without its dot; wait_ms.X is read from wait_us.X. */
static const struct {
    const char *prefix;
    enum fb_metric_kind kind;
    int higher_is_better;
} families[] = {
    /* Whether an outcome is a failure is the report's vocabulary's to say
     * (its "ok"): compare reads it there. */
    {"outcomes.", METRIC_COUNT, -1},
    {"counters.", METRIC_COUNT, -1},
    {"wait_us.", METRIC_MEASURE, 0},
    {"wait_ms.", METRIC_MEASURE, 0},
};

/* The rest of name after prefix when it is a name a report can hold (a
 * vocabulary name: letters, digits, '_', '-'), else NULL. */
static const char *family_member(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] == '\0' || strlen(name) >= SUMMARY_NAME_MAX)
        return NULL;
    for (const char *p = name + n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'
              || *p == '-'))
            return NULL;
    return name + n;
}

static int stage_index(const char *name)
{
    for (int i = 0; i < STAGE_COUNT; i++)
        if (strcmp(vocab_stage_name(i), name) == 0)
            return i;
    return -1;
}

int metric_kind(const char *name, enum fb_metric_kind *kind, int *higher_is_better)
{
    const struct fb_metric *tables[] = {fb_metrics, derived};
    for (size_t t = 0; t < 2; t++)
        for (const struct fb_metric *m = tables[t]; m->name; m++)
            if (strcmp(m->name, name) == 0) {
                *kind = m->kind;
                *higher_is_better = m->higher_is_better;
                return 0;
            }
    if (strncmp(name, "errors.", 7) == 0 && stage_index(name + 7) >= 0) {
        *kind = METRIC_COUNT;
        *higher_is_better = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if (family_member(name, families[i].prefix)) {
            *kind = families[i].kind;
            *higher_is_better = families[i].higher_is_better;
            return 0;
        }
    return -1;
}

/* A *_us or *_ms percentile name: its index, and the divisor to its unit. */
static int percentile_name(const char *name, double *div)
{
    for (size_t i = 0; i < NPERCENTILES; i++) {
        size_t n = strlen(percentiles[i].stem);
        if (strncmp(name, percentiles[i].stem, n) != 0)
            continue;
        if (strcmp(name + n, "_us") == 0)
            *div = 1;
        else if (strcmp(name + n, "_ms") == 0)
            *div = 1e3;
        else
            continue;
        return (int)i;
    }
    return -1;
}

int metric_value(const struct fb_summary *s, const char *name, double *out)
{
    double div;
    int i;
    uint64_t v;

    if ((i = percentile_name(name, &div)) >= 0) {
        if (percentile_of(s, (size_t)i) < 0)
            return -1;
        *out = (double)percentile_of(s, (size_t)i) / div;
    } else if (strcmp(name, "tasks") == 0) {
        if (s->tasks < 0)
            return -1;
        *out = (double)s->tasks;
    } else if (strcmp(name, "wait_us") == 0 || strcmp(name, "wait_ms") == 0) {
        if (s->wait_us < 0)
            return -1;
        *out = (double)s->wait_us / (name[5] == 'm' ? 1e3 : 1);
    } else if (strncmp(name, "wait_ms.", 8) == 0) {
        char us[SUMMARY_NAME_MAX];
        snprintf(us, sizeof(us), "wait_us.%s", name + 8);
        if (summary_get_named(s, us, &v) < 0)
            return -1;
        *out = (double)v / 1e3;
    } else if (strncmp(name, "outcomes.", 9) == 0 || strncmp(name, "counters.", 9) == 0
               || strncmp(name, "wait_us.", 8) == 0) {
        if (summary_get_named(s, name, &v) < 0)
            return -1;
        *out = (double)v;
    } else if (strncmp(name, "errors.", 7) == 0 && (i = stage_index(name + 7)) >= 0)
        *out = (double)s->errors[i];
    else if (strcmp(name, "wall_us") == 0)
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
    else if (strcmp(name, "stampede_max") == 0 || strcmp(name, "waiters") == 0) {
        int64_t x = name[0] == 's' ? s->stampede_max : s->waiters;
        if (x < 0)
            return -1;
        *out = (double)x;
    }
    else
        return -1;
    return 0;
}

void summary_set_named(struct fb_summary *s, const char *name, uint64_t value)
{
    for (size_t i = 0; i < s->nnamed; i++)
        if (strcmp(s->named[i].name, name) == 0) {
            s->named[i].value = value;
            return;
        }
    if (s->nnamed == SUMMARY_MAX_NAMED || strlen(name) >= SUMMARY_NAME_MAX)
        return;
    snprintf(s->named[s->nnamed].name, SUMMARY_NAME_MAX, "%s", name);
    s->named[s->nnamed++].value = value;
}

int summary_get_named(const struct fb_summary *s, const char *name, uint64_t *out)
{
    for (size_t i = 0; i < s->nnamed; i++)
        if (strcmp(s->named[i].name, name) == 0) {
            *out = s->named[i].value;
            return 0;
        }
    return -1;
}

/* The object holding s's named figures of one family ("wait_us.X" as "X"),
 * added to o under key. first, when given, opens it ("total"). */
static int add_family(cJSON *o, const char *key, const char *prefix, const char *first, uint64_t first_value,
                      const struct fb_summary *s)
{
    cJSON *f = cJSON_AddObjectToObject(o, key);
    size_t n = strlen(prefix);
    if (f == NULL)
        return -1;
    if (first && cJSON_AddNumberToObject(f, first, (double)first_value) == NULL)
        return -1;
    for (size_t i = 0; i < s->nnamed; i++)
        if (strncmp(s->named[i].name, prefix, n) == 0
            && cJSON_AddNumberToObject(f, s->named[i].name + n, (double)s->named[i].value) == NULL)
            return -1;
    return 0;
}

cJSON *summary_to_json(const struct fb_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *errors = NULL, *latency = NULL;
    int bad = o == NULL;

    /* cJSON's adders return NULL out of memory: any one fails the object. */
    if (!bad && s->tasks >= 0)
        bad |= cJSON_AddNumberToObject(o, "tasks", (double)s->tasks) == NULL;
    if (!bad) {
        bad |= cJSON_AddNumberToObject(o, "wall_us", (double)s->wall_us) == NULL;
        bad |= cJSON_AddNumberToObject(o, "upstream_requests", (double)s->upstream_requests) == NULL;
        if (s->server_requests >= 0)
            bad |= cJSON_AddNumberToObject(o, "server_requests", (double)s->server_requests) == NULL;
        else
            bad |= cJSON_AddNullToObject(o, "server_requests") == NULL;
        bad |= cJSON_AddNumberToObject(o, "cache_hits", (double)s->cache_hits) == NULL;
        bad |= cJSON_AddNumberToObject(o, "cache_misses", (double)s->cache_misses) == NULL;
        errors = cJSON_AddObjectToObject(o, "errors");
        bad |= errors == NULL;
    }
    if (!bad) {
        bad |= cJSON_AddNumberToObject(errors, "total", (double)s->errors_total) == NULL;
        for (int i = 0; i < STAGE_COUNT; i++)
            bad |= cJSON_AddNumberToObject(errors, vocab_stage_name(i), (double)s->errors[i]) == NULL;
        bad |= cJSON_AddNumberToObject(o, "peak_threads", (double)s->peak_threads) == NULL;
        bad |= cJSON_AddNumberToObject(o, "threads_created", (double)s->threads_created) == NULL;
        bad |= cJSON_AddNumberToObject(o, "threads_failed", (double)s->threads_failed) == NULL;
        bad |= cJSON_AddNumberToObject(o, "peak_connections", (double)s->peak_connections) == NULL;
    }
    /* A run without tasks (or a v1 summary read back) has no percentiles. */
    if (!bad && s->p50_us >= 0) {
        latency = cJSON_AddObjectToObject(o, "latency_us");
        bad |= latency == NULL;
        for (size_t i = 0; !bad && i < NGROUP; i++)
            bad |= cJSON_AddNumberToObject(latency, percentiles[i].key, (double)percentile_of(s, i)) == NULL;
    }
    /* Older summaries read back had neither. */
    if (!bad && s->stampede_max >= 0)
        bad |= cJSON_AddNumberToObject(o, "stampede_max", (double)s->stampede_max) == NULL;
    if (!bad && s->waiters >= 0) {
        bad |= cJSON_AddNumberToObject(o, "waiters", (double)s->waiters) == NULL;
        if (s->waiter_p50_us < 0) {
            bad |= cJSON_AddNullToObject(o, "waiter_latency_us") == NULL;
        } else {
            latency = cJSON_AddObjectToObject(o, "waiter_latency_us");
            bad |= latency == NULL;
            for (size_t i = NGROUP; !bad && i < NPERCENTILES; i++)
                bad |= cJSON_AddNumberToObject(latency, percentiles[i].key, (double)percentile_of(s, i)) == NULL;
        }
    }
    if (!bad && s->wait_us >= 0)
        bad |= add_family(o, "wait_us", "wait_us.", "total", (uint64_t)s->wait_us, s) < 0;
    if (!bad)
        bad |= add_family(o, "outcomes", "outcomes.", NULL, 0, s) < 0
               || add_family(o, "counters", "counters.", NULL, 0, s) < 0;
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* A non-negative integer that a double holds exactly; where names the
 * member in a message ("summary.errors.tls"). */
static int count_value(const cJSON *v, const char *where, uint64_t *out, char *err, size_t errlen)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0
        || v->valuedouble != floor(v->valuedouble)) {
        snprintf(err, errlen, "%s: %s", where, v ? "not a non-negative integer" : "missing");
        return -1;
    }
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static int get_count(const cJSON *obj, const char *key, uint64_t *out, char *err, size_t errlen)
{
    char where[96];
    snprintf(where, sizeof(where), "summary.%s", key);
    return count_value(cJSON_GetObjectItemCaseSensitive(obj, key), where, out, err, errlen);
}

/* An optional count: missing leaves *out as it is (an older report). */
static int get_optional(const cJSON *obj, const char *key, const char *where, uint64_t *out, char *err,
                        size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v == NULL ? 0 : count_value(v, where, out, err, errlen);
}

/* Reads the members of summary.KEY as named figures "prefix" + name, but
 * skip (the family's total, read by the caller). A missing object is none. */
static int get_family(const cJSON *obj, const char *key, const char *prefix, const char *skip,
                      struct fb_summary *s, char *err, size_t errlen)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key), *m;
    char name[SUMMARY_NAME_MAX + 1], where[160];

    if (f == NULL)
        return 0;
    if (!cJSON_IsObject(f)) {
        snprintf(err, errlen, "summary.%s: not an object", key);
        return -1;
    }
    cJSON_ArrayForEach(m, f) {
        if (skip && strcmp(m->string, skip) == 0)
            continue;
        snprintf(where, sizeof(where), "summary.%s.%s", key, m->string);
        if ((size_t)snprintf(name, sizeof(name), "%s%s", prefix, m->string) >= SUMMARY_NAME_MAX) {
            snprintf(err, errlen, "%s: name longer than %d bytes", where, SUMMARY_NAME_MAX - 1);
            return -1;
        }
        uint64_t v;
        if (count_value(m, where, &v, err, errlen) < 0)
            return -1;
        if (s->nnamed == SUMMARY_MAX_NAMED) {
            snprintf(err, errlen, "%s: more than %d named figures", where, SUMMARY_MAX_NAMED);
            return -1;
        }
        summary_set_named(s, name, v);
    }
    return 0;
}

int summary_from_json(const cJSON *obj, struct fb_summary *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->tasks = s->wait_us = s->server_requests = -1;
    s->stampede_max = s->waiters = -1;
    summary_set_latency(s, 0, NULL);
    summary_set_latency(s, 1, NULL);
    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "summary: not an object");
        return -1;
    }
    const cJSON *server = cJSON_GetObjectItemCaseSensitive(obj, "server_requests");
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(obj, "errors");
    const cJSON *latency = cJSON_GetObjectItemCaseSensitive(obj, "latency_us");
    const cJSON *wait = cJSON_GetObjectItemCaseSensitive(obj, "wait_us");
    uint64_t v;

    if (get_count(obj, "wall_us", &s->wall_us, err, errlen) < 0
        || get_count(obj, "upstream_requests", &s->upstream_requests, err, errlen) < 0
        || get_count(obj, "cache_hits", &s->cache_hits, err, errlen) < 0
        || get_count(obj, "cache_misses", &s->cache_misses, err, errlen) < 0
        || get_count(obj, "peak_threads", &s->peak_threads, err, errlen) < 0
        || get_count(obj, "threads_created", &s->threads_created, err, errlen) < 0
        || get_count(obj, "peak_connections", &s->peak_connections, err, errlen) < 0
        /* Reports before threads_failed existed had none. */
        || get_optional(obj, "threads_failed", "summary.threads_failed", &s->threads_failed, err, errlen) < 0)
        return -1;
    /* v1 summaries have no tasks: unknown, not 0. */
    if (cJSON_GetObjectItemCaseSensitive(obj, "tasks")) {
        if (get_count(obj, "tasks", &v, err, errlen) < 0)
            return -1;
        s->tasks = (int64_t)v;
    }
    if (!cJSON_IsNull(server)) {
        if (get_count(obj, "server_requests", &v, err, errlen) < 0)
            return -1;
        s->server_requests = (int64_t)v;
    }
    if (!cJSON_IsObject(errors) || get_count(errors, "total", &s->errors_total, err, errlen) < 0) {
        snprintf(err, errlen, "summary.errors.total: missing or not an integer");
        return -1;
    }
    /* A stage an older report did not know (tls) stays 0. */
    for (int i = 0; i < STAGE_COUNT; i++) {
        char where[64];
        snprintf(where, sizeof(where), "summary.errors.%s", vocab_stage_name(i));
        if (get_optional(errors, vocab_stage_name(i), where, &s->errors[i], err, errlen) < 0)
            return -1;
    }
    for (int g = 0; g < 2; g++) {
        const cJSON *lat = g == 0 ? latency : cJSON_GetObjectItemCaseSensitive(obj, latency_object[1]);
        if (lat == NULL || (g == 1 && cJSON_IsNull(lat)))
            continue;
        if (!cJSON_IsObject(lat)) {
            snprintf(err, errlen, "summary.%s: not an object", latency_object[g]);
            return -1;
        }
        for (size_t i = (size_t)g * NGROUP; i < (size_t)(g + 1) * NGROUP; i++) {
            char where[64];
            snprintf(where, sizeof(where), "summary.%s.%s", latency_object[g], percentiles[i].key);
            if (count_value(cJSON_GetObjectItemCaseSensitive(lat, percentiles[i].key), where, &v, err,
                            errlen) < 0)
                return -1;
            *(int64_t *)((char *)s + percentiles[i].off) = (int64_t)v;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, "stampede_max")) {
        if (get_count(obj, "stampede_max", &v, err, errlen) < 0)
            return -1;
        s->stampede_max = (int64_t)v;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, "waiters")) {
        if (get_count(obj, "waiters", &v, err, errlen) < 0)
            return -1;
        s->waiters = (int64_t)v;
    }
    if (wait) {
        if (!cJSON_IsObject(wait)) {
            snprintf(err, errlen, "summary.wait_us: not an object");
            return -1;
        }
        if (count_value(cJSON_GetObjectItemCaseSensitive(wait, "total"), "summary.wait_us.total", &v, err,
                        errlen) < 0)
            return -1;
        s->wait_us = (int64_t)v;
    }
    if (get_family(obj, "wait_us", "wait_us.", "total", s, err, errlen) < 0
        || get_family(obj, "outcomes", "outcomes.", NULL, s, err, errlen) < 0
        || get_family(obj, "counters", "counters.", NULL, s, err, errlen) < 0)
        return -1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Median (lower middle), minimum and maximum of vals[0..n), sorted in place. */
static void aggregate_values(uint64_t *vals, size_t n, uint64_t *med, uint64_t *min, uint64_t *max)
{
    qsort(vals, n, sizeof(*vals), cmp_u64);
    *med = vals[(n - 1) / 2];
    *min = vals[0];
    *max = vals[n - 1];
}

#define FIELD(s, off) (*(uint64_t *)((char *)(s) + (off)))
#define FIXED_FIRST   offsetof(struct fb_summary, tasks)
#define FIXED_END     offsetof(struct fb_summary, nnamed)

static int is_percentile(size_t off)
{
    for (size_t i = 0; i < NPERCENTILES; i++)
        if (off == percentiles[i].off)
            return 1;
    return 0;
}

/* The fixed fields that may be unknown (-1 as int64_t). */
static int may_be_unknown(size_t off)
{
    return off == offsetof(struct fb_summary, tasks) || off == offsetof(struct fb_summary, server_requests)
           || off == offsetof(struct fb_summary, wait_us) || off == offsetof(struct fb_summary, stampede_max)
           || off == offsetof(struct fb_summary, waiters) || is_percentile(off);
}

void summary_aggregate(const struct fb_summary *runs, size_t n, struct fb_summary *med,
                       struct fb_summary *min, struct fb_summary *max)
{
    uint64_t *vals = malloc((n ? n : 1) * sizeof(*vals));

    memset(med, 0, sizeof(*med));
    memset(min, 0, sizeof(*min));
    memset(max, 0, sizeof(*max));
    if (vals == NULL || n == 0) {
        free(vals);
        return;
    }
    /* The fixed fields are walked by offset: they must stay 8 bytes wide,
     * one after the other, and end where the named ones begin. 26 plus the
     * stages: a field added without counting it here fails the build. */
    _Static_assert(FIXED_END - FIXED_FIRST == (26 + STAGE_COUNT) * sizeof(uint64_t),
                   "summary: the fixed fields are 8 bytes wide each and contiguous");
    for (size_t off = FIXED_FIRST; off < FIXED_END; off += sizeof(uint64_t)) {
        int unknown = 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = *(const uint64_t *)((const char *)&runs[i] + off);
            int missing = may_be_unknown(off) && (int64_t)v < 0;
            /* A percentile is missing from a run that had no such task (no
             * waiter, say): over the runs that have one, like a named
             * figure. Any other field is missing only from an older report:
             * one run without it makes the aggregate unknown. */
            if (missing && is_percentile(off))
                continue;
            unknown |= missing;
            vals[k++] = v;
        }
        if (unknown || k == 0)
            FIELD(med, off) = FIELD(min, off) = FIELD(max, off) = (uint64_t)-1;
        else
            aggregate_values(vals, k, &FIELD(med, off), &FIELD(min, off), &FIELD(max, off));
    }
    /* Named figures by name, over the runs that have them (a counter of one
     * strategy is absent from another's runs), in order of first sight. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < runs[i].nnamed; j++) {
            const char *name = runs[i].named[j].name;
            uint64_t v, a, b, c;
            size_t k = 0;
            if (summary_get_named(med, name, &v) == 0)
                continue;
            for (size_t r = i; r < n; r++)
                if (summary_get_named(&runs[r], name, &v) == 0)
                    vals[k++] = v;
            aggregate_values(vals, k, &a, &b, &c);
            summary_set_named(med, name, a);
            summary_set_named(min, name, b);
            summary_set_named(max, name, c);
        }
    free(vals);
}

size_t summary_spread(const struct fb_summary *runs, size_t n, const char *metric, double *mean, double *sd,
                      double *min, double *max)
{
    double sum = 0, lo = 0, hi = 0, v;
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (metric_value(&runs[i], metric, &v) < 0)
            continue;
        lo = k == 0 || v < lo ? v : lo;
        hi = k == 0 || v > hi ? v : hi;
        sum += v;
        k++;
    }
    if (k == 0)
        return 0;
    double m = sum / (double)k, squares = 0;
    /* Two passes: the one-pass formula loses the spread of large, close
     * values (microseconds of runs that differ by a few). */
    for (size_t i = 0; i < n; i++)
        if (metric_value(&runs[i], metric, &v) == 0)
            squares += (v - m) * (v - m);
    *mean = m;
    *sd = k > 1 ? sqrt(squares / (double)(k - 1)) : 0;
    *min = lo;
    *max = hi;
    return k;
}
