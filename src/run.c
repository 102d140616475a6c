#include "run.h"

#include <event2/event.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "procsample.h"
#include "progress.h"
#include "runq.h"
#include "redisd.h"
#include "sig.h"
#include "store_redis.h"
#include "threads.h"
#include "xfer.h"

#define TASK_OF(node) ((struct fb_task *)(node)) /* node is the first member */
/* Times are 32-bit µs from t0: a run stops (as if interrupted) before that. */
#define RUN_LIMIT_US 4290000000u
/* Arrivals wake the loop at most once per this: arming a timer a few µs
 * ahead costs the kernel more than a task costs us (at 500,000 arrivals a
 * second, 1.8 µs a task of system time, one timerfd_settime per ~6
 * arrivals), so arrivals closer together than this are released together,
 * each at most this late (a task's start_us against its arrival_us shows
 * it); sparser ones are released on time. */
#define ARRIVAL_SLACK_US 200

/* A sleeping task's deadline. Cancelled sleeps stay in the heap and are
 * skipped when they come up: their generation no longer matches the task's
 * (8 bits: a stale entry could match again only after 256 further sleeps of
 * the same task within its deadline, and then only wakes it early). */
struct deadline {
    uint32_t due_us;
    uint32_t task;
    uint8_t gen;
};

/* Who a task waited on (its report's waited_on), in a side table of the run
 * made on the first link: 12 bytes a task, none in runs without waits. */
struct link {
    uint32_t task, at_us;
    uint8_t kind;               /* enum fb_link_kind; LINK_NONE: none */
};

/* A task's wait for a store lock (its report's lock), in a side table of
 * the run made on the first: 8 bytes a task, none in runs of strategies
 * that take no lock in the store. */
struct lockrec {
    uint32_t attempts;
    uint8_t woken_by;           /* enum fb_lock_woken; LOCK_WOKEN_NONE: none */
    uint8_t lease_expired;
};

struct fb_env {
    struct fb_run_opts o;
    const struct fb_strategy *strategy;
    void *strategy_state;
    int strategy_ready;         /* setup succeeded: teardown owed */

    struct event_base *base;
    struct fb_runq runq;
    struct fb_xfer xfer;
    struct fb_store store;
    struct fb_timeline tl;
    struct fb_rng rng;
    struct event *sig_wake;     /* the first SIGINT/SIGTERM (sig.h) */
    struct event *arrive;       /* the next planned arrival */
    struct event *wake_timer;   /* the earliest deadline */
    struct event *limit;        /* RUN_LIMIT_US */
    struct event *progress;
    struct fb_procsample procsample;

    struct deadline *heap;
    size_t nheap, capheap;
    uint32_t timer_armed_us;    /* what wake_timer is set for; UINT32_MAX: none */

    struct fb_task *tasks;
    uint32_t next_arrival;      /* the first task not yet arrived */
    uint32_t now;               /* env_now: read once per step */
    int in_step;                /* a step is running: answers wait a tick */
    uint32_t ttl_us;
    char **key_urls;            /* [keys], made on first fetch, or NULL: one URL */
    uint32_t *key_fetches;      /* [keys] */
    uint32_t *key_in_flight;    /* [keys]: fetches upstream now */
    uint32_t *key_max_in_flight; /* [keys]: the most at once (the stampede) */

    struct link *links;         /* [tasks], or NULL: no link yet */
    struct lockrec *locks;      /* [tasks], or NULL: no store lock asked yet */
    struct fb_task_error *errs;
    size_t nerrs, caperrs;
    struct fb_span *spanbuf;
    size_t spancap;
    struct fb_run_totals totals;
};

struct fb_run {
    struct fb_env env;
};

static uint32_t now_rel(const struct fb_env *env)
{
    uint64_t d = clock_now_us() - env->totals.t0_us;
    return d > RUN_LIMIT_US ? RUN_LIMIT_US : (uint32_t)d;
}

uint64_t run_rel_us(const struct fb_run *run, int64_t abs_us)
{
    int64_t t0 = (int64_t)run->env.totals.t0_us;
    return abs_us > t0 ? (uint64_t)(abs_us - t0) : 0;
}

/* ------------------------------------------------------------ stepping */

/* Resumes t's strategy. The caller has read the clock into env->now: once
 * per step, which every entry the step records shares. */
static void step(struct fb_env *env, struct fb_task *t, const struct fb_event *ev)
{
    t->timer_gen++;             /* any resume ends a sleep */
    if (t->flags & TASK_AWAITS_OTHERS)
        t->flags |= TASK_WAITED;
    env->in_step = 1;
    env->strategy->step(env, env->strategy_state, t, ev);
    env->in_step = 0;
}

static void start_task(struct fb_env *env, struct fb_task *t)
{
    t->flags |= TASK_STARTED;
    t->start_us = env->now;
}

/* The scheduler resumes a task: its first run, a wake-up, a deferred store
 * answer, or a fetch that could not even be set up. */
