#include "report.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "jsonw.h"
#include "procsample.h"
#include "run.h"
#include "redisaddr.h"
#include "sig.h"
#include "strategy.h"
#include "target.h"

/* 64 KiB: not on the stack; one report at a time. */
static struct fb_jsonw w;

/* ------------------------------------------------------------ summary */

int report_summarize(struct fb_run_record *r)
{
    const struct fb_run_totals *t = run_totals(r->run);
    const struct fb_strategy *st = run_opts(r->run)->strategy;
    struct fb_summary *s = &r->summary;
    char name[SUMMARY_NAME_MAX];

    memset(s, 0, sizeof(*s));
    s->tasks = t->ntasks;
    s->wall_us = t->wall_us;
    s->upstream_requests = t->upstream_requests;
    s->server_requests = r->server->valid ? (int64_t)r->server->requests : -1;
    s->cache_hits = t->cache_hits;
    s->cache_misses = t->cache_misses;
    memcpy(s->errors, t->errors, sizeof(s->errors));
    for (int i = 0; i < STAGE_COUNT; i++)
        s->errors_total += t->errors[i];
    s->peak_threads = r->peak_threads;
    s->threads_created = r->nlives;
    s->threads_failed = r->threads_failed;
    s->peak_connections = t->connections_peak;
    s->stampede_max = t->stampede_max;

    struct fb_tally *tally = malloc(sizeof(*tally));
    struct fb_percentiles p;
    size_t n;
    if (tally == NULL || run_tally(r->run, tally) < 0) {
        free(tally);
        return -1;
    }
    summary_set_latency(s, 0, stats_percentiles(tally->durations, tally->ndurations, &p) == 0 ? &p : NULL);
    s->waiters = (int64_t)tally->nwaiters;
    summary_set_latency(s, 1, stats_percentiles(tally->waiter_durations, tally->nwaiters, &p) == 0 ? &p : NULL);
    free(tally->durations);

    /* Time in each wait state the report's vocabulary names: the core's,
     * this strategy's own, and 0 for the other strategies' own. */
    const struct fb_config *cfg = run_opts(r->run)->cfg;
    for (unsigned id = 0; id < 256; id++) {
        const struct fb_state_def *d = strategy_state(st, id);
        if (d->name[0] == '\0' || !(d->flags & STATE_WAIT))
            continue;
        snprintf(name, sizeof(name), "wait_us.%s", d->name);
        summary_set_named(s, name, tally->state_us[id]);
        s->wait_us += tally->state_us[id];
    }
    for (size_t m = 0; m < cfg->nmodes; m++)
        for (unsigned i = 0; i < cfg->modes[m]->nstates; i++) {
            uint64_t have;
            if (!(cfg->modes[m]->states[i].flags & STATE_WAIT))
                continue;
            snprintf(name, sizeof(name), "wait_us.%s", cfg->modes[m]->states[i].name);
            if (summary_get_named(s, name, &have) < 0)
                summary_set_named(s, name, 0);
        }
    for (unsigned o = OUTCOME_PENDING + 1; o < OUTCOME_CORE_COUNT; o++) {
        snprintf(name, sizeof(name), "outcomes.%s", vocab_core_outcomes[o].name);
        summary_set_named(s, name, tally->outcomes[o]);
    }
    /* Every outcome the report's vocabulary names, so runs read alike: the
     * other strategies' own outcomes are 0 here. */
    for (size_t m = 0; m < cfg->nmodes; m++)
        for (unsigned o = 0; o < cfg->modes[m]->noutcomes && o < STRATEGY_MAX_OWN; o++) {
            snprintf(name, sizeof(name), "outcomes.%s", cfg->modes[m]->outcomes[o].name);
            uint64_t have;
            if (summary_get_named(s, name, &have) < 0)
                summary_set_named(s, name, cfg->modes[m] == st ? tally->outcomes[OUTCOME_OWN_BASE + o] : 0);
        }
    free(tally);
    for (unsigned c = 0; c < st->ncounters && c < STRATEGY_MAX_OWN; c++) {
        snprintf(name, sizeof(name), "counters.%s", st->counters[c]);
        summary_set_named(s, name, t->counters[c]);
    }

    /* The backend's load: its own log when there is one, else the client's
     * fetches in flight. */
    int rc;
    if (r->server->valid) {
        int64_t(*steps)[2] = malloc((r->server->nlog ? r->server->nlog : 1) * sizeof(*steps));
        if (steps == NULL)
            return -1;
        for (size_t i = 0; i < r->server->nlog; i++) {
            steps[i][0] = (int64_t)run_rel_us(r->run, r->server->log[i][0]);
            steps[i][1] = r->server->log[i][1];
        }
        rc = stats_load_from_steps(&r->load, (const int64_t(*)[2])steps, r->server->nlog, t->wall_us);
        free(steps);
        r->load_from_server = 1;
    } else {
        uint32_t *start, *end;
        if (run_fetch_intervals(r->run, &start, &end, &n) < 0)
            return -1;
        rc = stats_load_from_spans(&r->load, start, end, n, t->wall_us);
        free(start);
        free(end);
    }
    return rc;
}

