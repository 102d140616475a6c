/* lock: an asyncio.Lock around "check the cache, fetch on a miss, store" —
 * one lock for the whole cache, as in the original experiment. The first
 * task fetches; the others wait in FIFO order and then find the value in
 * the cache. A failed fetch releases the lock too, and the next waiter
 * tries the fetch itself. With many keys the one lock serialises fetches of
 * different keys: that is its cost. */
#include "strategy.h"

enum { AWAIT_LOCK, AWAIT_GET, AWAIT_FETCH, AWAIT_SET, AWAIT_UNLOCK };
enum { HANDOFFS };

static const char *const lock_counters[] = {[HANDOFFS] = "lock_handoffs"};

static void release_and_finish(struct fb_env *env, struct fb_task *t, unsigned outcome, uint32_t error)
{
    struct fb_store_reply r;
    task_hold(env, t, STATE_NONE);
    /* The in-process lock answers an unlock now; a store that answers later
     * would only delay the end, so the task does not wait for it. */
    (void)task_unlock(env, t, STORE_LOCK_GLOBAL, &r);
    task_finish(env, t, outcome, error);
}

static void lock_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    struct fb_store_reply r;
    const struct fb_store_reply *reply = ev->store; /* an answer that came later */

    switch (t->pc) {
    case AWAIT_LOCK:
        if (ev->why == WAKE_START) {
            task_enter(env, t, STATE_LOCK_WAIT);
            if (!task_lock(env, t, STORE_LOCK_GLOBAL, &r))
                return; /* handed the lock later, by the holder's release */
        } else {
            env_count(env, HANDOFFS, 1);
        }
        task_hold(env, t, STATE_LOCK_HELD);
        task_enter(env, t, STATE_CACHE_CHECK);
        t->pc = AWAIT_GET;
        if (!task_get(env, t, &r))
            return;
        reply = &r;
        /* fall through */
    case AWAIT_GET:
        if (store_fresh(env, reply)) {
            task_enter(env, t, STATE_CACHE_HIT);
            release_and_finish(env, t, OUTCOME_CACHE_HIT, 0);
            return;
        }
        t->pc = AWAIT_FETCH;
        task_fetch(env, t);
        return;
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            release_and_finish(env, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        release_and_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    }
}

static const struct fb_strategy lock = {
    .name = "lock",
    .help = "one asyncio.Lock around check-fetch-store: one fetch per miss, all tasks in line",
    .counters = lock_counters,
    .ncounters = 1,
    .step = lock_step,
};
FB_STRATEGY(lock);
