#include "trace.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "report.h"
#include "run.h"
#include "strategy.h"
#include "target.h"

static struct fb_jsonw w;
static int first;
static uint32_t cap;
static uint64_t aggregated_tasks;
static unsigned aggregated_runs;
static uint64_t next_flow = 1;  /* flow ids, unique in the trace */

static void begin_event(void)
{
    jw_str(&w, first ? "\n  " : ",\n  ");
    first = 0;
}

static void pid_tid(uint64_t pid, uint64_t tid)
{
    jw_str(&w, "\"pid\":");
    jw_u64(&w, pid);
    jw_str(&w, ",\"tid\":");
    jw_u64(&w, tid);
}

static void name_meta(const char *what, uint64_t pid, uint64_t tid, const char *prefix, int64_t number)
{
    begin_event();
    jw_str(&w, "{\"ph\":\"M\",\"name\":\"");
    jw_str(&w, what);
    jw_str(&w, "\",");
    pid_tid(pid, tid);
    jw_str(&w, ",\"args\":{\"name\":\"");
    jw_str(&w, prefix);
    if (number >= 0)
        jw_u64(&w, (uint64_t)number);
    jw_str(&w, "\"}}");
}

static void sort_meta(uint64_t pid, uint64_t tid, uint64_t index)
{
    begin_event();
    jw_str(&w, tid ? "{\"ph\":\"M\",\"name\":\"thread_sort_index\"," : "{\"ph\":\"M\",\"name\":\"process_sort_index\",");
    pid_tid(pid, tid);
    jw_str(&w, ",\"args\":{\"sort_index\":");
    jw_u64(&w, index);
    jw_str(&w, "}}");
}

/* A complete event; args is the text of an object's members, or NULL. */
static void complete(const char *name, const char *cat, uint64_t pid, uint64_t tid, uint64_t start, uint64_t end,
                     const char *args)
{
    begin_event();
    jw_str(&w, "{\"ph\":\"X\",\"name\":\"");
    jw_str(&w, name);
    jw_str(&w, "\",\"cat\":\"");
    jw_str(&w, cat);
    jw_str(&w, "\",");
    pid_tid(pid, tid);
    jw_str(&w, ",\"ts\":");
    jw_u64(&w, start);
    jw_str(&w, ",\"dur\":");
    jw_u64(&w, end > start ? end - start : 0);
    if (args) {
        jw_str(&w, ",\"args\":{");
        jw_str(&w, args);
        jw_str(&w, "}");
    }
    jw_str(&w, "}");
}

static void counter(const char *name, uint64_t pid, uint64_t ts, int64_t value)
{
    begin_event();
    jw_str(&w, "{\"ph\":\"C\",\"name\":\"");
    jw_str(&w, name);
    jw_str(&w, "\",\"pid\":");
    jw_u64(&w, pid);
    jw_str(&w, ",\"tid\":0,\"ts\":");
    jw_u64(&w, ts);
    jw_str(&w, ",\"args\":{\"value\":");
    jw_i64(&w, value);
    jw_str(&w, "}}");
}

/* The category a viewer filters by: the strategy's own states under its
 * name, the core's by what they are about. */
static const char *category(const struct fb_strategy *st, unsigned state)
{
    unsigned flags = strategy_state(st, state)->flags;

    if (state >= STATE_OWN_BASE)
        return st->name;
    if (state == STATE_LOCK_WAIT || state == STATE_LOCK_HELD)
        return "lock";
    if (state == STATE_CACHE_CHECK || state == STATE_CACHE_HIT)
        return "cache";
    if (flags & STATE_FETCH)
        return "fetch";
    return (flags & STATE_WAIT) ? "wait" : "task";
}

/* The error's members ("stage":..,"http_status":..,"error":"..."), escaped
 * by cJSON; NULL when memory ran out. Caller frees. */
static char *error_members(const struct fb_task_error *e)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;

    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "stage", vocab_stage_name(e->stage));
    if (e->http_status)
        cJSON_AddNumberToObject(o, "http_status", (double)e->http_status);
    cJSON_AddStringToObject(o, "error", e->message ? e->message : "");
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text) {
        /* The members without their braces, to follow the task's own. */
        size_t n = strlen(text);
        memmove(text, text + 1, n - 2);
        text[n - 2] = '\0';
    }
    return text;
}

