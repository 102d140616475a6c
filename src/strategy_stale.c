/* stale: stale-while-revalidate (nginx's proxy_cache_use_stale updating with
 * proxy_cache_background_update and proxy_cache_lock; Caffeine's
 * refreshAfterWrite). A fresh value is a hit. An expired one is refreshed by
 * ONE task, the first to see it (it fetches, stores and ends `fetched`);
 * every task that sees it while that refresh runs is served the expired
 * value at once (`stale`). A refresh that fails keeps the old value: the
 * refresher is served it too (`stale`, with its error) and the next task to
 * see the entry refreshes again.
 *
 * Before a key's first value there is nothing stale to serve: the first
 * task fills it holding the key's lock, the others wait for the lock at
 * most --lock-timeout-ms, then find the value. A waiter that times out
 * fetches for itself and does not store (nginx passes the request upstream
 * and does not cache the answer). A failed fill hands the lock to the next
 * waiter, which tries the fill itself: one after another, as in keylock. */
#include <stdio.h>
#include <stdlib.h>

#include "strategy.h"

enum { AWAIT_GET, AWAIT_LOCK, AWAIT_RECHECK, AWAIT_FILL, AWAIT_FILL_SET, AWAIT_REFRESH, AWAIT_REFRESH_SET,
       AWAIT_OWN_FETCH };
enum { STATE_REFRESH = STATE_OWN(0), STATE_STALE_HIT = STATE_OWN(1) };
enum { REFRESHES, REFRESH_FAILURES, LOCK_TIMEOUTS };

static const struct fb_state_def stale_states[] = {
    {"refresh", STATE_ENCLOSES},  /* the one refresh of an expired key */
    {"stale_hit", 0},             /* served the expired value */
};
static const char *const stale_counters[] = {
    [REFRESHES] = "refreshes",
    [REFRESH_FAILURES] = "refresh_failures",
    [LOCK_TIMEOUTS] = "lock_timeouts",
};

struct stale_state {
    uint8_t *refreshing;        /* [keys]: a refresh of the key is running */
};

static int stale_setup(struct fb_env *env, void *state, char *err, size_t errlen)
{
    struct stale_state *s = state;
    s->refreshing = calloc(env_nkeys(env) ? env_nkeys(env) : 1, 1);
    if (s->refreshing == NULL) {
        snprintf(err, errlen, "out of memory for %u keys", env_nkeys(env));
        return -1;
    }
    return 0;
}

static void stale_teardown(struct fb_env *env, void *state)
{
    struct stale_state *s = state;
    free(s->refreshing);
    s->refreshing = NULL;
}

static void finish_stale(struct fb_env *env, struct fb_task *t, uint32_t error)
{
    task_enter(env, t, STATE_STALE_HIT);
    task_finish(env, t, OUTCOME_STALE, error);
}

/* The in-process store answers an unlock now; a store that answers later
 * would only delay the end, so the task does not wait for it. */
static void unlock_key(struct fb_env *env, struct fb_task *t)
{
    struct fb_store_reply r;
    task_hold(env, t, STATE_NONE);
    (void)task_unlock(env, t, task_key(env, t), &r);
}

/* An entry is there: fresh, a hit; expired, refresh it or be served it. */
static void serve_entry(struct fb_env *env, struct stale_state *s, struct fb_task *t,
                        const struct fb_store_reply *r)
{
    uint32_t key = task_key(env, t);

    if (store_fresh(env, r)) {
        task_enter(env, t, STATE_CACHE_HIT);
        task_finish(env, t, OUTCOME_CACHE_HIT, 0);
        return;
    }
    if (s->refreshing[key]) {
        finish_stale(env, t, 0);
        return;
    }
    s->refreshing[key] = 1;
    env_count(env, REFRESHES, 1);
    task_hold(env, t, STATE_REFRESH);
    t->pc = AWAIT_REFRESH;
    task_fetch(env, t);
}

