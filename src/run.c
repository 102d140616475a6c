#include "run.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "mode.h"
#include "progress.h"
#include "sig.h"
#include "threads.h"

#define TASK_OF(node) ((struct fb_task *)(node)) /* node is the first member */

uint64_t run_rel_us(const struct fb_run *run, int64_t abs_us)
{
    return abs_us > (int64_t)run->t0_us ? (uint64_t)(abs_us - (int64_t)run->t0_us) : 0;
}

static uint64_t now_rel(const struct fb_run *run)
{
    return clock_now_us() - run->t0_us;
}

void run_mark(struct fb_run *run, struct fb_task *t, enum fb_mark m)
{
    task_mark_at(t, m, now_rel(run));
}

int run_cache_lookup(struct fb_run *run, struct fb_task *t)
{
    const char *body;
    size_t len;

    run_mark(run, t, MARK_CACHE_CHECK);
    int hit = cache_get(&run->cache, run->url, &body, &len);
    run_mark(run, t, MARK_CACHE_DONE);
    if (hit)
        run->cache_hits++;
    else
        run->cache_misses++;
    return hit;
}

void run_fetch(struct fb_run *run, struct fb_task *t)
{
    run_mark(run, t, MARK_FETCH_START);
    if (xfer_fetch(&run->xfer, run->url, &t->node) == 0)
        return;
    struct fb_xfer_result r = {.stage = STAGE_OTHER, .message = "could not set up the transfer"};
    run_mark(run, t, MARK_FETCH_END);
    run->mode->step(run, t, &r);
}

void run_store(struct fb_run *run, struct fb_task *t, struct fb_xfer_result *r)
{
    if (!r->ok)
        return;
    if (cache_put(&run->cache, run->url, r->body, r->len) == 0)
        run->fetched++;
    r->body = NULL; /* the cache owns it now, or freed it */
}

static void record_error(struct fb_run *run, struct fb_task *t, const struct fb_xfer_result *r)
{
    run->errors[r->stage]++;
    if (run->nerrs == run->caperrs) {
        size_t cap = run->caperrs ? run->caperrs * 2 : 16;
        struct fb_task_error *p = realloc(run->errs, cap * sizeof(*p));
        if (p == NULL)
            return; /* counted, without its message */
        run->errs = p;
        run->caperrs = cap;
    }
    struct fb_task_error *e = &run->errs[run->nerrs];
    e->stage = (uint8_t)r->stage;
    e->http_status = r->http_status;
    e->message = strdup(r->message ? r->message : "");
    t->error = (uint32_t)++run->nerrs;
}

void run_finish(struct fb_run *run, struct fb_task *t, const struct fb_xfer_result *r)
{
    if (r == NULL) {
        t->outcome = OUTCOME_CACHE_HIT;
    } else if (r->ok) {
        t->outcome = OUTCOME_FETCHED;
    } else {
        t->outcome = OUTCOME_ERROR;
        record_error(run, t, r);
    }
    run_mark(run, t, MARK_END);
    if (++run->nfinished == run->ntasks) {
        run->wall_us = t->mark_us[MARK_END];
        event_base_loopbreak(run->base);
    }
}

void run_wake(struct fb_run *run, struct fb_task *t)
{
    runq_ready(&run->runq, &t->node);
}

uint64_t run_errors_total(const struct fb_run *run)
{
    uint64_t n = 0;
    for (int i = 0; i < STAGE_COUNT; i++)
        n += run->errors[i];
    return n;
}

/* The scheduler resumes a task: its first run, or the end of a wait. */
static void on_resume(void *ctx, struct fb_node *n)
{
    struct fb_run *run = ctx;
    struct fb_task *t = TASK_OF(n);

    if (!task_has_mark(t, MARK_STARTED))
        run_mark(run, t, MARK_STARTED);
    run->mode->step(run, t, NULL);
}

/* Records how far a fetch got: its end, where libcurl started it, its
 * phases. A fetch libcurl never ran (cancelled while it waited for a slot)
 * waited to the end. */
static void record_fetch(struct fb_run *run, struct fb_task *t, const struct fb_xfer_result *r)
{
    run_mark(run, t, MARK_FETCH_END);
    uint64_t started = r->start_us ? run_rel_us(run, (int64_t)r->start_us) : t->mark_us[MARK_FETCH_END];
    if (started < t->mark_us[MARK_FETCH_START])
        started = t->mark_us[MARK_FETCH_START];
    task_mark_at(t, MARK_FETCH_ADMITTED, started);
    memcpy(t->phase_us, r->phase_us, sizeof(t->phase_us));
}

static void on_fetched(void *ctx, struct fb_node *n, struct fb_xfer_result *r)
{
    struct fb_run *run = ctx;
    struct fb_task *t = TASK_OF(n);

    record_fetch(run, t, r);
    run->mode->step(run, t, r);
}

/* An interrupted run's fetch in flight: recorded, the mode not resumed. */
static void on_fetch_cancelled(void *ctx, struct fb_node *n, struct fb_xfer_result *r)
{
    record_fetch(ctx, TASK_OF(n), r);
}