void report_record_free(struct fb_run_record *r)
{
    free(r->lives);
    free(r->samples);
    stats_load_free(&r->load);
    r->lives = NULL;
    r->samples = NULL;
}

/* ------------------------------------------------------------ head */

static cJSON *workload_json(const struct fb_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    cJSON_AddNumberToObject(o, "keys", c->keys);
    if (c->zipf > 0)
        cJSON_AddNumberToObject(o, "zipf", c->zipf);
    else
        cJSON_AddNullToObject(o, "zipf");
    cJSON_AddStringToObject(o, "arrival", c->rate > 0 ? "poisson" : "gather");
    if (c->rate > 0)
        cJSON_AddNumberToObject(o, "rate_per_s", c->rate);
    else
        cJSON_AddNullToObject(o, "rate_per_s");
    if (c->duration_ms)
        cJSON_AddNumberToObject(o, "duration_ms", c->duration_ms);
    else
        cJSON_AddNullToObject(o, "duration_ms");
    if (c->ttl_ms)
        cJSON_AddNumberToObject(o, "ttl_ms", c->ttl_ms);
    else
        cJSON_AddNullToObject(o, "ttl_ms");
    return o;
}

static cJSON *config_json(const struct fb_report_head *h)
{
    const struct fb_config *c = h->cfg;
    const struct fb_target *t = h->target;
    cJSON *o = cJSON_CreateObject(), *modes = cJSON_CreateArray();

    cJSON_AddNumberToObject(o, "tasks", h->ntasks);
    for (size_t i = 0; i < c->nmodes; i++)
        cJSON_AddItemToArray(modes, cJSON_CreateString(c->modes[i]->name));
    cJSON_AddItemToObject(o, "modes", modes);
    cJSON_AddNumberToObject(o, "repeat", c->repeat);
    cJSON_AddNumberToObject(o, "warmup", c->warmup);
    cJSON_AddStringToObject(o, "url", t->shown_url);
    if (c->backend_stats)
        cJSON_AddStringToObject(o, "backend_stats", t->shown_stats);
    else
        cJSON_AddNullToObject(o, "backend_stats");
    char store[320];
    store_describe(c->store, store, sizeof(store));
    cJSON_AddStringToObject(o, "store", store);
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
    if (h->fetch_cap)
        cJSON_AddNumberToObject(o, "fetch_cap", h->fetch_cap);
    else
        cJSON_AddNullToObject(o, "fetch_cap");
    if (h->fd_limit)
        cJSON_AddNumberToObject(o, "fd_limit", (double)h->fd_limit);
    else
        cJSON_AddNullToObject(o, "fd_limit");
    cJSON_AddStringToObject(o, "host", t->host);
    cJSON_AddBoolToObject(o, "host_resolved", t->host_resolved);
    cJSON_AddBoolToObject(o, "embedded_server", t->embedded);
    cJSON_AddItemToObject(o, "workload", workload_json(c));
    cJSON_AddNumberToObject(o, "processes", c->processes ? c->processes : 1);
    cJSON_AddStringToObject(o, "run_id", c->run_id ? c->run_id : "");
    /* The machine that ran the clients: merge compares them before it
     * trusts start_monotonic_us across reports. */
    char hostname[256];
    if (gethostname(hostname, sizeof(hostname)) != 0)
        snprintf(hostname, sizeof(hostname), "unknown");
    hostname[sizeof(hostname) - 1] = '\0';
    cJSON_AddStringToObject(o, "hostname", hostname);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    if (params) {
        cJSON_AddNumberToObject(params, "beta", c->params.beta);
        cJSON_AddNumberToObject(params, "lock_timeout_ms", c->params.lock_timeout_us / 1000);
        cJSON_AddNumberToObject(params, "lease_ms", c->params.lease_us / 1000);
        cJSON_AddNumberToObject(params, "retry_ms", c->params.retry_us / 1000);
    }
    /* The faults the embedded server injected (seeded by workload.seed). */
    if (t->embedded && faults_active(&c->faults)) {
        cJSON *f = cJSON_AddObjectToObject(o, "faults");
        if (f) {
            cJSON_AddNumberToObject(f, "fail_rate", c->faults.fail_rate);
            cJSON_AddNumberToObject(f, "fail_first", c->faults.fail_first);
            cJSON_AddNumberToObject(f, "reset_rate", c->faults.reset_rate);
            cJSON_AddNumberToObject(f, "hang_rate", c->faults.hang_rate);
            cJSON_AddNumberToObject(f, "jitter_ms", c->faults.jitter_ms);
        }
    } else {
        cJSON_AddNullToObject(o, "faults");
    }
    return o;
}