/* One traced task: its spans, each with its args, and its outcome. The
 * error (if any) goes on the last fetch phase, the one that failed, and on
 * the outcome. */
static int write_task(const struct fb_strategy *st, const struct fb_task_view *v, uint64_t pid)
{
    uint64_t tid = (uint64_t)v->id + 1;
    char base[160];
    char *err = NULL, *failed = NULL;
    int last_fetch = -1;

    snprintf(base, sizeof(base), "\"task\":%u,\"key\":%u,\"outcome\":\"%s\"", v->id, v->key, v->outcome);
    if (v->error) {
        size_t n;
        if ((err = error_members(v->error)) == NULL || (failed = malloc(n = strlen(base) + strlen(err) + 2)) == NULL) {
            free(err);
            return -1;
        }
        snprintf(failed, n, "%s,%s", base, err);
    }
    name_meta("thread_name", pid, tid, "task ", v->id);
    sort_meta(pid, tid, v->id);
    for (int k = 0; k < v->nspans; k++)
        if (strategy_state(st, v->spans[k].state)->flags & STATE_FETCH)
            last_fetch = k;
    for (int k = 0; k < v->nspans; k++) {
        unsigned s = v->spans[k].state;
        complete(strategy_state(st, s)->name, category(st, s), pid, tid, v->spans[k].start_us, v->spans[k].end_us,
                 failed && k == last_fetch ? failed : base);
    }
    /* The outcome as an instant at the task's end. */
    begin_event();
    jw_str(&w, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"outcome\",\"name\":\"");
    jw_str(&w, v->outcome);
    jw_str(&w, "\",");
    pid_tid(pid, tid);
    jw_str(&w, ",\"ts\":");
    jw_u64(&w, v->end_us);
    jw_str(&w, ",\"args\":{");
    jw_str(&w, failed ? failed : base);
    jw_str(&w, "}}");
    free(err);
    free(failed);
    return 0;
}

/* The state changes of the aggregated tasks, one uint64 each: state in bits
 * 33..40, time in 1..32, bit 0 set for an entry (clear for a leave), so that
 * sorting groups them by state, then time. */
struct changes {
    uint64_t *v;
    size_t n, cap;
};

static int add_change(struct changes *c, unsigned state, uint32_t t, int enter)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 4096;
        uint64_t *nv = realloc(c->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        c->v = nv;
        c->cap = ncap;
    }
    c->v[c->n++] = (uint64_t)state << 33 | (uint64_t)t << 1 | (enter != 0);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct (state, time) points in sorted changes. */
static size_t count_points(const struct changes *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += i == 0 || (c->v[i] >> 1) != (c->v[i - 1] >> 1);
    return n;
}

/* A counter sampled per bucket of q µs: for each bucket where the level
 * moved, its peak at the bucket's start and, when it differs, the level at
 * its close at its last µs; with q = 1, the level after each µs that
 * changed it. A peak shorter than the bucket stays visible; the bucket's
 * shape does not. Levels at one µs count once, the last. */
struct bucketer {
    const char *name;
    uint64_t pid, q, bucket, pending_t;
    int64_t level, before, peak, pending;
    int started, has_pending;
};

static void bucket_close(struct bucketer *b)
{
    int64_t shown = b->before;

    if (b->peak != b->before)
        counter(b->name, b->pid, b->bucket * b->q, shown = b->peak);
    if (b->level != shown)
        counter(b->name, b->pid, b->bucket * b->q + b->q - 1, b->level);
}

static void bucket_commit(struct bucketer *b, uint64_t t, int64_t level)
{
    if (!b->started || t / b->q != b->bucket) {
        if (b->started)
            bucket_close(b);
        b->started = 1;
        b->bucket = t / b->q;
        b->before = b->level;
        b->peak = INT64_MIN;
    }
    b->level = level;
    if (level > b->peak)
        b->peak = level;
}

static void bucket_feed(struct bucketer *b, uint64_t t, int64_t level)
{
    if (b->has_pending && t != b->pending_t)
        bucket_commit(b, b->pending_t, b->pending);
    b->has_pending = 1;
    b->pending_t = t;
    b->pending = level;
}

static void bucket_finish(struct bucketer *b)
{
    if (b->has_pending)
        bucket_commit(b, b->pending_t, b->pending);
    if (b->started)
        bucket_close(b);
}

