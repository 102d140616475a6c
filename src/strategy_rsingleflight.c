/* rsingleflight: singleflight for a fleet. The first task to miss a key
 * takes its lock in the store and fetches; the others (in any process
 * sharing the store) wait for the release and take the one result: the
 * value (`shared`), or the error the leader stored under the key for
 * STORE_ERROR_TTL_MS (`shared_error`, or `shared_remote_error` when the
 * leader ran in another process and its message is in that report). */
#include "rlockstep.h"

static int rsf_setup(struct fb_env *env, void *state, char *err, size_t errlen)
{
    struct rlock_state *s = state;
    s->share = 1;
    return rlockstep_setup(env, s, "rsingleflight", err, errlen);
}

static void rsf_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    rlockstep_step(env, state, t, ev);
}

static void rsf_teardown(struct fb_env *env, void *state)
{
    rlockstep_teardown(state);
}

static const struct fb_strategy rsingleflight = {
    .name = "rsingleflight",
    .help = "one fetch per key across every process sharing the store; waiters take its result, errors too",
    .outcomes = rlockstep_outcomes,
    .noutcomes = 1,
    .counters = rlockstep_counters,
    .ncounters = RL_NCOUNTERS,
    .state_size = sizeof(struct rlock_state),
    .setup = rsf_setup,
    .step = rsf_step,
    .teardown = rsf_teardown,
};
FB_STRATEGY(rsingleflight);