static void on_resume(void *ctx, struct fb_node *n)
{
    struct fb_env *env = ctx;
    struct fb_task *t = TASK_OF(n);
    struct fb_event ev = {.why = (enum fb_wake)t->why};
    struct fb_store_reply reply;
    struct fb_fetched fetched;

    if (t->outcome != OUTCOME_PENDING)
        return; /* finished while the wake-up was queued */
    env->now = now_rel(env);
    if (ev.why == WAKE_START) {
        start_task(env, t);
    } else if (ev.why == WAKE_STORE) {
        memset(&reply, 0, sizeof(reply));
        reply.op = t->reply >> 4;
        reply.status = t->reply & 15;
        t->reply = 0; /* delivered (cancel_unfinished looks for grants that were not) */
        ev.store = &reply;
    } else if (ev.why == WAKE_FETCHED) {
        /* A fetch that failed before libcurl had it (task_fetch). */
        memset(&fetched, 0, sizeof(fetched));
        fetched.stage = STAGE_OTHER;
        fetched.error = t->error;
        t->error = 0;
        ev.fetch = &fetched;
    }
    step(env, t, &ev);
}

static void ready(struct fb_env *env, struct fb_task *t, enum fb_wake why)
{
    t->why = (uint8_t)why;
    runq_ready(&env->runq, &t->node);
}

void task_waited_on(struct fb_env *env, struct fb_task *t, uint32_t other, enum fb_link_kind kind, uint32_t at_us)
{
    uint32_t me = task_id(env, t);
    if (other == me || other >= env->totals.ntasks || kind == LINK_NONE || kind >= LINK_KIND_COUNT)
        return;
    if (env->links == NULL && (env->links = calloc(env->totals.ntasks, sizeof(*env->links))) == NULL)
        return; /* out of memory: the run goes on, unlinked */
    env->links[me] = (struct link){other, at_us, (uint8_t)kind};
}

static const char *const lock_woken_names[LOCK_WOKEN_COUNT] = {
    [LOCK_WOKEN_NONE] = "none",
    [LOCK_WOKEN_AT_ONCE] = "at_once",
    [LOCK_WOKEN_NOTIFICATION] = "notification",
    [LOCK_WOKEN_RECHECK] = "recheck",
    [LOCK_WOKEN_STORE_ERROR] = "store_error",
};

const char *lock_woken_name(enum fb_lock_woken w)
{
    return (unsigned)w < LOCK_WOKEN_COUNT ? lock_woken_names[w] : "";
}

static struct lockrec *lockrec(struct fb_env *env, const struct fb_task *t)
{
    if (env->locks == NULL && (env->locks = calloc(env->totals.ntasks, sizeof(*env->locks))) == NULL)
        return NULL; /* out of memory: the run goes on, unrecorded */
    return &env->locks[task_id(env, t)];
}

void task_lock_got(struct fb_env *env, struct fb_task *t, uint32_t attempts, enum fb_lock_woken woken_by)
{
    struct lockrec *l = lockrec(env, t);
    if (l == NULL || woken_by == LOCK_WOKEN_NONE || woken_by >= LOCK_WOKEN_COUNT)
        return;
    l->attempts += attempts;
    l->woken_by = (uint8_t)woken_by;
}

void task_lease_expired(struct fb_env *env, struct fb_task *t)
{
    struct lockrec *l = lockrec(env, t);
    if (l)
        l->lease_expired = 1;
}

void task_waited_on_entry(struct fb_env *env, struct fb_task *t, const struct fb_store_reply *r,
                          enum fb_link_kind kind)
{
    if (r->op == STORE_GET && r->status == STORE_OK && r->meta.stored_by)
        task_waited_on(env, t, r->meta.stored_by - 1, kind, r->meta.stored_us);
}

/* A store answers later: from the loop, the task steps now; from inside a
 * step (an unlock handing the lock on), on a later tick. A lock handed
 * over is recorded here, at the release, for every strategy alike. */
static void count_get(struct fb_env *env, const struct fb_store_reply *r);

static void on_store_answer(void *ctx, struct fb_task *t, const struct fb_store_reply *r)
{
    struct fb_env *env = ctx;

    /* From the loop, the answer's time is now; inside a step (a release
     * handing the lock on), the releaser's: its clock is the release's. */
    if (!env->in_step)
        env->now = now_rel(env);
    if (r->op == STORE_GET) /* a store across the network answers every get later */
        count_get(env, r);
    if (r->op == STORE_LOCK && r->status == STORE_OK && r->granted_by)
        task_waited_on(env, t, (uint32_t)(r->granted_by - 1), LINK_HANDOFF, env->now);

    if (env->in_step) {
        t->reply = (uint8_t)(r->op << 4 | (r->status & 15));
        ready(env, t, WAKE_STORE);
        return;
    }
    struct fb_event ev = {.why = WAKE_STORE, .store = r};
    step(env, t, &ev);
}

/* ------------------------------------------------------------ primitives */