/* "tasks in STATE" counters from sorted changes, at resolution q. */
static void write_counters(const struct fb_strategy *st, const struct changes *c, uint64_t pid, uint64_t q)
{
    char name[96];
    size_t i = 0;

    while (i < c->n) {
        unsigned state = (unsigned)(c->v[i] >> 33);
        int64_t level = 0;
        struct bucketer b = {.name = name, .pid = pid, .q = q};

        snprintf(name, sizeof(name), "tasks in %s", strategy_state(st, state)->name);
        while (i < c->n && (unsigned)(c->v[i] >> 33) == state) {
            uint64_t point = c->v[i] >> 1;
            for (; i < c->n && (c->v[i] >> 1) == point; i++)
                level += (c->v[i] & 1) ? 1 : -1;
            bucket_feed(&b, point & UINT32_MAX, level);
        }
        bucket_finish(&b);
    }
}

/* A time near want that a slice of the track covers ([start, end)), where a
 * viewer binds a flow event to that slice: with after, the start of the
 * first slice that starts at or after want (a grant, a resume); else, or
 * when there is none, the nearest covered time (want itself inside a slice,
 * want - 1 at a slice that ends at want). -1 when every slice is empty. */
static int64_t bind_ts(const struct fb_span *s, int n, uint32_t want, int after)
{
    int64_t best = -1;
    uint64_t dist = UINT64_MAX;

    for (int k = 0; after && k < n; k++)
        if (s[k].end_us > s[k].start_us && s[k].start_us >= want && (best < 0 || s[k].start_us < best))
            best = s[k].start_us;
    if (best >= 0)
        return best;
    for (int k = 0; k < n; k++) {
        if (s[k].end_us <= s[k].start_us)
            continue;
        uint32_t p = want < s[k].start_us ? s[k].start_us : want >= s[k].end_us ? s[k].end_us - 1 : want;
        uint64_t d = p > want ? p - want : want - p;
        if (d < dist) {
            dist = d;
            best = p;
        }
    }
    return best;
}

/* A flow: "s" at from, "f" at to, both bound to the slice around them. */
static void flow(const char *name, const char *cat, uint64_t pid_from, uint64_t tid_from, int64_t from,
                 uint64_t pid_to, uint64_t tid_to, int64_t to)
{
    static const char *const ph[2] = {"{\"ph\":\"s\",\"id\":", "{\"ph\":\"f\",\"bp\":\"e\",\"id\":"};
    uint64_t pid[2] = {pid_from, pid_to}, tid[2] = {tid_from, tid_to}, ts[2] = {(uint64_t)from, (uint64_t)to};

    for (int i = 0; i < 2; i++) {
        begin_event();
        jw_str(&w, ph[i]);
        jw_u64(&w, next_flow);
        jw_str(&w, ",\"name\":\"");
        jw_str(&w, name);
        jw_str(&w, "\",\"cat\":\"");
        jw_str(&w, cat);
        jw_str(&w, "\",");
        pid_tid(pid[i], tid[i]);
        jw_str(&w, ",\"ts\":");
        jw_u64(&w, ts[i]);
        jw_str(&w, "}");
    }
    next_flow++;
}

/* The flow of v's waited_on, from the task it waited on (at the link's
 * time) to v (at its grant or resume), when both have tracks. Views the
 * other task: v's spans are not valid after. */
static int waited_on_flow(struct fb_run *run, const struct fb_task_view *v, uint64_t pid)
{
    const struct fb_link_view *l = &v->waited_on;
    struct fb_task_view from;

    if (l->kind == LINK_NONE || l->task >= cap)
        return 0;
    int64_t to = bind_ts(v->spans, v->nspans, l->at_us, 1);
    if (run_task_view(run, l->task, &from) < 0)
        return -1;
    int64_t at = bind_ts(from.spans, from.nspans, l->at_us, 0);
    if (to >= 0 && at >= 0 && from.arrived)
        flow(vocab_link_name(l->kind), "waited_on", pid, (uint64_t)l->task + 1, at, pid, (uint64_t)v->id + 1, to);
    return 0;
}

/* The flow from the dns slice of the task that started thread i (the one
 * around the thread's start, else the nearest) to the thread's slice. */
