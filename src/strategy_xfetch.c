/* xfetch: probabilistic early recomputation (Vattani, Chierichetti and
 * Lowenstein, "Optimal Probabilistic Cache Stampede Prevention", PVLDB 8(8),
 * 2015). nolock's check-fetch-store, except that a task that finds a FRESH
 * value recomputes it anyway when
 *
 *     now - delta * beta * ln(rand()) >= expiry
 *
 * delta being how long the value took to fetch (stored with it), rand()
 * uniform in (0, 1]. The closer the expiry and the slower the fetch, the
 * likelier: one task usually refreshes the key before it expires, so the
 * crowd that arrives at the expiry finds a fresh value. There is no
 * coordination: several tasks may refresh at once (a random count, not
 * one), and a miss or an expired entry is fetched by every task that sees
 * it, as in nolock. beta 0 never recomputes early: nolock, draw for draw.
 * An early recompute that fails ends the task `error`, as the paper's
 * recompute would raise; the fresh value stays in the cache. */
#include <math.h>

#include "strategy.h"

enum { AWAIT_GET, AWAIT_FETCH, AWAIT_EARLY, AWAIT_SET };
enum { STATE_EARLY_REFRESH = STATE_OWN(0) };
enum { EARLY_REFRESHES };

static const struct fb_state_def xfetch_states[] = {{"early_refresh", STATE_ENCLOSES}};
static const char *const xfetch_counters[] = {[EARLY_REFRESHES] = "early_refreshes"};

/* The paper's test on a fresh entry. -ln(u) of a 53-bit u is at most
 * 36.8, so an expiry further off than 37 * beta * delta is never reached
 * and costs no draw: the hit path of a long TTL stays a compare. */
static int recompute_early(struct fb_env *env, const struct fb_store_reply *r)
{
    double beta = env_params(env)->beta;
    if (beta <= 0 || r->meta.expires_us == UINT32_MAX)
        return 0;
    double gap = (double)(r->meta.expires_us - env_now(env)); /* > 0: fresh */
    double reach = (double)r->meta.compute_us * beta;
    if (gap > 37.0 * reach)
        return 0;
    double u = (double)((env_random(env) >> 11) + 1) * 0x1p-53; /* (0, 1] */
    return -reach * log(u) >= gap;
}

static void xfetch_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
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
        if (!store_fresh(env, reply)) {
            t->pc = AWAIT_FETCH;
            task_fetch(env, t);
            return;
        }
        if (!recompute_early(env, reply)) {
            task_enter(env, t, STATE_CACHE_HIT);
            task_finish(env, t, OUTCOME_CACHE_HIT, 0);
            return;
        }
        env_count(env, EARLY_REFRESHES, 1);
        task_hold(env, t, STATE_EARLY_REFRESH);
        t->pc = AWAIT_EARLY;
        task_fetch(env, t);
        return;
    case AWAIT_EARLY:
        task_hold(env, t, STATE_NONE);
        /* fall through */
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            task_finish(env, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        /* The value's compute time goes with it: the next early test's delta. */
        t->pc = AWAIT_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        task_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    }
}

static const struct fb_strategy xfetch = {
    .name = "xfetch",
    .help = "no lock, but a fresh hit recomputes early with probability rising to the expiry (--beta)",
    .states = xfetch_states,
    .nstates = 1,
    .counters = xfetch_counters,
    .ncounters = 1,
    .step = xfetch_step,
};
FB_STRATEGY(xfetch);