uint32_t env_now(const struct fb_env *env) { return env->now; }
uint64_t env_random(struct fb_env *env) { return rng_next(&env->rng); }
uint32_t env_ttl_us(const struct fb_env *env) { return env->ttl_us; }
uint32_t env_ntasks(const struct fb_env *env) { return env->totals.ntasks; }
uint32_t env_nkeys(const struct fb_env *env) { return env->o.workload->opts.keys; }
const struct fb_strategy_params *env_params(const struct fb_env *env) { return &env->o.cfg->params; }
uint32_t task_id(const struct fb_env *env, const struct fb_task *t) { return (uint32_t)(t - env->tasks); }
struct fb_task *env_task(struct fb_env *env, uint32_t id) { return &env->tasks[id]; }

uint32_t task_key(const struct fb_env *env, const struct fb_task *t)
{
    return env->o.workload->key[t - env->tasks];
}

void env_count(struct fb_env *env, unsigned counter, uint64_t n)
{
    if (counter < STRATEGY_MAX_OWN)
        env->totals.counters[counter] += n;
}

void env_count_move(struct fb_env *env, unsigned from, unsigned to)
{
    if (from < STRATEGY_MAX_OWN && env->totals.counters[from] > 0)
        env->totals.counters[from]--;
    env_count(env, to, 1);
}

static int is_wait(const struct fb_env *env, unsigned state)
{
    return state != STATE_FETCHING && (strategy_state(env->strategy, state)->flags & STATE_WAIT);
}

/* A wait for another task (a lock, a flight, a fill) or a poll: what makes
 * a task a waiter. Waiting to start (created) or for a slot (a fetch
 * phase) does not. */
static int waits_for_others(const struct fb_env *env, unsigned state)
{
    return state != STATE_CREATED && state != STATE_FETCHING
           && (strategy_state(env->strategy, state)->flags & (STATE_WAIT | STATE_FETCH)) == STATE_WAIT;
}

/* t's inner state becomes state (STATE_FETCHING for a fetch): keeps its
 * wait flags and the count of tasks waiting. */
static void set_waiting(struct fb_env *env, struct fb_task *t, unsigned state)
{
    /* Tasks waiting right now, for the progress line: a flag, not a walk
     * back through the task's entries. */
    int was = (t->flags & TASK_WAITING) != 0, now = is_wait(env, state);
    if (was != now) {
        t->flags ^= TASK_WAITING;
        env->totals.nwaiting += (uint32_t)(now - was);
    }
    /* A lock taken at once leaves lock_wait in the same step: only a task
     * resumed while in such a state (step) has waited. */
    if (now && waits_for_others(env, state))
        t->flags |= TASK_AWAITS_OTHERS;
    else
        t->flags &= (uint8_t)~TASK_AWAITS_OTHERS;
}

void task_enter(struct fb_env *env, struct fb_task *t, unsigned state)
{
    set_waiting(env, t, state);
    (void)timeline_enter(&env->tl, t, (uint8_t)state, env->now);
}

void task_hold(struct fb_env *env, struct fb_task *t, unsigned state)
{
    (void)timeline_enter(&env->tl, t, (uint8_t)(state | TIMELINE_OUTER), env->now);
}

static uint32_t record_error(struct fb_env *env, enum fb_stage stage, long http_status, const char *message)
{
    env->totals.errors[stage]++;
    if (env->nerrs == env->caperrs) {
        size_t cap = env->caperrs ? env->caperrs * 2 : 16;
        struct fb_task_error *p = realloc(env->errs, cap * sizeof(*p));
        if (p == NULL)
            return 0; /* counted, without its message */
        env->errs = p;
        env->caperrs = cap;
    }
    struct fb_task_error *e = &env->errs[env->nerrs];
    e->stage = (uint8_t)stage;
    e->http_status = http_status;
    e->message = strdup(message ? message : "");
    return (uint32_t)++env->nerrs;
}

static const char *key_url(struct fb_env *env, uint32_t key)
{
    if (env->key_urls == NULL)
        return env->o.url;
    if (env->key_urls[key] == NULL) {
        const char *at = strstr(env->o.url, "{key}");
        char digits[16];
        int n = snprintf(digits, sizeof(digits), "%u", key);
        size_t len = strlen(env->o.url) - 5 + (size_t)n;
        char *u = malloc(len + 1);
        if (u == NULL)
            return NULL;
        size_t head = (size_t)(at - env->o.url);
        memcpy(u, env->o.url, head);
        memcpy(u + head, digits, (size_t)n);
        strcpy(u + head + (size_t)n, at + 5);
        env->key_urls[key] = u;
    }
    return env->key_urls[key];
}