static int thread_flow(struct fb_run *run, uint32_t task, uint64_t pid_tasks, uint64_t pid_threads, size_t i,
                       uint64_t start, uint64_t end)
{
    struct fb_task_view v;
    struct fb_span dns[1];
    uint64_t dist = UINT64_MAX;
    int found = 0;

    if (end <= start || run_task_view(run, task, &v) < 0)
        return end <= start ? 0 : -1;
    for (int k = 0; k < v.nspans; k++) {
        const struct fb_span *s = &v.spans[k];
        if (s->state != STATE_DNS || s->end_us <= s->start_us)
            continue;
        uint64_t d = start < s->start_us ? s->start_us - start : start >= s->end_us ? start - s->end_us + 1 : 0;
        if (d < dist) {
            dist = d;
            dns[0] = *s;
            found = 1;
        }
    }
    if (!found)
        return 0;
    /* The thread may start a few µs before the dns phase's recorded start
     * (the resolver starts inside libcurl's first step): the arrow's end is
     * then moved into the thread's slice so that it never points back. */
    int64_t from = bind_ts(dns, 1, (uint32_t)start, 0);
    int64_t to = from < (int64_t)start ? (int64_t)start : from < (int64_t)end ? from : (int64_t)end - 1;
    flow("resolver thread", "thread", pid_tasks, (uint64_t)task + 1, from, pid_threads, i + 1, to);
    return 0;
}

/* The "fetchbench_aggregated" metadata event: what this run's process
 * shows of its tasks and threads, and how the rest were counted. */
static void aggregated_meta(uint64_t pid, uint32_t traced, uint32_t aggregated, size_t threads_traced,
                            size_t threads_aggregated, uint64_t q)
{
    begin_event();
    jw_str(&w, "{\"ph\":\"M\",\"name\":\"fetchbench_aggregated\",");
    pid_tid(pid, 0);
    jw_str(&w, ",\"args\":{\"max_tasks\":");
    jw_u64(&w, cap);
    jw_str(&w, ",\"tasks_traced\":");
    jw_u64(&w, traced);
    jw_str(&w, ",\"tasks_aggregated\":");
    jw_u64(&w, aggregated);
    jw_str(&w, ",\"threads_traced\":");
    jw_u64(&w, threads_traced);
    jw_str(&w, ",\"threads_aggregated\":");
    jw_u64(&w, threads_aggregated);
    jw_str(&w, ",\"counter_resolution_us\":");
    jw_u64(&w, q);
    jw_str(&w, "}}");
}

/* Column col of the server's log (1: in service, 2: queued) as the counter
 * `name`: each change, as the report's samples have them, or in buckets of
 * q µs for a long run. */
static void server_counter(const struct fb_run_record *r, const char *name, int col, uint64_t pid, uint64_t q)
{
    const struct fb_server_stats *s = r->server;
    struct bucketer b = {.name = name, .pid = pid, .q = q};

    for (size_t i = 0; i < s->nlog; i++) {
        if (i > 0 && s->log[i][col] == s->log[i - 1][col])
            continue; /* the other column changed */
        uint64_t t = run_rel_us(r->run, s->log[i][0]);
        if (q == 1)
            counter(name, pid, t, s->log[i][col]);
        else
            bucket_feed(&b, t, s->log[i][col]);
    }
    bucket_finish(&b);
}

/* Times are the run's own (µs from its start): runs are laid side by side,
 * not end to end. The first `cap` tasks by id have tracks (track id + 1,
 * since tid 0 carries the counters); the changes of the others go into
 * `agg`, sorted and written as counters once every task is read. */