static int has_name(const cJSON *array, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, array) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return 1;
    }
    return 0;
}

static void add_state(cJSON *states, const struct fb_state_def *d)
{
    if (has_name(states, d->name))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddBoolToObject(o, "wait", (d->flags & STATE_WAIT) != 0);
    cJSON_AddBoolToObject(o, "encloses", (d->flags & STATE_ENCLOSES) != 0);
    cJSON_AddBoolToObject(o, "fetch", (d->flags & STATE_FETCH) != 0);
    cJSON_AddItemToArray(states, o);
}

static void add_outcome(cJSON *outcomes, const struct fb_outcome_def *d)
{
    if (has_name(outcomes, d->name))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddBoolToObject(o, "ok", d->ok);
    cJSON_AddItemToArray(outcomes, o);
}

/* The core's words and every word of the strategies this report runs. */
static cJSON *vocabulary_json(const struct fb_config *c)
{
    cJSON *o = cJSON_CreateObject(), *states = cJSON_CreateArray(), *outcomes = cJSON_CreateArray();
    cJSON *counters = cJSON_CreateArray(), *stages = cJSON_CreateArray(), *links = cJSON_CreateArray();

    for (unsigned s = STATE_NONE + 1; s < STATE_CORE_COUNT; s++)
        add_state(states, &vocab_core_states[s]);
    for (unsigned k = OUTCOME_PENDING + 1; k < OUTCOME_CORE_COUNT; k++)
        add_outcome(outcomes, &vocab_core_outcomes[k]);
    for (size_t m = 0; m < c->nmodes; m++) {
        const struct fb_strategy *st = c->modes[m];
        for (unsigned i = 0; i < st->nstates; i++)
            add_state(states, &st->states[i]);
        for (unsigned i = 0; i < st->noutcomes; i++)
            add_outcome(outcomes, &st->outcomes[i]);
        for (unsigned i = 0; i < st->ncounters; i++) {
            cJSON *k = cJSON_CreateObject();
            cJSON_AddStringToObject(k, "name", st->counters[i]);
            cJSON_AddStringToObject(k, "mode", st->name);
            cJSON_AddItemToArray(counters, k);
        }
    }
    for (int i = 0; i < STAGE_COUNT; i++)
        cJSON_AddItemToArray(stages, cJSON_CreateString(vocab_stage_name(i)));
    cJSON_AddItemToObject(o, "states", states);
    cJSON_AddItemToObject(o, "outcomes", outcomes);
    cJSON_AddItemToObject(o, "counters", counters);
    cJSON_AddItemToObject(o, "stages", stages);
    for (int k = LINK_NONE + 1; k < LINK_KIND_COUNT; k++)
        cJSON_AddItemToArray(links, cJSON_CreateString(vocab_link_name(k)));
    cJSON_AddItemToObject(o, "links", links);
    return o;
}