void task_fetch(struct fb_env *env, struct fb_task *t)
{
    /* The fetch is t's inner state now: no longer a wait, whatever state
     * it came from. */
    set_waiting(env, t, STATE_FETCHING);
    struct fb_fetch_rec *f = timeline_fetch(&env->tl, t, env->now);
    uint32_t key = task_key(env, t);
    const char *url = key_url(env, key);

    if (f && url && xfer_fetch(&env->xfer, url, &t->node) == 0)
        return;
    /* Never into the step that asked: the failure comes on the next tick. */
    if (f)
        f->end_us = env->now;
    t->error = record_error(env, STAGE_OTHER, 0,
                            f && url ? "could not set up the transfer" : "out of memory for the fetch");
    ready(env, t, WAKE_FETCHED);
}

static void heap_swap(struct deadline *h, size_t a, size_t b)
{
    struct deadline x = h[a];
    h[a] = h[b];
    h[b] = x;
}

static void arm_deadline(struct fb_env *env)
{
    if (env->nheap == 0) {
        evtimer_del(env->wake_timer);
        env->timer_armed_us = UINT32_MAX;
        return;
    }
    uint32_t due = env->heap[0].due_us;
    if (due == env->timer_armed_us)
        return;
    uint32_t now = now_rel(env);
    uint32_t in = due > now ? due - now : 0;
    struct timeval tv = {in / 1000000, in % 1000000};
    evtimer_add(env->wake_timer, &tv);
    env->timer_armed_us = due;
}

