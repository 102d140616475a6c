/* nolock: check the cache, fetch on a miss, store. Every task that misses
 * before the first fetch returns fetches too: the cache stampede. */
#include "strategy.h"

enum { AWAIT_GET, AWAIT_FETCH, AWAIT_SET };

static void nolock_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    struct fb_store_reply r;
    const struct fb_store_reply *reply = ev->store;

    switch (t->pc) {
    case AWAIT_GET:
        if (ev->why == WAKE_START) {
            task_enter(env, t, STATE_CACHE_CHECK);
            if (!task_get(env, t, &r))
                return;
            reply = &r;
        }
        if (store_fresh(env, reply)) {
            task_enter(env, t, STATE_CACHE_HIT);
            task_finish(env, t, OUTCOME_CACHE_HIT, 0);
            return;
        }
        t->pc = AWAIT_FETCH;
        task_fetch(env, t);
        return;
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            task_finish(env, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        task_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    }
}

static const struct fb_strategy nolock = {
    .name = "nolock",
    .help = "no lock: every task that misses fetches (a stampede)",
    .step = nolock_step,
};
FB_STRATEGY(nolock);