/* Writes prefix, then item, and frees it; -1 when building it ran out of memory. */
static int put_object(const char *prefix, cJSON *item)
{
    if (item == NULL)
        return -1;
    jw_str(&w, prefix);
    int rc = jw_cjson(&w, item);
    cJSON_Delete(item);
    return rc;
}

static int first_run;

int report_begin(FILE *f, const struct fb_report_head *h)
{
    int rc = 0;

    jw_init(&w, f);
    jw_str(&w, "{\"schema\": \"fetchbench/2\",\n \"tool\": {\"name\": \"fetchbench\", \"version\": \"" FB_VERSION "\"}");
    rc |= put_object(",\n \"config\": ", config_json(h));
    rc |= put_object(",\n \"vocabulary\": ", vocabulary_json(h->cfg));
    jw_str(&w, ",\n \"runs\": [");
    first_run = 1;
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------ one run */

/* [t_us, value] for each change of the server log's column col (1 in
 * service, 2 queued): a row that changed only the other column is skipped. */
static void write_samples(const struct fb_run_record *r, int col)
{
    const struct fb_server_stats *s = r->server;
    size_t n = 0;

    for (size_t i = 0; i < s->nlog; i++) {
        if (n > 0 && s->log[i][col] == s->log[i - 1][col])
            continue;
        jw_str(&w, n++ ? ",[" : "[");
        jw_u64(&w, run_rel_us(r->run, s->log[i][0]));
        jw_str(&w, ",");
        jw_i64(&w, s->log[i][col]);
        jw_str(&w, "]");
    }
}

static void write_server(const struct fb_run_record *r)
{
    const struct fb_server_stats *s = r->server;

    jw_str(&w, ",\n  \"server\": ");
    if (!s->valid) {
        jw_str(&w, "null");
        return;
    }
    jw_str(&w, "{\"requests\": ");
    jw_u64(&w, s->requests);
    jw_str(&w, ", \"in_service\": ");
    jw_u64(&w, s->in_service);
    jw_str(&w, ", \"max_in_service\": ");
    jw_u64(&w, s->max_in_service);
    jw_str(&w, ", \"queued\": ");
    jw_u64(&w, s->queued);
    jw_str(&w, ", \"max_queued\": ");
    jw_u64(&w, s->max_queued);
    jw_str(&w, ", \"faults\": {\"failed\": ");
    jw_u64(&w, s->failed);
    jw_str(&w, ", \"reset\": ");
    jw_u64(&w, s->reset);
    jw_str(&w, ", \"hung\": ");
    jw_u64(&w, s->hung);
    jw_str(&w, "}");
    jw_str(&w, ", \"in_service_samples\": [");
    write_samples(r, 1);
    jw_str(&w, s->log_truncated ? "], \"in_service_samples_truncated\": true" : "]");
    if (s->log_queued) {
        jw_str(&w, ", \"queued_samples\": [");
        write_samples(r, 2);
        jw_str(&w, "]");
    }
    jw_str(&w, "}");
}

static void write_threads(const struct fb_run_record *r)
{
    const struct fb_procsample *ps = run_procsample(r->run);

    jw_str(&w, ",\n  \"threads\": {\"baseline\": ");
    jw_u64(&w, r->baseline);
    jw_str(&w, ", \"samples\": [");
    for (size_t i = 0; i < r->nsamples; i++) {
        jw_str(&w, i ? ",[" : "[");
        jw_u64(&w, run_rel_us(r->run, (int64_t)r->samples[i].t_us));
        jw_str(&w, ",");
        jw_u64(&w, r->samples[i].count);
        jw_str(&w, "]");
    }
    jw_str(&w, "],\n   \"lifetimes\": [");
    for (size_t i = 0; i < r->nlives; i++) {
        jw_str(&w, i ? ",{\"start_us\":" : "{\"start_us\":");
        jw_u64(&w, run_rel_us(r->run, (int64_t)r->lives[i].start_us));
        jw_str(&w, ",\"end_us\":");
        if (r->lives[i].end_us)
            jw_u64(&w, run_rel_us(r->run, (int64_t)r->lives[i].end_us));
        else
            jw_str(&w, "null");
        jw_str(&w, ",\"task\":");
        if (r->lives[i].task)
            jw_u64(&w, r->lives[i].task - 1);
        else
            jw_str(&w, "null");
        jw_str(&w, "}");
    }
    jw_str(&w, "]");
    if (ps->n) {
        uint64_t peak = 0;
        jw_str(&w, ",\n   \"proc_samples\": [");
        for (size_t i = 0; i < ps->n; i++) {
            const uint64_t *s = ps->samples[i];
            jw_str(&w, i ? ",[" : "[");
            jw_u64(&w, s[0]);
            jw_str(&w, ",");
            jw_u64(&w, s[1]);
            jw_str(&w, "]");
            if (s[1] > peak)
                peak = s[1];
        }
        jw_str(&w, "], \"proc_peak\": ");
        jw_u64(&w, peak);
    }
    jw_str(&w, "}");
}

/* A per-key array: prefix, then v[0..n) (zeros when v is NULL), then "]". */
static void write_counts(const char *prefix, const uint32_t *v, uint32_t n)
{
    jw_str(&w, prefix);
    for (uint32_t k = 0; k < n; k++) {
        jw_str(&w, k ? "," : "");
        jw_u64(&w, v ? v[k] : 0);
    }
    jw_str(&w, "]");
}

static void write_keys(const struct fb_run_record *r)
{
    const struct fb_workload *wl = run_opts(r->run)->workload;
    const uint32_t *fetches = run_key_fetches(r->run);
    const uint32_t *in_flight = run_key_max_in_flight(r->run);
    uint32_t nkeys = wl->opts.keys;
    uint32_t *tasks = calloc(nkeys, sizeof(*tasks));

    if (tasks)
        for (uint32_t i = 0; i < wl->ntasks; i++)
            tasks[wl->key[i]]++;
    write_counts(",\n  \"keys\": {\"tasks\": [", tasks, nkeys);
    write_counts(", \"upstream_requests\": [", fetches, nkeys);
    write_counts(", \"max_in_flight\": [", in_flight, nkeys);
    jw_str(&w, "}");
    free(tasks);
}

static void write_load(const struct fb_run_record *r)
{
    jw_str(&w, ",\n  \"load\": {\"source\": \"");
    jw_str(&w, r->load_from_server ? "server" : "client");
    jw_str(&w, "\", \"interval_us\": ");
    jw_u64(&w, r->load.interval_us);
    jw_str(&w, ", \"max_in_service\": [");
    for (size_t i = 0; i < r->load.n; i++) {
        jw_str(&w, i ? "," : "");
        jw_u64(&w, r->load.max_in_service[i]);
    }
    jw_str(&w, "]}");
}

static int write_error(const struct fb_task_error *e)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return -1;
    cJSON_AddStringToObject(o, "stage", vocab_stage_name(e->stage));
    cJSON_AddStringToObject(o, "message", e->message ? e->message : "");
    if (e->http_status)
        cJSON_AddNumberToObject(o, "http_status", (double)e->http_status);
    jw_str(&w, ",\"error\":");
    int rc = jw_cjson(&w, o);
    cJSON_Delete(o);
    return rc;
}