void task_sleep(struct fb_env *env, struct fb_task *t, uint32_t until_us)
{
    if (env->nheap == env->capheap) {
        size_t cap = env->capheap ? env->capheap * 2 : 64;
        struct deadline *h = realloc(env->heap, cap * sizeof(*h));
        if (h == NULL) {
            ready(env, t, WAKE_TIMER); /* wakes at once rather than never */
            return;
        }
        env->heap = h;
        env->capheap = cap;
    }
    /* The generation was bumped when this step began: the sleep carries it,
     * and any other resume before the deadline bumps it again. */
    size_t i = env->nheap++;
    env->heap[i] = (struct deadline){until_us, task_id(env, t), t->timer_gen};
    while (i > 0 && env->heap[(i - 1) / 2].due_us > env->heap[i].due_us) {
        heap_swap(env->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    if (i == 0)
        arm_deadline(env);
}

static struct deadline heap_pop(struct fb_env *env)
{
    struct deadline top = env->heap[0];
    struct deadline *h = env->heap;
    size_t n = --env->nheap, i = 0;
    h[0] = h[n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].due_us < h[m].due_us)
            m = l;
        if (r < n && h[r].due_us < h[m].due_us)
            m = r;
        if (m == i)
            break;
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct fb_env *env = arg;
    uint32_t now = now_rel(env);

    env->timer_armed_us = UINT32_MAX;
    while (env->nheap && env->heap[0].due_us <= now) {
        struct deadline d = heap_pop(env);
        struct fb_task *t = &env->tasks[d.task];
        if (t->outcome != OUTCOME_PENDING || t->timer_gen != d.gen)
            continue; /* finished, or resumed for another reason since */
        struct fb_event ev = {.why = WAKE_TIMER};
        env->now = now_rel(env);
        step(env, t, &ev);
    }
    arm_deadline(env);
}

void task_wake(struct fb_env *env, struct fb_task *t)
{
    ready(env, t, WAKE_WOKEN);
}

void task_finish(struct fb_env *env, struct fb_task *t, unsigned outcome, uint32_t error)
{
    if (t->flags & TASK_WAITING)
        env->totals.nwaiting--;
    t->outcome = (uint8_t)outcome;
    t->error = error;
    t->end_us = env->now;
    if (++env->totals.nfinished == env->totals.ntasks) {
        env->totals.wall_us = t->end_us;
        event_base_loopbreak(env->base);
    }
}

/* The store's answers count the cache's hits and misses, now or later. */
static void count_get(struct fb_env *env, const struct fb_store_reply *r)
{
    if (store_fresh(env, r))
        env->totals.cache_hits++;
    else
        env->totals.cache_misses++;
}

int store_fresh(const struct fb_env *env, const struct fb_store_reply *r)
{
    return r->op == STORE_GET && r->status == STORE_OK && r->meta.expires_us > env->now;
}

int task_get(struct fb_env *env, struct fb_task *t, struct fb_store_reply *now)
{
    int answered = env->store.ops->get(env->store.impl, task_key(env, t), t, now);
    if (answered)
        count_get(env, now);
    return answered;
}

int task_set(struct fb_env *env, struct fb_task *t, struct fb_fetched *f, struct fb_store_reply *now)
{
    uint64_t expires = env->ttl_us == UINT32_MAX ? UINT32_MAX : (uint64_t)env->now + env->ttl_us;
    struct fb_entry_meta meta = {
        .stored_us = env->now,
        .expires_us = expires > UINT32_MAX ? UINT32_MAX : (uint32_t)expires,
        .compute_us = f->compute_us,
        .stored_by = task_id(env, t) + 1, /* its lock token too */
    };
    char *body = f->body;
    f->body = NULL;
    return env->store.ops->set(env->store.impl, task_key(env, t), body, f->len, &meta, t, now);
}

int task_lock(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now)
{
    return env->store.ops->lock(env->store.impl, lock, task_id(env, t) + 1, 0, t, now);
}

int task_unlock(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now)
{
    return env->store.ops->unlock(env->store.impl, lock, task_id(env, t) + 1, t, now);
}

int task_try_lock(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now)
{
    return env->store.ops->try_lock(env->store.impl, lock, task_id(env, t) + 1, t, now);
}

int task_watch(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now)
{
    return env->store.ops->watch(env->store.impl, lock, t, now);
}

int task_cancel_wait(struct fb_env *env, struct fb_task *t)
{
    return env->store.ops->cancel(env->store.impl, t);
}

/* ------------------------------------------------------------ the fetcher */

/* Records how far a fetch got: its end, where libcurl started it, its
 * phases. A fetch libcurl never ran (cancelled while it waited for a slot)
 * waited to its end. */
static struct fb_fetch_rec *record_fetch(struct fb_env *env, struct fb_task *t, const struct fb_xfer_result *r)
{
    if (t->flags & TASK_SENT) {
        t->flags &= (uint8_t)~TASK_SENT;
        env->key_in_flight[task_key(env, t)]--;
    }
    struct fb_fetch_rec *f = timeline_last_fetch(&env->tl, t);
    if (f == NULL)
        return NULL;
    f->end_us = env->now;
    if (r->start_us) {
        uint64_t started = run_rel_us((const struct fb_run *)env, (int64_t)r->start_us);
        f->admitted_us = started < f->start_us ? f->start_us : started > f->end_us ? f->end_us : (uint32_t)started;
    }
    memcpy(f->phase_us, r->phase_us, sizeof(f->phase_us));
    return f;
}

static void on_fetched(void *ctx, struct fb_node *n, struct fb_xfer_result *r)
{
    struct fb_env *env = ctx;
    struct fb_task *t = TASK_OF(n);

    env->now = now_rel(env);
    struct fb_fetch_rec *f = record_fetch(env, t, r);
    struct fb_fetched fetched = {
        .ok = r->ok,
        .stage = r->stage,
        .http_status = r->http_status,
        .body = r->body,
        .len = r->len,
        /* What the value cost upstream, from libcurl's start: the client's
         * own wait for a slot is its overload, not the value's (XFetch's
         * delta would otherwise grow with the queue and feed it). */
        .compute_us = f ? env->now - (f->admitted_us != TIMELINE_NONE ? f->admitted_us : f->start_us) : 0,
    };
    if (!r->ok)
        fetched.error = record_error(env, r->stage, r->http_status, r->message);
    struct fb_event ev = {.why = WAKE_FETCHED, .fetch = &fetched};
    step(env, t, &ev);
    r->body = fetched.body; /* what the step did not take, xfer frees */
}

/* Per-key requests are counted where the summary's are: when libcurl gets
 * the fetch. */
static void on_sent(void *ctx, struct fb_node *n)
{
    struct fb_env *env = ctx;
    struct fb_task *t = TASK_OF(n);
    uint32_t key = task_key(env, t);

    env->key_fetches[key]++;
    env->totals.upstream_requests++;
    t->flags |= TASK_SENT;
    if (++env->key_in_flight[key] > env->key_max_in_flight[key]) {
        env->key_max_in_flight[key] = env->key_in_flight[key];
        if (env->key_in_flight[key] > env->totals.stampede_max)
            env->totals.stampede_max = env->key_in_flight[key];
    }
}

/* An interrupted run's fetch in flight: recorded, the strategy not resumed. */
static void on_fetch_cancelled(void *ctx, struct fb_node *n, struct fb_xfer_result *r)
{
    struct fb_env *env = ctx;
    env->now = now_rel(env);
    record_fetch(env, TASK_OF(n), r);
}

/* ------------------------------------------------------------ arrivals, end */

static void on_arrive(evutil_socket_t fd, short what, void *arg)
{
    struct fb_env *env = arg;
    const struct fb_workload *w = env->o.workload;
    uint32_t now = now_rel(env);

    while (env->next_arrival < env->totals.ntasks && w->arrival_us[env->next_arrival] <= now) {
        struct fb_task *t = &env->tasks[env->next_arrival++];
        t->created_us = now;
        t->flags |= TASK_ARRIVED;
        env->totals.narrived++;
        ready(env, t, WAKE_START);
    }
    if (env->next_arrival < env->totals.ntasks) {
        uint32_t at = w->arrival_us[env->next_arrival];
        uint32_t in = at - now < ARRIVAL_SLACK_US ? ARRIVAL_SLACK_US : at - now;
        struct timeval tv = {in / 1000000, in % 1000000};
        evtimer_add(env->arrive, &tv);
    }
}

/* The first SIGINT/SIGTERM ends the run; a second one ends the process
 * (sig.c), wherever it is. */
static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    struct fb_env *env = arg;

    sig_drain();
    env->totals.interrupted = sig_pending();
    event_base_loopbreak(env->base);
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
    struct fb_env *env = arg;
    env->totals.overran = 1;
    event_base_loopbreak(env->base);
}