/* The lock is t's (at once or handed over): t fills the key. */
static void fill(struct fb_env *env, struct fb_task *t)
{
    task_hold(env, t, STATE_LOCK_HELD);
    t->pc = AWAIT_FILL;
    task_fetch(env, t);
}

static void stale_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    struct stale_state *s = state;
    struct fb_store_reply r;
    const struct fb_store_reply *reply = ev->store;
    uint32_t key = task_key(env, t);

    switch (t->pc) {
    case AWAIT_GET:
        if (ev->why == WAKE_START) {
            task_enter(env, t, STATE_CACHE_CHECK);
            if (!task_get(env, t, &r))
                return;
            reply = &r;
        }
        if (reply->status == STORE_OK) {
            serve_entry(env, s, t, reply);
            return;
        }
        /* No value yet: fill it under the key's lock, or wait for the fill. */
        task_enter(env, t, STATE_LOCK_WAIT);
        t->pc = AWAIT_LOCK;
        if (!task_lock(env, t, key, &r)) {
            uint64_t until = (uint64_t)env_now(env) + env_params(env)->lock_timeout_us;
            task_sleep(env, t, until > UINT32_MAX ? UINT32_MAX : (uint32_t)until);
            return;
        }
        reply = &r;
        if (reply->status != STORE_OK)
            break; /* the store could not lock: fetch without storing */
        fill(env, t);
        return;
    case AWAIT_LOCK:
        if (ev->why == WAKE_TIMER) {
            /* The lock may have been handed to t from inside the holder's
             * step, its grant queued for a later tick, when the deadline
             * fired: then the grant comes next and the lock is t's. */
            if (!task_cancel_wait(env, t))
                return;
            env_count(env, LOCK_TIMEOUTS, 1);
            break;
        }
        if (reply->status != STORE_OK)
            break;
        /* Handed the lock: the fill t waited for is in the cache, or failed. */
        task_hold(env, t, STATE_LOCK_HELD);
        task_enter(env, t, STATE_CACHE_CHECK);
        t->pc = AWAIT_RECHECK;
        if (!task_get(env, t, &r))
            return;
        reply = &r;
        /* fall through */
    case AWAIT_RECHECK:
        if (reply->status != STORE_OK) {
            fill(env, t);
            return;
        }
        /* Found the fill it waited for: the filler's result, whoever
         * handed it the lock. */
        task_waited_on_entry(env, t, reply, LINK_RESULT);
        unlock_key(env, t);
        serve_entry(env, s, t, reply);
        return;
    case AWAIT_FILL:
        if (!ev->fetch->ok) {
            /* The next waiter tries the fill itself. */
            unlock_key(env, t);
            task_finish(env, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_FILL_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_FILL_SET:
        unlock_key(env, t);
        task_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    case AWAIT_REFRESH:
        task_hold(env, t, STATE_NONE);
        if (!ev->fetch->ok) {
            /* The old value stays; the next task to see it refreshes again. */
            s->refreshing[key] = 0;
            env_count(env, REFRESH_FAILURES, 1);
            finish_stale(env, t, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_REFRESH_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_REFRESH_SET:
        s->refreshing[key] = 0;
        task_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    case AWAIT_OWN_FETCH:
        task_finish(env, t, ev->fetch->ok ? OUTCOME_FETCHED : OUTCOME_ERROR, ev->fetch->ok ? 0 : ev->fetch->error);
        return;
    }
    /* Gave up on the lock: t fetches for itself and leaves the cache alone,
     * so a slow fill is not overwritten by a crowd of timed-out copies. */
    t->pc = AWAIT_OWN_FETCH;
    task_fetch(env, t);
}

static const struct fb_strategy stale = {
    .name = "stale",
    .help = "stale-while-revalidate: one task refreshes an expired key, the others get the old value at once",
    .states = stale_states,
    .nstates = 2,
    .counters = stale_counters,
    .ncounters = 3,
    .state_size = sizeof(struct stale_state),
    .setup = stale_setup,
    .teardown = stale_teardown,
    .step = stale_step,
};
FB_STRATEGY(stale);