/* Names as JSON strings with their quotes, made once per run. Copied whole
 * (a constant size the compiler inlines) and then cut to their length: the
 * writer reserves room for the whole. */
struct quoted {
    char text[64];
    size_t len;
};

static void quote(struct quoted *q, const char *prefix, const char *name, const char *suffix)
{
    int n = snprintf(q->text, sizeof(q->text), "%s%s%s", prefix, name, suffix);
    q->len = n < 0 ? 0 : (size_t)n < sizeof(q->text) ? (size_t)n : sizeof(q->text) - 1;
}

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* One task per line: the hot path at a million tasks, formatted in place
 * with one buffer check per task. */
/* A fleet's tasks name their process ("client"); one process's report
 * stays as it was. */
static int tag_client = -1;

static int write_task(const struct fb_task_view *v, const struct quoted *states, const struct quoted *outcome)
{
    /* Fixed text about 90 bytes, digits 5 x 10, a link and a lock record
     * about 70 each, each span at most its name plus 28. */
    size_t need = 320 + sizeof(outcome->text) + (size_t)v->nspans * (sizeof(states->text) + 24);
    char *p = jw_reserve(&w, need);

    p = PUT(p, "{\"id\":");
    p = jw_put_u32(p, v->id);
    if (tag_client >= 0) {
        p = PUT(p, ",\"client\":");
        p = jw_put_u32(p, (uint32_t)tag_client);
    }
    p = PUT(p, ",\"key\":");
    p = jw_put_u32(p, v->key);
    p = PUT(p, ",\"arrival_us\":");
    p = jw_put_u32(p, v->arrival_us);
    p = PUT(p, ",\"outcome\":");
    memcpy(p, outcome->text, sizeof(outcome->text));
    p += outcome->len;
    p = PUT(p, ",\"start_us\":");
    p = jw_put_u32(p, v->start_us);
    p = PUT(p, ",\"end_us\":");
    p = jw_put_u32(p, v->end_us);
    p = PUT(p, ",\"wait_us\":");
    p = jw_put_u32(p, (uint32_t)v->wait_us); /* within the task's duration: 32 bits */
    if (v->waiter) /* summary.waiters counts these: readers need not guess from spans */
        p = PUT(p, ",\"waiter\":true");
    if (v->waited_on.kind != LINK_NONE) {
        p = PUT(p, ",\"waited_on\":{\"task\":");
        p = jw_put_u32(p, v->waited_on.task);
        p = PUT(p, ",\"kind\":\"");
        const char *k = vocab_link_name(v->waited_on.kind);
        size_t kl = strlen(k);
        memcpy(p, k, kl);
        p += kl;
        p = PUT(p, "\",\"at_us\":");
        p = jw_put_u32(p, v->waited_on.at_us);
        *p++ = '}';
    }
    if (v->lock.woken_by != LOCK_WOKEN_NONE) {
        p = PUT(p, ",\"lock\":{\"attempts\":");
        p = jw_put_u32(p, v->lock.attempts);
        p = PUT(p, ",\"woken_by\":\"");
        const char *k = lock_woken_name(v->lock.woken_by);
        size_t kl = strlen(k);
        memcpy(p, k, kl);
        p += kl;
        p = v->lock.lease_expired ? PUT(p, "\",\"lease_expired\":true}") : PUT(p, "\",\"lease_expired\":false}");
    }
    jw_commit(&w, p);
    if (v->error && write_error(v->error) < 0)
        return -1;
    p = jw_reserve(&w, need);
    p = PUT(p, ",\"spans\":[");
    for (int i = 0; i < v->nspans; i++) {
        const struct quoted *q = &states[v->spans[i].state];
        if (i)
            *p++ = ',';
        memcpy(p, q->text, sizeof(q->text)); /* ["name", */
        p += q->len;
        p = jw_put_u32(p, v->spans[i].start_us);
        *p++ = ',';
        p = jw_put_u32(p, v->spans[i].end_us);
        *p++ = ']';
    }
    p = PUT(p, "]}");
    jw_commit(&w, p);
    return 0;
}

