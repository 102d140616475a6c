/* nap: a strategy that exists only in the test build (build/.../fetchbench-test),
 * to prove that a strategy is one file. Each task naps a seeded 1-4 ms in
 * its own wait state, then checks the cache and fetches on a miss (nolock).
 * Its own words — the state "nap", the outcome "napped_hit", the counter
 * "naps" — must reach the JSON, the schema check, the trace and the plots
 * with no edit anywhere else. */
#include "strategy.h"

enum { NAPPING, AWAIT_FETCH };
enum { STATE_NAP = STATE_OWN(0) };
enum { OUTCOME_NAPPED_HIT = OUTCOME_OWN(0) };
enum { NAPS };

static const struct fb_state_def nap_states[] = {{"nap", STATE_WAIT}};
static const struct fb_outcome_def nap_outcomes[] = {{"napped_hit", 1}};
static const char *const nap_counters[] = {"naps"};

static void nap_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    struct fb_store_reply r;

    switch (t->pc) {
    case NAPPING:
        if (ev->why == WAKE_START) {
            task_enter(env, t, STATE_NAP);
            env_count(env, NAPS, 1);
            task_sleep(env, t, env_now(env) + 1000 + (uint32_t)(env_random(env) % 3000));
            return;
        }
        task_enter(env, t, STATE_CACHE_CHECK);
        (void)task_get(env, t, &r); /* the in-process store answers now */
        if (store_fresh(env, &r)) {
            task_enter(env, t, STATE_CACHE_HIT);
            task_finish(env, t, OUTCOME_NAPPED_HIT, 0);
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
        (void)task_set(env, t, ev->fetch, &r);
        task_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    }
}

static const struct fb_strategy nap = {
    .name = "nap",
    .help = "test only: nap 1-4 ms, then check-fetch-store without a lock",
    .states = nap_states,
    .nstates = 1,
    .outcomes = nap_outcomes,
    .noutcomes = 1,
    .counters = nap_counters,
    .ncounters = 1,
    .step = nap_step,
};
FB_STRATEGY(nap);
