#include "trace.h"

#include <stdio.h>

#include "jsonw.h"
#include "report.h"
#include "run.h"
#include "target.h"

static struct fb_jsonw w;
static int first;

static void begin_event(void)
{
    jw_str(&w, first ? "\n  " : ",\n  ");
    first = 0;
}

static void name_meta(const char *what, uint64_t pid, uint64_t tid, const char *prefix, int64_t number)
{
    begin_event();
    jw_str(&w, "{\"ph\":\"M\",\"name\":\"");
    jw_str(&w, what);
    jw_str(&w, "\",\"pid\":");
    jw_u64(&w, pid);
    jw_str(&w, ",\"tid\":");
    jw_u64(&w, tid);
    jw_str(&w, ",\"args\":{\"name\":\"");
    jw_str(&w, prefix);
    if (number >= 0)
        jw_u64(&w, (uint64_t)number);
    jw_str(&w, "\"}}");
}

static void complete(const char *name, uint64_t pid, uint64_t tid, uint64_t start, uint64_t end)
{
    begin_event();
    jw_str(&w, "{\"ph\":\"X\",\"name\":\"");
    jw_str(&w, name);
    jw_str(&w, "\",\"pid\":");
    jw_u64(&w, pid);
    jw_str(&w, ",\"tid\":");
    jw_u64(&w, tid);
    jw_str(&w, ",\"ts\":");
    jw_u64(&w, start);
    jw_str(&w, ",\"dur\":");
    jw_u64(&w, end > start ? end - start : 0);
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

int trace_begin(FILE *f)
{
    jw_init(&w, f);
    jw_str(&w, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    first = 1;
    return 0;
}

/* Run k's tasks are process 2k+1, its threads 2k+2. Times are the run's
 * own (µs from its start): runs are laid side by side, not end to end. */
int trace_run(const struct fb_run_record *r, unsigned index)
{
    const struct fb_run_opts *o = run_opts(r->run);
    const struct fb_run_totals *tot = run_totals(r->run);
    uint64_t pid_tasks = 2 * (uint64_t)index + 1, pid_threads = pid_tasks + 1;
    char label[96];
    struct fb_task_view v;

    snprintf(label, sizeof(label), "%s #%u (run %u)", o->strategy->name, o->repeat, index);
    name_meta("process_name", pid_tasks, 0, label, -1);
    snprintf(label, sizeof(label), "threads created by %s #%u (run %u)", o->strategy->name, o->repeat, index);
    name_meta("process_name", pid_threads, 0, label, -1);

    /* Tasks: track id + 1, since tid 0 carries the counters. */
    for (uint32_t i = 0; i < tot->ntasks; i++) {
        if (run_task_view(r->run, i, &v) < 0)
            return -1;
        if (!v.arrived)
            continue;
        name_meta("thread_name", pid_tasks, (uint64_t)i + 1, "task ", i);
        begin_event();
        jw_str(&w, "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":");
        jw_u64(&w, pid_tasks);
        jw_str(&w, ",\"tid\":");
        jw_u64(&w, (uint64_t)i + 1);
        jw_str(&w, ",\"args\":{\"sort_index\":");
        jw_u64(&w, i);
        jw_str(&w, "}}");
        for (int k = 0; k < v.nspans; k++)
            complete(run_state_name(r->run, v.spans[k].state), pid_tasks, (uint64_t)i + 1,
                     v.spans[k].start_us, v.spans[k].end_us);
        /* The outcome as an instant at the task's end. */
        begin_event();
        jw_str(&w, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"");
        jw_str(&w, v.outcome);
        jw_str(&w, "\",\"pid\":");
        jw_u64(&w, pid_tasks);
        jw_str(&w, ",\"tid\":");
        jw_u64(&w, (uint64_t)i + 1);
        jw_str(&w, ",\"ts\":");
        jw_u64(&w, v.end_us);
        jw_str(&w, "}");
    }

    for (size_t i = 0; i < r->nsamples; i++)
        counter("live threads", pid_tasks, run_rel_us(r->run, (int64_t)r->samples[i].t_us), r->samples[i].count);
    if (r->server->valid)
        for (size_t i = 0; i < r->server->nlog; i++)
            counter("server requests in service", pid_tasks, run_rel_us(r->run, r->server->log[i][0]),
                    r->server->log[i][1]);

    for (size_t i = 0; i < r->nlives; i++) {
        uint64_t start = run_rel_us(r->run, (int64_t)r->lives[i].start_us);
        uint64_t end = r->lives[i].end_us ? run_rel_us(r->run, (int64_t)r->lives[i].end_us) : tot->wall_us;
        name_meta("thread_name", pid_threads, i + 1, "thread ", (int64_t)i);
        complete("thread", pid_threads, i + 1, start, end);
    }
    return jw_flush(&w);
}

int trace_end(void)
{
    jw_str(&w, "\n]}\n");
    return jw_flush(&w);
}