static int write_tasks(struct fb_run_record *r)
{
    const struct fb_strategy *st = run_opts(r->run)->strategy;
    const struct fb_run_totals *t = run_totals(r->run);
    struct quoted *states = calloc(256, sizeof(*states));
    struct quoted outcomes[OUTCOME_OWN_BASE + STRATEGY_MAX_OWN];
    struct fb_task_view v;
    int rc = 0;

    memset(outcomes, 0, sizeof(outcomes));
    if (states == NULL)
        return -1;
    for (unsigned i = 0; i < 256; i++)
        quote(&states[i], "[\"", strategy_state(st, i)->name, "\",");
    for (unsigned i = 0; i < OUTCOME_OWN_BASE + STRATEGY_MAX_OWN; i++)
        quote(&outcomes[i], "\"", strategy_outcome(st, i)->name, "\"");
    jw_str(&w, ",\n  \"tasks\": [");
    for (uint32_t i = 0; i < t->ntasks && rc == 0; i++) {
        jw_str(&w, i ? ",\n   " : "\n   ");
        if (run_task_view(r->run, i, &v) < 0) {
            rc = -1;
            break;
        }
        if (!v.arrived) {
            /* Had not arrived when the run was interrupted. */
            v.start_us = v.end_us = (uint32_t)t->wall_us;
            v.nspans = 0;
        }
        rc = write_task(&v, states, &outcomes[v.outcome_id < OUTCOME_OWN_BASE + STRATEGY_MAX_OWN ? v.outcome_id : 0]);
    }
    free(states);
    return rc;
}

