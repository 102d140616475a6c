/* The step that lock and keylock share: an asyncio.Lock-style mutex around
 * "check the cache, fetch on a miss, store". Only which lock differs. */
#include "lockstep.h"

enum { AWAIT_LOCK, AWAIT_GET, AWAIT_FETCH, AWAIT_SET };

/* In pc beside the resume point: the store could not give the lock (Redis
 * gone), so the task goes on without it, as rlock does, and has none to
 * release. Counting that as a hand-off, or drawing it as held, would lie. */
#define WITHOUT_LOCK 0x80

static void resume_at(struct fb_task *t, uint8_t pc) { t->pc = (uint8_t)((t->pc & WITHOUT_LOCK) | pc); }

static void release_and_finish(struct fb_env *env, struct fb_task *t, uint32_t lock, unsigned outcome,
                               uint32_t error)
{
    struct fb_store_reply r;
    task_hold(env, t, STATE_NONE);
    /* The in-process lock answers an unlock now; a store that answers later
     * would only delay the end, so the task does not wait for it. */
    if (!(t->pc & WITHOUT_LOCK))
        (void)task_unlock(env, t, lock, &r);
    task_finish(env, t, outcome, error);
}

void lockstep_step(struct fb_env *env, struct fb_task *t, const struct fb_event *ev, uint32_t lock,
                        unsigned handoffs)
{
    struct fb_store_reply r;
    const struct fb_store_reply *reply = ev->store; /* an answer that came later */

    switch (t->pc & ~WITHOUT_LOCK) {
    case AWAIT_LOCK:
        if (ev->why == WAKE_START) {
            task_enter(env, t, STATE_LOCK_WAIT);
            if (!task_lock(env, t, lock, &r))
                return; /* handed the lock later, by the holder's release */
            reply = &r;
        } else if (reply->status == STORE_OK && reply->how != STORE_HOW_AT_ONCE) {
            env_count(env, handoffs, 1); /* a store across the network answers a free lock later too */
        }
        if (reply->status == STORE_OK)
            task_hold(env, t, STATE_LOCK_HELD);
        else
            t->pc = WITHOUT_LOCK;
        task_enter(env, t, STATE_CACHE_CHECK);
        resume_at(t, AWAIT_GET);
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
        resume_at(t, AWAIT_FETCH);
        task_fetch(env, t);
        return;
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            release_and_finish(env, t, lock, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        resume_at(t, AWAIT_SET);
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        release_and_finish(env, t, lock, OUTCOME_FETCHED, 0);
        return;
    }
}
