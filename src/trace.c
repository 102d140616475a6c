#include "trace.h"

#include "jsonw.h"
#include "mode.h"
#include "report.h"
#include "run.h"
#include "target.h"

/* Trace processes: the tasks, and the threads the run created. */
enum { PID_TASKS = 1, PID_THREADS = 2 };

static void begin_event(struct fb_jsonw *w, int *first)
{
    jw_str(w, *first ? "\n  " : ",\n  ");
    *first = 0;
}

static void name_meta(struct fb_jsonw *w, int *first, const char *what, int pid, uint64_t tid,
                      const char *prefix, int64_t number)
{
    begin_event(w, first);
    jw_str(w, "{\"ph\":\"M\",\"name\":\"");
    jw_str(w, what);
    jw_str(w, "\",\"pid\":");
    jw_u64(w, (uint64_t)pid);
    jw_str(w, ",\"tid\":");
    jw_u64(w, tid);
    jw_str(w, ",\"args\":{\"name\":\"");
    jw_str(w, prefix);
    if (number >= 0)
        jw_u64(w, (uint64_t)number);
    jw_str(w, "\"}}");
}

static void complete(struct fb_jsonw *w, int *first, const char *name, int pid, uint64_t tid,
                     uint64_t start, uint64_t end)
{
    begin_event(w, first);
    jw_str(w, "{\"ph\":\"X\",\"name\":\"");
    jw_str(w, name);
    jw_str(w, "\",\"pid\":");
    jw_u64(w, (uint64_t)pid);
    jw_str(w, ",\"tid\":");
    jw_u64(w, tid);
    jw_str(w, ",\"ts\":");
    jw_u64(w, start);
    jw_str(w, ",\"dur\":");
    jw_u64(w, end > start ? end - start : 0);
    jw_str(w, "}");
}

static void counter(struct fb_jsonw *w, int *first, const char *name, uint64_t ts, int64_t value)
{
    begin_event(w, first);
    jw_str(w, "{\"ph\":\"C\",\"name\":\"");
    jw_str(w, name);
    jw_str(w, "\",\"pid\":1,\"tid\":0,\"ts\":");
    jw_u64(w, ts);
    jw_str(w, ",\"args\":{\"value\":");
    jw_i64(w, value);
    jw_str(w, "}}");
}

int trace_write(FILE *f, const struct fb_report *r)
{
    static struct fb_jsonw w;
    const struct fb_run *run = r->run;
    int first = 1;

    jw_init(&w, f);
    jw_str(&w, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    name_meta(&w, &first, "process_name", PID_TASKS, 0, run->mode->name, -1);
    name_meta(&w, &first, "process_name", PID_THREADS, 0, "threads created", -1);

    /* Tasks: track id + 1, since tid 0 carries the counters. */
    for (uint32_t i = 0; i < run->ntasks; i++) {
        const struct fb_task *t = &run->tasks[i];
        struct fb_span spans[TASK_MAX_SPANS];
        int n = task_spans(t, spans);

        name_meta(&w, &first, "thread_name", PID_TASKS, (uint64_t)t->id + 1, "task ", t->id);
        begin_event(&w, &first);
        jw_str(&w, "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":");
        jw_u64(&w, (uint64_t)t->id + 1);
        jw_str(&w, ",\"args\":{\"sort_index\":");
        jw_u64(&w, t->id);
        jw_str(&w, "}}");
        for (int k = 0; k < n; k++)
            complete(&w, &first, task_state_name(spans[k].state), PID_TASKS, (uint64_t)t->id + 1,
                     spans[k].start_us, spans[k].end_us);
        /* The outcome as an instant at the task's end. */
        begin_event(&w, &first);
        jw_str(&w, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"");
        jw_str(&w, task_outcome_name(t->outcome));
        jw_str(&w, "\",\"pid\":1,\"tid\":");
        jw_u64(&w, (uint64_t)t->id + 1);
        jw_str(&w, ",\"ts\":");
        jw_u64(&w, t->mark_us[MARK_END]);
        jw_str(&w, "}");
    }

    for (size_t i = 0; i < r->nsamples; i++)
        counter(&w, &first, "live threads", run_rel_us(run, (int64_t)r->samples[i].t_us), r->samples[i].count);
    if (r->server->valid)
        for (size_t i = 0; i < r->server->nlog; i++) {
            counter(&w, &first, "server requests in service",
                    run_rel_us(run, r->server->log[i][0]), r->server->log[i][1]);
        }

    for (size_t i = 0; i < r->nlives; i++) {
        uint64_t start = run_rel_us(run, (int64_t)r->lives[i].start_us);
        uint64_t end = r->lives[i].end_us ? run_rel_us(run, (int64_t)r->lives[i].end_us) : run->wall_us;
        name_meta(&w, &first, "thread_name", PID_THREADS, i + 1, "thread ", (int64_t)i);
        complete(&w, &first, "thread", PID_THREADS, i + 1, start, end);
    }
    jw_str(&w, "\n]}\n");
    return jw_flush(&w);
}
