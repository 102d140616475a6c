/* singleflight: Go's x/sync/singleflight in front of the cache (Guava's
 * LoadingCache loads the same way). A task checks the cache; on a miss it
 * joins the key's flight if one is running, else it leads a new one and
 * fetches. When the leader's fetch ends, the value goes into the cache (on
 * success) and the flight ends: each joined task then takes the leader's
 * outcome in its own step, in join order — `shared` on success,
 * `shared_error` with the leader's error on failure. The flight itself
 * keeps nothing: a task arriving after it ends finds the cache, or, when the
 * fetch failed, leads a new flight. One failure thus fails every task that
 * waited for it, and the backend sees one request per flight. */
#include <stdio.h>
#include <stdlib.h>

#include "strategy.h"

enum { AWAIT_GET, AWAIT_FETCH, AWAIT_SET, AWAIT_FLIGHT, FLIGHT_OK, FLIGHT_FAILED };
enum { STATE_FLIGHT_WAIT = STATE_OWN(0) };
enum { FLIGHTS, JOINED };

static const struct fb_state_def sf_states[] = {{"flight_wait", STATE_WAIT}};
static const char *const sf_counters[] = {[FLIGHTS] = "flights", [JOINED] = "joined"};

/* A flight is the chain leader -> follower -> ... of the tasks on it, linked
 * by task id + 1 (0 ends a chain): 4 bytes a task, 4 a key. */
struct sf_state {
    uint32_t *tail;             /* [keys]: the last task on the key's flight
                                 * (its leader when alone); 0: no flight */
    uint32_t *link;             /* [tasks]: the next task on its flight; once
                                 * the flight has ended, the leader's error */
};

static int sf_setup(struct fb_env *env, void *state, char *err, size_t errlen)
{
    struct sf_state *s = state;
    uint32_t nkeys = env_nkeys(env), ntasks = env_ntasks(env);

    s->tail = calloc(nkeys ? nkeys : 1, sizeof(*s->tail));
    s->link = calloc(ntasks ? ntasks : 1, sizeof(*s->link));
    if (s->tail == NULL || s->link == NULL) {
        free(s->tail);
        free(s->link);
        s->tail = s->link = NULL;
        snprintf(err, errlen, "singleflight: out of memory for %u keys and %u tasks", nkeys, ntasks);
        return -1;
    }
    return 0;
}

/* Tasks still on a flight when a run is interrupted own nothing: the two
 * arrays are the whole state. */
static void sf_teardown(struct fb_env *env, void *state)
{
    struct sf_state *s = state;
    free(s->tail);
    free(s->link);
}

/* Ends leader's flight: the key has none from now on, and each follower,
 * in join order, is told the outcome and woken to finish in its own step
 * (so a new flight of the key may start before they run: each keeps its
 * own leader's result in its pc and link). */
static void end_flight(struct fb_env *env, struct sf_state *s, struct fb_task *leader, int ok, uint32_t error)
{
    uint32_t f = s->link[task_id(env, leader)];

    s->tail[task_key(env, leader)] = 0;
    while (f) {
        uint32_t next = s->link[f - 1];
        struct fb_task *follower = env_task(env, f - 1);
        s->link[f - 1] = error;
        follower->pc = ok ? FLIGHT_OK : FLIGHT_FAILED;
        task_waited_on(env, follower, task_id(env, leader), LINK_RESULT, env_now(env));
        task_wake(env, follower);
        f = next;
    }
}

static void sf_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    struct sf_state *s = state;
    struct fb_store_reply r;
    const struct fb_store_reply *reply = ev->store;
    uint32_t me = task_id(env, t) + 1, key;

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
        key = task_key(env, t);
        if (s->tail[key]) {
            s->link[s->tail[key] - 1] = me;
            s->tail[key] = me;
            env_count(env, JOINED, 1);
            t->pc = AWAIT_FLIGHT;
            task_enter(env, t, STATE_FLIGHT_WAIT);
            return;
        }
        s->tail[key] = me;
        env_count(env, FLIGHTS, 1);
        t->pc = AWAIT_FETCH;
        task_fetch(env, t);
        return;
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            end_flight(env, s, t, 0, ev->fetch->error);
            task_finish(env, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        /* The flight lasts until the value is stored: a task that misses
         * meanwhile joins it rather than fetching again. */
        end_flight(env, s, t, 1, 0);
        task_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    case AWAIT_FLIGHT:
        return; /* only the flight's end resumes a follower */
    case FLIGHT_OK:
        task_finish(env, t, OUTCOME_SHARED, 0);
        return;
    case FLIGHT_FAILED:
        task_finish(env, t, OUTCOME_SHARED_ERROR, s->link[me - 1]);
        return;
    }
}

static const struct fb_strategy singleflight = {
    .name = "singleflight",
    .help = "Go's singleflight before the cache: a miss joins the key's fetch in flight; all share its result",
    .states = sf_states,
    .nstates = 1,
    .counters = sf_counters,
    .ncounters = 2,
    .state_size = sizeof(struct sf_state),
    .setup = sf_setup,
    .step = sf_step,
    .teardown = sf_teardown,
};
FB_STRATEGY(singleflight);