static void cancel_unfinished(struct fb_env *env)
{
    xfer_abort_all(&env->xfer, on_fetch_cancelled, env);
    uint32_t now = now_rel(env);
    for (uint32_t i = 0; i < env->totals.ntasks; i++) {
        struct fb_task *t = &env->tasks[i];
        if (t->outcome != OUTCOME_PENDING)
            continue;
        if (!(t->flags & TASK_ARRIVED))
            t->created_us = now;
        /* Cut short while waiting for another task: it waited. */
        if (t->flags & TASK_AWAITS_OTHERS)
            t->flags |= TASK_WAITED;
        /* A lock handed over inside its holder's step, the grant still
         * queued when the run stopped: the task never went on with it, so
         * it carries no hand-off (its spans end in lock_wait). */
        if (t->reply == (uint8_t)(STORE_LOCK << 4 | STORE_OK) && env->links)
            env->links[i].kind = LINK_NONE;
        t->outcome = OUTCOME_CANCELLED;
        t->end_us = now;
    }
    env->totals.wall_us = now;
}

/* ------------------------------------------------------------ life cycle */

/* The store --store chose: the in-process one, or Redis (the embedded
 * redis-server for "redis", started on first use). -1 with err set. */
static int open_store(struct fb_env *env, char *err, size_t errlen)
{
    const struct fb_config *cfg = env->o.cfg;
    struct fb_redis_addr addr;

    if (cfg->store == NULL || strcmp(cfg->store, "mem") == 0) {
        if (store_mem_open(&env->store, env->o.workload->opts.keys, on_store_answer, env) == 0)
            return 0;
        snprintf(err, errlen, "out of memory setting up the store");
        return -1;
    }
    if (strcmp(cfg->store, "redis") == 0) {
        memset(&addr, 0, sizeof(addr));
        strcpy(addr.host, "127.0.0.1");
        if (redisd_ensure(&addr.port, err, errlen) < 0)
            return -1;
    } else if (redis_addr_parse(cfg->store, &addr, err, errlen) < 0) {
        return -1;
    }
    /* The run's keys: the experiment's run id, then which run of it, so two
     * invocations (or a fleet's clients) with one --run-id share a run's
     * keys, and no run, warm-up or not, meets another's cache. */
    char scope[160];
    snprintf(scope, sizeof(scope), "%s:%s%" PRIu32 ":%s", cfg->run_id ? cfg->run_id : "run",
             env->o.warmup ? "w" : "r", env->o.repeat, env->o.strategy->name);
    struct fb_store_redis_opts ro = {
        .addr = &addr,
        .run_id = scope,
        .lease_us = cfg->params.lease_us,
        .t0_us = &env->totals.t0_us,
        .base = env->base,
        .entries_expire = env->ttl_us != UINT32_MAX,
    };
    return store_redis_open(&env->store, &ro, on_store_answer, env, err, errlen);
}

struct fb_run *run_new(const struct fb_run_opts *o, char *err, size_t errlen)
{
    struct fb_run *run = calloc(1, sizeof(*run));
    if (run == NULL) {
        snprintf(err, errlen, "out of memory setting up the run");
        return NULL;
    }
    struct fb_env *env = &run->env;
    const struct fb_config *cfg = o->cfg;
    uint32_t nkeys = o->workload->opts.keys;

    env->o = *o;
    env->strategy = o->strategy;
    env->totals.ntasks = o->workload->ntasks;
    env->ttl_us = cfg->ttl_ms ? (cfg->ttl_ms > RUN_LIMIT_US / 1000 ? UINT32_MAX : cfg->ttl_ms * 1000) : UINT32_MAX;
    env->timer_armed_us = UINT32_MAX;
    rng_seed(&env->rng, cfg->seed ^ 0x5bd1e9955bd1e995ull);
    struct fb_xfer_opts xo = {
        .timeout_ms = cfg->timeout_ms,
        .max_body = cfg->max_body,
        .reuse_connections = cfg->max_connections > 0,
        .max_inflight = o->fetch_cap,
        .cacert = cfg->cacert,
        .insecure = cfg->insecure,
    };

