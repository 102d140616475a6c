/* lock: an asyncio.Lock around "check the cache, fetch on a miss, store" —
 * one lock for the whole cache, as in the original experiment. The first
 * task fetches; the others wait in FIFO order and then find the value in
 * the cache. A failed fetch releases the lock too, and the next waiter
 * tries the fetch itself. With many keys the one lock serialises fetches of
 * different keys: that is its cost (keylock is the same with a lock per
 * key; both are lockstep.c). */
#include "lockstep.h"

enum { HANDOFFS };

static const char *const lock_counters[] = {[HANDOFFS] = "lock_handoffs"};

static void lock_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    lockstep_step(env, t, ev, STORE_LOCK_GLOBAL, HANDOFFS);
}

static const struct fb_strategy lock = {
    .name = "lock",
    .help = "one asyncio.Lock around check-fetch-store: one fetch per miss, all tasks in line",
    .counters = lock_counters,
    .ncounters = 1,
    .step = lock_step,
};
FB_STRATEGY(lock);
