/* rlock: a lock per key in the store around "check the cache, fetch on a
 * miss, store" — keylock for a fleet: with --store redis the lock is
 * `SET lock:<key> <token> NX PX <lease>` in a Redis every process shares,
 * so P processes send one request per miss, not P. A waiter checks the
 * cache again once it holds the lock; a failed fetch leaves the next waiter
 * to fetch itself (as keylock). With --store mem it is keylock checked
 * twice: one process's lock. */
#include "rlockstep.h"

static int rlock_setup(struct fb_env *env, void *state, char *err, size_t errlen)
{
    return rlockstep_setup(env, state, "rlock", err, errlen);
}

static void rlock_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    rlockstep_step(env, state, t, ev);
}

static void rlock_teardown(struct fb_env *env, void *state)
{
    rlockstep_teardown(state);
}

static const struct fb_strategy rlock = {
    .name = "rlock",
    .help = "a lock per key in the store (Redis: shared by every process), lease --lease-ms",
    .counters = rlockstep_counters,
    .ncounters = RL_NCOUNTERS,
    .state_size = sizeof(struct rlock_state),
    .setup = rlock_setup,
    .step = rlock_step,
    .teardown = rlock_teardown,
};
FB_STRATEGY(rlock);