    /* Timers to the microsecond (timerfd), not epoll's rounded-up
     * milliseconds: arrivals and sleeps are what is measured. The change
     * list folds the add-then-delete of a write event that every flush of
     * hiredis's buffer makes into one epoll_ctl per loop turn, or none. */
    struct event_config *ec = event_config_new();
    if (ec && event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER) == 0
        && event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
        env->base = event_base_new_with_config(ec);
    if (ec)
        event_config_free(ec);
    if (env->base == NULL || runq_init(&env->runq, env->base, on_resume, env) < 0
        || xfer_init(&env->xfer, env->base, &xo, on_fetched, env) < 0)
        goto oom;
    if (open_store(env, err, errlen) < 0) {
        run_free(run);
        return NULL;
    }
    env->xfer.sent = on_sent;
    env->arrive = evtimer_new(env->base, on_arrive, env);
    env->wake_timer = evtimer_new(env->base, on_deadline, env);
    env->limit = evtimer_new(env->base, on_limit, env);
    env->key_fetches = calloc(nkeys, sizeof(*env->key_fetches));
    env->key_in_flight = calloc(nkeys, sizeof(*env->key_in_flight));
    env->key_max_in_flight = calloc(nkeys, sizeof(*env->key_max_in_flight));
    if (strstr(o->url, "{key}"))
        env->key_urls = calloc(nkeys, sizeof(*env->key_urls));
    env->tasks = calloc(env->totals.ntasks ? env->totals.ntasks : 1, sizeof(*env->tasks));
    if (!env->arrive || !env->wake_timer || !env->limit || !env->key_fetches || !env->key_in_flight
        || !env->key_max_in_flight || !env->tasks
        || (strstr(o->url, "{key}") && !env->key_urls))
        goto oom;
    if (env->strategy->state_size && (env->strategy_state = calloc(1, env->strategy->state_size)) == NULL)
        goto oom;
    if (env->strategy->setup && env->strategy->setup(env, env->strategy_state, err, errlen) < 0) {
        run_free(run);
        return NULL;
    }
    env->strategy_ready = 1;
    if (sig_fd() >= 0) {
        env->sig_wake = event_new(env->base, sig_fd(), EV_READ | EV_PERSIST, on_signal, env);
        if (env->sig_wake == NULL || event_add(env->sig_wake, NULL) < 0)
            goto oom;
    }
    return run;

oom:
    snprintf(err, errlen, "out of memory setting up the run (%u tasks)", env->totals.ntasks);
    run_free(run);
    return NULL;
}

/* threads' namer: a transfer's owner is a task's node. */
static uint32_t task_of_owner(void *ctx, const void *owner)
{
    const struct fb_env *env = ctx;
    const struct fb_task *t = TASK_OF((struct fb_node *)owner);
    return t >= env->tasks && t < env->tasks + env->totals.ntasks ? (uint32_t)(t - env->tasks) + 1 : 0;
}

int run_execute(struct fb_run *run, char *err, size_t errlen)
{
    struct fb_env *env = &run->env;
    const struct fb_config *cfg = env->o.cfg;
    struct timeval limit = {RUN_LIMIT_US / 1000000, 0};

    threads_set_namer(task_of_owner, env);
    threads_start(threads_live_now());
    env->totals.t0_us = clock_now_us();
    evtimer_add(env->limit, &limit);
    /* Arrivals due at t0 (all of them, asyncio.gather) are readied now and
     * start on the next tick; later ones come from the arrival timer. */
    on_arrive(-1, 0, env);
    if (cfg->progress)
        env->progress = progress_start(env->base, run);
    if (cfg->proc_sample_ms)
        (void)procsample_start(&env->procsample, env->base, env->totals.t0_us, cfg->proc_sample_ms);
    /* A signal that came before the loop (while the server started, between
     * two runs) cancels the run before it begins. */
    env->totals.interrupted = sig_pending();
    if (env->totals.ntasks && !env->totals.interrupted)
        event_base_dispatch(env->base);
    progress_free(env->progress);
    env->progress = NULL;
    procsample_stop(&env->procsample);
    if (env->totals.nfinished < env->totals.ntasks)
        cancel_unfinished(env);
    if (env->store.ops->flush)
        env->store.ops->flush(env->store.impl);
    env->totals.waited_for_slot = env->xfer.waited;
    env->totals.connections_peak = env->xfer.peak_connections;
    threads_stop();
    threads_set_namer(NULL, NULL);
    (void)err;
    (void)errlen;
    return 0;
}

void run_free(struct fb_run *run)
{
    if (run == NULL)
        return;
    struct fb_env *env = &run->env;
    /* libcurl first (it may still call back into the loop), then what the
     * loop holds, then the loop. */
    if (env->base) {
        xfer_cleanup(&env->xfer);
        if (env->strategy_ready && env->strategy->teardown)
            env->strategy->teardown(env, env->strategy_state);
        if (env->store.ops)
            env->store.ops->free(env->store.impl);
        if (env->sig_wake)
            event_free(env->sig_wake);
        if (env->arrive)
            event_free(env->arrive);
        if (env->wake_timer)
            event_free(env->wake_timer);
        if (env->limit)
            event_free(env->limit);
        runq_free(&env->runq);
        event_base_free(env->base);
    }
    procsample_free(&env->procsample);
    free(env->strategy_state);
    if (env->key_urls)
        for (uint32_t i = 0; i < env->o.workload->opts.keys; i++)
            free(env->key_urls[i]);
    free(env->key_urls);
    free(env->key_fetches);
    free(env->key_in_flight);
    free(env->key_max_in_flight);
    for (size_t i = 0; i < env->nerrs; i++)
        free(env->errs[i].message);
    free(env->errs);
    free(env->links);
    free(env->locks);
    free(env->heap);
    free(env->spanbuf);
    free(env->tasks);
    timeline_free(&env->tl);
    free(run);
}

