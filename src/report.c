#include "report.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "mode.h"
#include "run.h"
#include "sig.h"
#include "target.h"

static cJSON *config_json(const struct fb_report *r)
{
    const struct fb_config *c = r->run->cfg;
    const struct fb_target *t = r->target;
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "tasks", c->tasks);
    cJSON_AddStringToObject(o, "mode", c->mode->name);
    cJSON_AddStringToObject(o, "url", t->shown_url);
    if (t->embedded) {
        cJSON_AddNumberToObject(o, "delay_ms", c->delay_ms);
        if (c->capacity)
            cJSON_AddNumberToObject(o, "capacity", c->capacity);
        else
            cJSON_AddNullToObject(o, "capacity");
    } else {
        cJSON_AddNullToObject(o, "delay_ms");
        cJSON_AddNullToObject(o, "capacity");
    }
    cJSON_AddNumberToObject(o, "timeout_ms", c->timeout_ms);
    cJSON_AddNumberToObject(o, "max_body", (double)c->max_body);
    cJSON_AddNumberToObject(o, "max_connections", c->max_connections);
    if (r->run->fetch_cap)
        cJSON_AddNumberToObject(o, "fetch_cap", r->run->fetch_cap);
    else
        cJSON_AddNullToObject(o, "fetch_cap");
    if (r->run->fd_limit)
        cJSON_AddNumberToObject(o, "fd_limit", (double)r->run->fd_limit);
    else
        cJSON_AddNullToObject(o, "fd_limit");
    cJSON_AddStringToObject(o, "host", t->host);
    cJSON_AddBoolToObject(o, "host_resolved", t->host_resolved);
    cJSON_AddBoolToObject(o, "embedded_server", t->embedded);
    return o;
}

/* Stopped by a signal in the loop, or one arrived since, up to this call:
 * the report says so if the signal came before its end was written. */
static int interrupted(const struct fb_run *run)
{
    return run->interrupted || sig_pending();
}

void report_summarize(struct fb_report *r)
{
    const struct fb_run *run = r->run;
    struct fb_summary *s = &r->summary;

    memset(s, 0, sizeof(*s));
    s->wall_us = run->wall_us;
    s->upstream_requests = run->xfer.started;
    s->server_requests = r->server->valid ? (int64_t)r->server->requests : -1;
    s->cache_hits = run->cache_hits;
    s->cache_misses = run->cache_misses;
    memcpy(s->errors, run->errors, sizeof(s->errors));
    s->errors_total = run_errors_total(run);
    s->peak_threads = r->peak_threads;
    s->threads_created = r->nlives;
    s->threads_failed = r->threads_failed;
    s->peak_connections = run->xfer.peak_connections;
}

static cJSON *repeats_json(const struct fb_report *r)
{
    struct fb_summary med, min, max;
    cJSON *o = cJSON_CreateObject(), *runs = cJSON_CreateArray();

    if (o == NULL || runs == NULL) {
        cJSON_Delete(o);
        cJSON_Delete(runs);
        return NULL;
    }
    for (size_t i = 0; i < r->nruns; i++)
        cJSON_AddItemToArray(runs, summary_to_json(&r->runs[i]));
    summary_aggregate(r->runs, r->nruns, &med, &min, &max);
    cJSON_AddNumberToObject(o, "count", (double)r->nruns);
    cJSON_AddItemToObject(o, "runs", runs);
    cJSON_AddItemToObject(o, "median", summary_to_json(&med));
    cJSON_AddItemToObject(o, "min", summary_to_json(&min));
    cJSON_AddItemToObject(o, "max", summary_to_json(&max));
    return o;
}