/* Stopped by a signal in the loop, or one arrived since, up to this call:
 * the report says so if the signal came before its end was written. */
static int interrupted(const struct fb_run_totals *t)
{
    return t->interrupted || t->overran || sig_pending();
}

int report_run(struct fb_run_record *r)
{
    const struct fb_run_opts *o = run_opts(r->run);
    const struct fb_run_totals *t = run_totals(r->run);
    int rc = 0;

    tag_client = o->cfg->processes > 1 ? (int)o->client : -1;
    jw_str(&w, first_run ? "\n {\"mode\": \"" : ",\n {\"mode\": \"");
    first_run = 0;
    jw_str(&w, o->strategy->name);
    jw_str(&w, "\", \"repeat\": ");
    jw_u64(&w, o->repeat);
    jw_str(&w, ", \"client\": ");
    jw_u64(&w, o->client);
    jw_str(&w, ", \"start_monotonic_us\": ");
    jw_u64(&w, t->t0_us);
    rc |= put_object(",\n  \"summary\": ", summary_to_json(&r->summary));
    write_keys(r);
    write_load(r);
    write_server(r);
    write_threads(r);
    rc |= write_tasks(r);
    jw_str(&w, interrupted(t) ? "\n  ],\n  \"interrupted\": true}" : "\n  ],\n  \"interrupted\": false}");
    /* Each run reaches the file as it ends: a later run that cannot start
     * leaves the earlier ones written. */
    rc |= jw_flush(&w);
    return rc ? -1 : 0;
}

int report_run_alone(FILE *f, struct fb_run_record *r)
{
    jw_init(&w, f);
    first_run = 1;
    return report_run(r);
}

int report_run_text(const char *text)
{
    jw_str(&w, first_run ? "" : ",");
    first_run = 0;
    jw_str(&w, text);
    return jw_flush(&w);
}

static cJSON *repeats_json(const struct fb_mode_runs *modes, size_t nmodes)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t m = 0; a && m < nmodes; m++) {
        if (modes[m].n == 0)
            continue; /* an interrupted series never ran it: no figures to make up */
        struct fb_summary *agg = malloc(3 * sizeof(*agg));
        cJSON *o = cJSON_CreateObject();
        if (agg == NULL || o == NULL) {
            free(agg);
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        summary_aggregate(modes[m].runs, modes[m].n, &agg[0], &agg[1], &agg[2]);
        cJSON_AddStringToObject(o, "mode", modes[m].mode);
        cJSON_AddNumberToObject(o, "count", (double)modes[m].n);
        cJSON_AddItemToObject(o, "median", summary_to_json(&agg[0]));
        cJSON_AddItemToObject(o, "min", summary_to_json(&agg[1]));
        cJSON_AddItemToObject(o, "max", summary_to_json(&agg[2]));
        cJSON_AddItemToArray(a, o);
        free(agg);
    }
    return a;
}

static cJSON *expectations_json(const struct fb_verdict *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "expect", v[i].e->text);
        cJSON_AddStringToObject(o, "mode", v[i].mode);
        if (v[i].known)
            cJSON_AddNumberToObject(o, "actual", v[i].actual);
        else
            cJSON_AddNullToObject(o, "actual");
        cJSON_AddBoolToObject(o, "ok", v[i].ok);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

int report_end(const struct fb_mode_runs *modes, size_t nmodes, const struct fb_verdict *verdicts,
               size_t nverdicts, int repeat)
{
    return report_end_fleet(modes, nmodes, verdicts, nverdicts, repeat, NULL);
}