int trace_run(const struct fb_run_record *r, unsigned index)
{
    const struct fb_run_opts *o = run_opts(r->run);
    const struct fb_run_totals *tot = run_totals(r->run);
    const struct fb_strategy *st = o->strategy;
    uint64_t pid_tasks = (uint64_t)o->client * TRACE_PIDS_PER_CLIENT + 2 * (uint64_t)index + 1;
    uint64_t pid_threads = pid_tasks + 1;
    struct changes agg = {0};
    struct fb_task_view v;
    uint32_t traced = 0, aggregated = 0;
    size_t threads_traced = 0;
    char label[160], client[32] = "";
    int rc = 0;

    if (o->client)
        snprintf(client, sizeof(client), ", client %u", o->client);
    for (uint32_t i = 0; i < tot->ntasks && rc == 0; i++) {
        if (run_task_view(r->run, i, &v) < 0) {
            rc = -1;
            break;
        }
        if (!v.arrived)
            continue;
        if (i < cap) {
            rc = write_task(st, &v, pid_tasks);
            if (rc == 0)
                rc = waited_on_flow(r->run, &v, pid_tasks);
            traced++;
            continue;
        }
        aggregated++;
        for (int k = 0; k < v.nspans && rc == 0; k++)
            if (add_change(&agg, v.spans[k].state, v.spans[k].start_us, 1) < 0
                || add_change(&agg, v.spans[k].state, v.spans[k].end_us, 0) < 0)
                rc = -1;
    }
    /* One resolution for the run's counters: exact while each has at most
     * TRACE_EXACT_POINTS points, else TRACE_BUCKETS buckets of the run. */
    uint64_t q = 1;
    if (rc == 0) {
        if (agg.n)
            qsort(agg.v, agg.n, sizeof(*agg.v), cmp_u64);
        if (count_points(&agg) > TRACE_EXACT_POINTS || r->nsamples > TRACE_EXACT_POINTS
            || (r->server->valid && r->server->nlog > TRACE_EXACT_POINTS))
            q = tot->wall_us / TRACE_BUCKETS + 1;
        write_counters(st, &agg, pid_tasks, q);
    }
    free(agg.v);
    if (rc < 0)
        return -1;

    snprintf(label, sizeof(label), "%s #%u (run %u%s%s)", st->name, o->repeat, index, client,
             aggregated ? ", some tasks as counters" : "");
    name_meta("process_name", pid_tasks, 0, label, -1);
    sort_meta(pid_tasks, 0, pid_tasks);
    snprintf(label, sizeof(label), "threads created by %s #%u (run %u%s)", st->name, o->repeat, index, client);
    name_meta("process_name", pid_threads, 0, label, -1);
    sort_meta(pid_threads, 0, pid_threads);

    struct bucketer live = {.name = "live threads", .pid = pid_tasks, .q = q};
    for (size_t i = 0; i < r->nsamples; i++) {
        uint64_t t = run_rel_us(r->run, (int64_t)r->samples[i].t_us);
        if (q == 1) /* every sample, as the report has them */
            counter(live.name, pid_tasks, t, r->samples[i].count);
        else
            bucket_feed(&live, t, r->samples[i].count);
    }
    bucket_finish(&live);
    if (r->server->valid) {
        server_counter(r, "server requests in service", 1, pid_tasks, q);
        if (r->server->log_queued)
            server_counter(r, "server queued", 2, pid_tasks, q);
    }

    /* Thread tracks, as many as task tracks: those of traced tasks, or of
     * none known; the live threads counter counts them all. */
    for (size_t i = 0; i < r->nlives && threads_traced < cap && rc == 0; i++) {
        uint32_t task = r->lives[i].task;
        if (task > cap)
            continue;
        uint64_t start = run_rel_us(r->run, (int64_t)r->lives[i].start_us);
        uint64_t end = r->lives[i].end_us ? run_rel_us(r->run, (int64_t)r->lives[i].end_us) : tot->wall_us;
        char args[32];
        snprintf(args, sizeof(args), "\"task\":%u", task - 1);
        name_meta("thread_name", pid_threads, i + 1, "thread ", (int64_t)i);
        complete("thread", "thread", pid_threads, i + 1, start, end, task ? args : NULL);
        if (task)
            rc = thread_flow(r->run, task - 1, pid_tasks, pid_threads, i, start, end);
        threads_traced++;
    }
    if (rc < 0)
        return -1;
    aggregated_meta(pid_tasks, traced, aggregated, threads_traced, r->nlives - threads_traced, q);
    if (aggregated) {
        aggregated_tasks += aggregated;
        aggregated_runs++;
    }
    return jw_flush(&w);
}

int trace_begin(FILE *f, uint32_t max_tasks)
{
    jw_init(&w, f);
    jw_str(&w, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    first = 1;
    cap = max_tasks;
    aggregated_tasks = 0;
    aggregated_runs = 0;
    return 0;
}

int trace_end(void)
{
    jw_str(&w, "\n]}\n");
    return jw_flush(&w);
}

void trace_aggregated(uint64_t *tasks, unsigned *runs)
{
    *tasks = aggregated_tasks;
    *runs = aggregated_runs;
}