static cJSON *expectations_json(const struct fb_report *r)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < r->nexpects; i++) {
        const struct fb_expect *e = &r->expects[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "expect", e->text);
        if (e->known)
            cJSON_AddNumberToObject(o, "actual", e->actual);
        else
            cJSON_AddNullToObject(o, "actual");
        cJSON_AddBoolToObject(o, "ok", e->ok);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* Writes "key": item and frees item; -1 when building it ran out of memory. */
static int put_object(struct fb_jsonw *w, const char *key, cJSON *item)
{
    if (item == NULL)
        return -1;
    jw_str(w, ",\n \"");
    jw_str(w, key);
    jw_str(w, "\": ");
    int rc = jw_cjson(w, item);
    cJSON_Delete(item);
    return rc;
}

static void write_server(struct fb_jsonw *w, const struct fb_report *r)
{
    const struct fb_server_stats *s = r->server;

    jw_str(w, ",\n \"server\": ");
    if (!s->valid) {
        jw_str(w, "null");
        return;
    }
    jw_str(w, "{\"requests\": ");
    jw_u64(w, s->requests);
    jw_str(w, ", \"in_service\": ");
    jw_u64(w, s->in_service);
    jw_str(w, ", \"max_in_service\": ");
    jw_u64(w, s->max_in_service);
    jw_str(w, ", \"queued\": ");
    jw_u64(w, s->queued);
    jw_str(w, ", \"max_queued\": ");
    jw_u64(w, s->max_queued);
    jw_str(w, ", \"in_service_samples\": [");
    for (size_t i = 0; i < s->nlog; i++) {
        jw_str(w, i ? ",[" : "[");
        jw_u64(w, run_rel_us(r->run, s->log[i][0]));
        jw_str(w, ",");
        jw_i64(w, s->log[i][1]);
        jw_str(w, "]");
    }
    jw_str(w, s->log_truncated ? "], \"in_service_samples_truncated\": true}" : "]}");
}

static void write_threads(struct fb_jsonw *w, const struct fb_report *r)
{
    const struct fb_run *run = r->run;

    jw_str(w, ",\n \"threads\": {\"baseline\": ");
    jw_u64(w, r->baseline);
    jw_str(w, ", \"samples\": [");
    for (size_t i = 0; i < r->nsamples; i++) {
        jw_str(w, i ? ",[" : "[");
        jw_u64(w, run_rel_us(run, (int64_t)r->samples[i].t_us));
        jw_str(w, ",");
        jw_u64(w, r->samples[i].count);
        jw_str(w, "]");
    }
    jw_str(w, "],\n  \"lifetimes\": [");
    for (size_t i = 0; i < r->nlives; i++) {
        jw_str(w, i ? ",{\"start_us\":" : "{\"start_us\":");
        jw_u64(w, run_rel_us(run, (int64_t)r->lives[i].start_us));
        jw_str(w, ",\"end_us\":");
        if (r->lives[i].end_us)
            jw_u64(w, run_rel_us(run, (int64_t)r->lives[i].end_us));
        else
            jw_str(w, "null");
        jw_str(w, "}");
    }
    jw_str(w, "]");
    if (run->procsample.n) {
        uint64_t peak = 0;
        jw_str(w, ",\n  \"proc_samples\": [");
        for (size_t i = 0; i < run->procsample.n; i++) {
            const uint64_t *s = run->procsample.samples[i];
            jw_str(w, i ? ",[" : "[");
            jw_u64(w, s[0]);
            jw_str(w, ",");
            jw_u64(w, s[1]);
            jw_str(w, "]");
            if (s[1] > peak)
                peak = s[1];
        }
        jw_str(w, "], \"proc_peak\": ");
        jw_u64(w, peak);
    }
    jw_str(w, "}");
}

static int write_error(struct fb_jsonw *w, const struct fb_task_error *e)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return -1;
    cJSON_AddStringToObject(o, "stage", task_stage_name(e->stage));
    cJSON_AddStringToObject(o, "message", e->message ? e->message : "");
    if (e->http_status)
        cJSON_AddNumberToObject(o, "http_status", (double)e->http_status);
    jw_str(w, ",\"error\":");
    int rc = jw_cjson(w, o);
    cJSON_Delete(o);
    return rc;
}

/* One task per line: hot at a million tasks, so no cJSON tree here. */
static int write_task(struct fb_jsonw *w, const struct fb_run *run, const struct fb_task *t)
{
    struct fb_span spans[TASK_MAX_SPANS];
    int n = task_spans(t, spans);

    jw_str(w, "{\"id\":");
    jw_u64(w, t->id);
    jw_str(w, ",\"outcome\":\"");
    jw_str(w, task_outcome_name(t->outcome));
    jw_str(w, "\",\"start_us\":");
    jw_u64(w, t->mark_us[MARK_CREATED]);
    jw_str(w, ",\"end_us\":");
    jw_u64(w, t->mark_us[MARK_END]);
    if (t->error && t->error <= run->nerrs && write_error(w, &run->errs[t->error - 1]) < 0)
        return -1;
    jw_str(w, ",\"spans\":[");
    for (int i = 0; i < n; i++) {
        jw_str(w, i ? ",{\"state\":\"" : "{\"state\":\"");
        jw_str(w, task_state_name(spans[i].state));
        jw_str(w, "\",\"start_us\":");
        jw_u64(w, spans[i].start_us);
        jw_str(w, ",\"end_us\":");
        jw_u64(w, spans[i].end_us);
        jw_str(w, "}");
    }
    jw_str(w, "]}");
    return 0;
}

