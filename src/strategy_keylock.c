/* keylock: a lock per key around "check the cache, fetch on a miss, store"
 * (a per-key mutex; Caffeine's synchronous loader). The first task to miss a
 * key fetches it; the key's other tasks wait in FIFO order and then find the
 * value in the cache, while fetches of other keys go on at the same time.
 * A failed fetch releases the key's lock and the next waiter tries the fetch
 * itself: an erroring backend sees one attempt after another, as many as
 * there are waiters (Caffeine's documented behaviour).
 *
 * This is lock with the key's lock in place of the global one (lockstep.c). */
#include "lockstep.h"

enum { HANDOFFS };

static const char *const keylock_counters[] = {[HANDOFFS] = "lock_handoffs"};

static void keylock_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    lockstep_step(env, t, ev, task_key(env, t), HANDOFFS);
}

static const struct fb_strategy keylock = {
    .name = "keylock",
    .help = "a lock per key around check-fetch-store: one fetch per miss, keys fetched in parallel",
    .counters = keylock_counters,
    .ncounters = 1,
    .step = keylock_step,
};
FB_STRATEGY(keylock);