/* ------------------------------------------------------------ reading */

const struct fb_run_totals *run_totals(const struct fb_run *run)
{
    return &run->env.totals;
}

const struct fb_run_opts *run_opts(const struct fb_run *run)
{
    return &run->env.o;
}

const char *run_state_name(const struct fb_run *run, unsigned state)
{
    return strategy_state(run->env.strategy, state)->name;
}

const struct fb_task_error *run_errors(const struct fb_run *run, size_t *n)
{
    *n = run->env.nerrs;
    return run->env.errs;
}

const uint32_t *run_key_fetches(const struct fb_run *run)
{
    return run->env.key_fetches;
}

const uint32_t *run_key_max_in_flight(const struct fb_run *run)
{
    return run->env.key_max_in_flight;
}

const struct fb_procsample *run_procsample(const struct fb_run *run)
{
    return &run->env.procsample;
}

int run_task_view(struct fb_run *run, uint32_t i, struct fb_task_view *v)
{
    struct fb_env *env = &run->env;
    const struct fb_task *t = &env->tasks[i];

    v->id = i;
    v->key = env->o.workload->key[i];
    v->arrival_us = env->o.workload->arrival_us[i];
    v->arrived = (t->flags & TASK_ARRIVED) != 0;
    v->start_us = t->created_us;
    v->end_us = t->end_us;
    v->outcome = strategy_outcome(env->strategy, t->outcome)->name;
    v->outcome_id = t->outcome;
    v->error = t->error && t->error <= env->nerrs ? &env->errs[t->error - 1] : NULL;
    v->nspans = timeline_spans(&env->tl, t, &env->spanbuf, &env->spancap);
    v->spans = env->spanbuf;
    v->wait_us = 0;
    for (int k = 0; k < v->nspans; k++)
        if (strategy_state(env->strategy, v->spans[k].state)->flags & STATE_WAIT)
            v->wait_us += v->spans[k].end_us - v->spans[k].start_us;
    v->waiter = (t->flags & TASK_WAITED) != 0;
    memset(&v->waited_on, 0, sizeof(v->waited_on));
    if (env->links && env->links[i].kind != LINK_NONE) {
        v->waited_on.task = env->links[i].task;
        v->waited_on.at_us = env->links[i].at_us;
        v->waited_on.kind = env->links[i].kind;
    }
    memset(&v->lock, 0, sizeof(v->lock));
    if (env->locks && env->locks[i].woken_by != LOCK_WOKEN_NONE) {
        v->lock.attempts = env->locks[i].attempts;
        v->lock.woken_by = env->locks[i].woken_by;
        v->lock.lease_expired = env->locks[i].lease_expired;
    }
    return v->nspans < 0 ? -1 : 0;
}

int run_fetch_intervals(const struct fb_run *run, uint32_t **start, uint32_t **end, size_t *n)
{
    const struct fb_timeline *tl = &run->env.tl;
    size_t k = 0;

    *start = malloc((tl->nfetches ? tl->nfetches : 1) * sizeof(**start));
    *end = malloc((tl->nfetches ? tl->nfetches : 1) * sizeof(**end));
    if (*start == NULL || *end == NULL) {
        free(*start);
        free(*end);
        *start = *end = NULL;
        return -1;
    }
    for (uint32_t i = 0; i < tl->nfetches; i++) {
        const struct fb_fetch_rec *f = &tl->fetches[i];
        if (f->admitted_us == TIMELINE_NONE)
            continue;
        (*start)[k] = f->admitted_us;
        (*end)[k] = f->end_us == TIMELINE_NONE ? (uint32_t)run->env.totals.wall_us : f->end_us;
        k++;
    }
    *n = k;
    return 0;
}

int run_tally(const struct fb_run *run, struct fb_tally *tally)
{
    const struct fb_env *env = &run->env;
    size_t k = 0, w = 0, n = env->totals.ntasks ? env->totals.ntasks : 1;

    memset(tally, 0, sizeof(*tally));
    /* One block: the durations from the front, the waiters' from the back. */
    tally->durations = malloc(2 * n * sizeof(*tally->durations));
    if (tally->durations == NULL)
        return -1;
    tally->waiter_durations = tally->durations + n;
    for (uint32_t i = 0; i < env->totals.ntasks; i++) {
        const struct fb_task *t = &env->tasks[i];
        if (t->outcome < OUTCOME_OWN_BASE + STRATEGY_MAX_OWN)
            tally->outcomes[t->outcome]++;
        if (!(t->flags & TASK_ARRIVED))
            continue;
        tally->durations[k++] = t->end_us - t->created_us;
        if (t->flags & TASK_WAITED)
            tally->waiter_durations[w++] = t->end_us - t->created_us;
        timeline_state_time(&env->tl, t, tally->state_us);
    }
    tally->ndurations = k;
    tally->nwaiters = w;
    return 0;
}