/* The first SIGINT/SIGTERM ends the run; a second one ends the process
 * (sig.c), wherever it is. */
static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    struct fb_run *run = arg;

    sig_drain();
    run->interrupted = sig_pending();
    event_base_loopbreak(run->base);
}

static void cancel_unfinished(struct fb_run *run)
{
    xfer_abort_all(&run->xfer, on_fetch_cancelled, run);
    uint64_t now = now_rel(run);
    for (uint32_t i = 0; i < run->ntasks; i++) {
        struct fb_task *t = &run->tasks[i];
        if (t->outcome == OUTCOME_PENDING) {
            t->outcome = OUTCOME_CANCELLED;
            task_mark_at(t, MARK_END, now);
        }
    }
    run->wall_us = now;
}

/* Transfers libcurl may hold at once before the rest queue: what the
 * open-file limit allows, 0 when it sets none. A fresh fetch holds its
 * socket and, while its name resolves, the resolver's socket pair; some
 * descriptors stay for the rest of the process. */
static unsigned fd_budget(uint64_t *limit)
{
    struct rlimit rl;
    *limit = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    *limit = rl.rlim_cur;
    rlim_t spare = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : rl.rlim_cur / 2;
    return (unsigned)(spare / 3 > 0 ? spare / 3 : 1);
}

int run_execute(struct fb_run *run, const struct fb_config *cfg, const char *url)
{
    memset(run, 0, sizeof(*run));
    run->cfg = cfg;
    run->url = url;
    run->mode = cfg->mode;
    run->ntasks = cfg->tasks;

    /* --max-connections above what the descriptors allow would fail its
     * connects with EMFILE: the fetches beyond the budget queue instead. */
    unsigned budget = fd_budget(&run->fd_limit);
    run->fetch_cap = cfg->max_connections;
    run->fd_bound = budget && (run->fetch_cap == 0 || budget < run->fetch_cap);
    if (run->fd_bound)
        run->fetch_cap = budget;
    struct fb_xfer_opts xo = {
        .timeout_ms = cfg->timeout_ms,
        .max_body = cfg->max_body,
        .reuse_connections = cfg->max_connections > 0,
        .max_inflight = run->fetch_cap,
    };

    run->base = event_base_new();
    if (run->base == NULL)
        goto oom;
    if (runq_init(&run->runq, run->base, on_resume, run) < 0 || cache_init(&run->cache) < 0)
        goto oom;
    if (xfer_init(&run->xfer, run->base, &xo, on_fetched, run) < 0)
        goto oom;
    run->tasks = calloc(run->ntasks, sizeof(*run->tasks));
    if (run->tasks == NULL && run->ntasks) {
        snprintf(run->errbuf, sizeof(run->errbuf), "out of memory for %u tasks", run->ntasks);
        return -1;
    }
    if (run->mode->setup && run->mode->setup(run) < 0)
        goto oom;
    if (sig_fd() >= 0) {
        run->sig_wake = event_new(run->base, sig_fd(), EV_READ | EV_PERSIST, on_signal, run);
        if (run->sig_wake == NULL || event_add(run->sig_wake, NULL) < 0)
            goto oom;
    }

    threads_start(threads_live_now());
    run->t0_us = clock_now_us();
    /* Spawned all at once, like asyncio.gather: each starts on the next tick. */
    for (uint32_t i = 0; i < run->ntasks; i++) {
        struct fb_task *t = &run->tasks[i];
        t->id = i;
        task_mark_at(t, MARK_CREATED, now_rel(run));
        runq_ready(&run->runq, &t->node);
    }
    if (run->cfg->progress)
        run->progress = progress_start(run);
    if (cfg->proc_sample_ms)
        (void)procsample_start(&run->procsample, run->base, run->t0_us, cfg->proc_sample_ms);
    /* A signal that came before the loop (while the server started, between
     * two runs) cancels the run before it begins. */
    run->interrupted = sig_pending();
    if (run->ntasks && !run->interrupted)
        event_base_dispatch(run->base);
    progress_free(run->progress);
    run->progress = NULL;
    procsample_stop(&run->procsample);
    if (run->nfinished < run->ntasks)
        cancel_unfinished(run);
    threads_stop();
    return 0;

oom:
    snprintf(run->errbuf, sizeof(run->errbuf), "out of memory setting up the run");
    return -1;
}

void run_free(struct fb_run *run)
{
    /* libcurl first (it may still call back into the loop), then what the
     * loop holds, then the loop. */
    if (run->base) {
        xfer_cleanup(&run->xfer);
        if (run->mode && run->mode->teardown && run->mode_state)
            run->mode->teardown(run);
        if (run->sig_wake)
            event_free(run->sig_wake);
        runq_free(&run->runq);
        event_base_free(run->base);
    }
    procsample_free(&run->procsample);
    cache_free(&run->cache);
    for (size_t i = 0; i < run->nerrs; i++)
        free(run->errs[i].message);
    free(run->errs);
    free(run->tasks);
    memset(run, 0, sizeof(*run));
}
