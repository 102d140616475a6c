/* keylock: a lock per key around "check the cache, fetch on a miss, store"
 * (a per-key mutex; Caffeine's synchronous loader). The first task to miss a
 * key fetches it; the key's other tasks wait in FIFO order and then find the
 * value in the cache, while fetches of other keys go on at the same time.
 * A failed fetch releases the key's lock and the next waiter tries the fetch
 * itself: an erroring backend sees one attempt after another, as many as
 * there are waiters (Caffeine's documented behaviour).
 *
 * This is strategy_lock.c with the key's lock in place of the global one;
 * locked_step is written to be shared by both (see its comment). */
#include "strategy.h"

enum { AWAIT_LOCK, AWAIT_GET, AWAIT_FETCH, AWAIT_SET };
enum { HANDOFFS };

static const char *const keylock_counters[] = {[HANDOFFS] = "lock_handoffs"};

static void release_and_finish(struct fb_env *env, struct fb_task *t, uint32_t lock, unsigned outcome,
                               uint32_t error)
{
    struct fb_store_reply r;
    task_hold(env, t, STATE_NONE);
    /* The in-process lock answers an unlock now; a store that answers later
     * would only delay the end, so the task does not wait for it. */
    (void)task_unlock(env, t, lock, &r);
    task_finish(env, t, outcome, error);
}

/* Drives t through lock, check, fetch on a miss, store, unlock, with the
 * store's lock `lock` (the same for every step of t). Counts a hand-off in
 * counter `handoffs` when t got the lock from a releasing holder. Nothing
 * here is keylock's own: lock.c's step is this with STORE_LOCK_GLOBAL. */
static void locked_step(struct fb_env *env, struct fb_task *t, const struct fb_event *ev, uint32_t lock,
                        unsigned handoffs)
{
    struct fb_store_reply r;
    const struct fb_store_reply *reply = ev->store; /* an answer that came later */

    switch (t->pc) {
    case AWAIT_LOCK:
        if (ev->why == WAKE_START) {
            task_enter(env, t, STATE_LOCK_WAIT);
            if (!task_lock(env, t, lock, &r))
                return; /* handed the lock later, by the holder's release */
        } else {
            env_count(env, handoffs, 1);
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
            release_and_finish(env, t, lock, OUTCOME_CACHE_HIT, 0);
            return;
        }
        t->pc = AWAIT_FETCH;
        task_fetch(env, t);
        return;
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            release_and_finish(env, t, lock, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        release_and_finish(env, t, lock, OUTCOME_FETCHED, 0);
        return;
    }
}

static void keylock_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    locked_step(env, t, ev, task_key(env, t), HANDOFFS);
}

static const struct fb_strategy keylock = {
    .name = "keylock",
    .help = "a lock per key around check-fetch-store: one fetch per miss, keys fetched in parallel",
    .counters = keylock_counters,
    .ncounters = 1,
    .step = keylock_step,
};
FB_STRATEGY(keylock);