int report_end_fleet(const struct fb_mode_runs *modes, size_t nmodes, const struct fb_verdict *verdicts,
                     size_t nverdicts, int repeat, struct cJSON *fleet)
{
    int rc = 0;

    jw_str(&w, "\n ]");
    if (fleet)
        rc |= put_object(",\n \"fleet\": ", fleet);
    if (repeat > 1)
        rc |= put_object(",\n \"repeats\": ", repeats_json(modes, nmodes));
    if (nverdicts)
        rc |= put_object(",\n \"expectations\": ", expectations_json(verdicts, nverdicts));
    /* Last, so that a signal that arrives while the report is written (into
     * a slow pipe, say) still marks it. */
    jw_str(&w, sig_pending() ? ",\n \"interrupted\": true}\n" : ",\n \"interrupted\": false}\n");
    rc |= jw_flush(&w);
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------ stderr */

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
    size_t nerrs;
    const struct fb_task_error *errs = run_errors(run, &nerrs);
    const struct fb_task_error **sorted = malloc((nerrs ? nerrs : 1) * sizeof(*sorted));
    struct message_count *groups = malloc((nerrs ? nerrs : 1) * sizeof(*groups));
    size_t ngroups = 0;

    if (nerrs == 0 || sorted == NULL || groups == NULL)
        goto out;
    for (size_t i = 0; i < nerrs; i++)
        sorted[i] = &errs[i];
    qsort(sorted, nerrs, sizeof(*sorted), by_message);
    for (size_t i = 0; i < nerrs; i++) {
        if (ngroups && by_message(&sorted[i], &groups[ngroups - 1].e) == 0) {
            groups[ngroups - 1].n++;
        } else {
            groups[ngroups].e = sorted[i];
            groups[ngroups++].n = 1;
        }
    }
    qsort(groups, ngroups, sizeof(*groups), by_count);
    for (size_t i = 0; i < ngroups && i < SHOWN; i++)
        fprintf(f, "  %zu \u00d7 %s (%s)\n", groups[i].n, groups[i].e->message ? groups[i].e->message : "",
                vocab_stage_name(groups[i].e->stage));
    if (ngroups > SHOWN)
        fprintf(f, "  and %zu more distinct messages (each task's is in the JSON)\n", ngroups - SHOWN);
out:
    free(sorted);
    free(groups);
}

void report_print_run(FILE *f, const struct fb_run_record *r)
{
    const struct fb_run_opts *o = run_opts(r->run);
    const struct fb_summary *s = &r->summary;

    fprintf(f, "fetchbench: %" PRIu64 " tasks, mode %s, %s%s\n", s->tasks, o->strategy->name,
            r->target->shown_url, interrupted(run_totals(r->run)) ? " (interrupted)" : "");
    fprintf(f, "  wall %.3f s | upstream requests %" PRIu64 " | server saw ", s->wall_us / 1e6,
            s->upstream_requests);
    if (s->server_requests >= 0)
        fprintf(f, "%" PRId64, s->server_requests);
    else
        fprintf(f, "-");
    fprintf(f, " | cache hits %" PRIu64 " misses %" PRIu64 "\n", s->cache_hits, s->cache_misses);
    if (s->p50_us >= 0)
        fprintf(f, "  task time p50 %.3f s, p99 %.3f s, max %.3f s | waiting %.3f s in all\n", s->p50_us / 1e6,
                s->p99_us / 1e6, s->max_us / 1e6, s->wait_us / 1e6);
    fprintf(f, "  threads: peak %" PRIu64 ", created %" PRIu64 " | connections: peak %" PRIu64
               " | errors %" PRIu64, s->peak_threads, s->threads_created, s->peak_connections,
            s->errors_total);
    if (s->errors_total) {
        const char *sep = " (";
        for (int i = 0; i < STAGE_COUNT; i++) {
            if (s->errors[i]) {
                fprintf(f, "%s%s %" PRIu64, sep, vocab_stage_name(i), s->errors[i]);
                sep = ", ";
            }
        }
        fprintf(f, ")");
    }
    fprintf(f, "\n");
    print_error_messages(f, r->run);
}