int report_write_json(FILE *f, const struct fb_report *r)
{
    static struct fb_jsonw w; /* 64 KiB: not on the stack; one report at a time */
    const struct fb_run *run = r->run;
    int rc = 0;

    jw_init(&w, f);
    jw_str(&w, "{\"schema\": \"fetchbench/1\",\n \"tool\": {\"name\": \"fetchbench\", \"version\": \"" FB_VERSION "\"}");
    rc |= put_object(&w, "config", config_json(r));
    rc |= put_object(&w, "summary", summary_to_json(&r->summary));
    if (r->nruns > 1)
        rc |= put_object(&w, "repeats", repeats_json(r));
    if (r->nexpects)
        rc |= put_object(&w, "expectations", expectations_json(r));
    write_server(&w, r);
    write_threads(&w, r);
    jw_str(&w, ",\n \"tasks\": [");
    for (uint32_t i = 0; i < run->ntasks && rc == 0; i++) {
        jw_str(&w, i ? ",\n  " : "\n  ");
        rc |= write_task(&w, run, &run->tasks[i]);
    }
    /* Last, so that a signal that arrives while the report is written (into
     * a slow pipe, say) still marks it. */
    jw_str(&w, interrupted(run) ? "\n ],\n \"interrupted\": true}\n"
                                                 : "\n ],\n \"interrupted\": false}\n");
    rc |= jw_flush(&w);
    return rc ? -1 : 0;
}

static int by_message(const void *a, const void *b)
{
    const struct fb_task_error *x = *(const struct fb_task_error *const *)a;
    const struct fb_task_error *y = *(const struct fb_task_error *const *)b;
    int c = strcmp(x->message ? x->message : "", y->message ? y->message : "");
    return c ? c : (int)x->stage - (int)y->stage;
}

struct message_count {
    const struct fb_task_error *e;
    size_t n;
};

static int by_count(const void *a, const void *b)
{
    const struct message_count *x = a, *y = b;
    return (x->n < y->n) - (x->n > y->n);
}

/* The distinct error messages with their counts, most frequent first: stage
 * totals alone do not say what went wrong. */
static void print_error_messages(FILE *f, const struct fb_run *run)
{
    enum { SHOWN = 5 };
    const struct fb_task_error **sorted = malloc(run->nerrs * sizeof(*sorted));
    struct message_count *groups = malloc(run->nerrs * sizeof(*groups));
    size_t ngroups = 0;

    if (run->nerrs == 0 || sorted == NULL || groups == NULL)
        goto out;
    for (size_t i = 0; i < run->nerrs; i++)
        sorted[i] = &run->errs[i];
    qsort(sorted, run->nerrs, sizeof(*sorted), by_message);
    for (size_t i = 0; i < run->nerrs; i++) {
        if (ngroups && by_message(&sorted[i], &groups[ngroups - 1].e) == 0) {
            groups[ngroups - 1].n++;
        } else {
            groups[ngroups].e = sorted[i];
            groups[ngroups++].n = 1;
        }
    }
    qsort(groups, ngroups, sizeof(*groups), by_count);
    for (size_t i = 0; i < ngroups && i < SHOWN; i++)
        fprintf(f, "  %zu \u00d7 %s (%s)\n", groups[i].n,
                groups[i].e->message ? groups[i].e->message : "", task_stage_name(groups[i].e->stage));
    if (ngroups > SHOWN)
        fprintf(f, "  and %zu more distinct messages (each task's is in the JSON)\n", ngroups - SHOWN);
out:
    free(sorted);
    free(groups);
}

void report_print_summary(FILE *f, const struct fb_report *r)
{
    const struct fb_run *run = r->run;
    const struct fb_config *c = run->cfg;
    const struct fb_summary *s = &r->summary;

    fprintf(f, "fetchbench: %u tasks, mode %s, %s%s\n", c->tasks, c->mode->name, r->target->shown_url,
            interrupted(run) ? " (interrupted)" : "");
    fprintf(f, "  wall %.3f s | upstream requests %" PRIu64 " | server saw ", s->wall_us / 1e6,
            s->upstream_requests);
    if (s->server_requests >= 0)
        fprintf(f, "%" PRId64, s->server_requests);
    else
        fprintf(f, "-");
    fprintf(f, " | cache hits %" PRIu64 " misses %" PRIu64 "\n", s->cache_hits, s->cache_misses);
    fprintf(f, "  threads: peak %" PRIu64 ", created %" PRIu64 " | connections: peak %" PRIu64
               " | errors %" PRIu64, s->peak_threads, s->threads_created, s->peak_connections,
            s->errors_total);
    if (s->errors_total) {
        const char *sep = " (";
        for (int i = 0; i < STAGE_COUNT; i++) {
            if (s->errors[i]) {
                fprintf(f, "%s%s %" PRIu64, sep, task_stage_name(i), s->errors[i]);
                sep = ", ";
            }
        }
        fprintf(f, ")");
    }
    fprintf(f, "\n");
    print_error_messages(f, run);
}
