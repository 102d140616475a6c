/* lease: memcache's leases (Nishtala et al., "Scaling Memcache at
 * Facebook", NSDI 2013, §3.2.1). A task that misses asks the cache for a
 * lease; the cache hands out at most one lease per key per --lease-ms. The
 * holder fetches and sets the value with its lease token; a set whose token
 * is no longer the key's current one (a newer lease was issued after the
 * old one lapsed) is rejected, and the holder still ends `fetched` with the
 * value it got. A task denied a lease takes the expired value when there is
 * one (`stale`, at once); otherwise it waits --retry-ms in `lease_wait` and
 * asks again: a poll, as memcache's clients do, so a waiter learns of the
 * value up to one poll late (counted in poll_lag_us / poll_hits).
 *
 * A holder whose fetch fails does not give the lease back: memcache has no
 * call to release a lease, it lapses after --lease-ms. Until then every
 * waiter keeps polling and nobody fetches; after it, the first waiter to
 * ask takes a new lease and fetches. That wait is what leases cost with a
 * failing backend.
 *
 * Lease state is per key (8 bytes), in this file's state; a task carries
 * nothing: its token is its own id + 1 (a task takes at most one lease, so
 * the token is unique in the run), and whether it polled is its resume
 * point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategy.h"

/* Resume points. AWAIT_RECHECK is AWAIT_GET after at least one poll. */
enum { AWAIT_GET, AWAIT_RECHECK, POLLING, AWAIT_FETCH, AWAIT_SET };
enum { STATE_LEASE_WAIT = STATE_OWN(0), STATE_LEASE_HELD = STATE_OWN(1) };
enum { LEASES, LEASE_DENIALS, LEASE_RETRIES, STALE_SETS, POLL_LAG_US, POLL_HITS, NCOUNTERS };

static const struct fb_state_def lease_states[] = {
    {"lease_wait", STATE_WAIT},
    {"lease_held", STATE_ENCLOSES},
};
static const char *const lease_counters[NCOUNTERS] = {
    [LEASES] = "leases",               /* lease tokens handed out */
    [LEASE_DENIALS] = "lease_denials", /* asks answered "wait" (or stale) */
    [LEASE_RETRIES] = "lease_retries", /* asks again after a lease_wait */
    [STALE_SETS] = "stale_sets",       /* sets rejected: a newer lease was out */
    [POLL_LAG_US] = "poll_lag_us",     /* sum over poll_hits: value stored -> seen */
    [POLL_HITS] = "poll_hits",         /* waiters whose poll found the value */
};

/* One key's lease. Times in µs from the run's start. */
struct key_lease {
    uint32_t token;             /* the holder's id + 1; 0 = none outstanding */
    uint32_t until_us;          /* no new lease before this */
};

struct lease_state {
    struct key_lease *keys;     /* [env_nkeys] */
};

static int lease_setup(struct fb_env *env, void *state, char *err, size_t errlen)
{
    struct lease_state *s = state;
    s->keys = calloc(env_nkeys(env) ? env_nkeys(env) : 1, sizeof(*s->keys));
    if (s->keys == NULL) {
        snprintf(err, errlen, "lease: out of memory for %u keys' leases", env_nkeys(env));
        return -1;
    }
    return 0;
}

static void lease_teardown(struct fb_env *env, void *state)
{
    struct lease_state *s = state;
    free(s->keys);
    s->keys = NULL;
}

static uint32_t after(uint32_t now, uint32_t us)
{
    uint64_t t = (uint64_t)now + us;
    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static void check(struct fb_env *env, struct lease_state *s, struct fb_task *t);

/* The cache answered t's get: a hit, a lease, a stale value, or a wait. */
static void checked(struct fb_env *env, struct lease_state *s, struct fb_task *t, const struct fb_store_reply *r)
{
    uint32_t now = env_now(env);
    struct key_lease *l = &s->keys[task_key(env, t)];

    if (store_fresh(env, r)) {
        if (t->pc == AWAIT_RECHECK) {
            /* Being woken when the value was stored would have saved this. */
            env_count(env, POLL_LAG_US, now > r->meta.stored_us ? now - r->meta.stored_us : 0);
            env_count(env, POLL_HITS, 1);
            task_waited_on_entry(env, t, r, LINK_VALUE);
        }
        task_enter(env, t, STATE_CACHE_HIT);
        task_finish(env, t, OUTCOME_CACHE_HIT, 0);
        return;
    }
    if (now >= l->until_us) {
        /* No lease handed out in the last lease period (or it lapsed). */
        l->token = task_id(env, t) + 1;
        l->until_us = after(now, env_params(env)->lease_us);
        env_count(env, LEASES, 1);
        task_hold(env, t, STATE_LEASE_HELD);
        t->pc = AWAIT_FETCH;
        task_fetch(env, t);
        return;
    }
    env_count(env, LEASE_DENIALS, 1);
    if (r->op == STORE_GET && r->status == STORE_OK) {
        /* Expired, but a value: served now rather than waited for. */
        task_finish(env, t, OUTCOME_STALE, 0);
        return;
    }
    task_enter(env, t, STATE_LEASE_WAIT);
    t->pc = POLLING;
    task_sleep(env, t, after(now, env_params(env)->retry_us));
}

static void check(struct fb_env *env, struct lease_state *s, struct fb_task *t)
{
    struct fb_store_reply r;
    task_enter(env, t, STATE_CACHE_CHECK);
    t->pc = t->pc == POLLING ? AWAIT_RECHECK : AWAIT_GET;
    if (task_get(env, t, &r))
        checked(env, s, t, &r);
}

static void lease_step(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev)
{
    struct lease_state *s = state;
    struct key_lease *l;
    struct fb_store_reply r;

    switch (t->pc) {
    case AWAIT_GET:
    case AWAIT_RECHECK:
        if (ev->why == WAKE_START)
            check(env, s, t);
        else
            checked(env, s, t, ev->store);
        return;
    case POLLING:
        /* Only the timer resumes a poller: nobody wakes it. */
        env_count(env, LEASE_RETRIES, 1);
        check(env, s, t);
        return;
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            /* The lease is kept until it lapses: memcache has no release. */
            task_finish(env, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        l = &s->keys[task_key(env, t)];
        if (l->token != task_id(env, t) + 1) {
            /* Our lease lapsed and another was handed out: its holder's
             * value wins. Ours is still the task's (the body is freed by
             * the fetcher, untaken). */
            env_count(env, STALE_SETS, 1);
            task_finish(env, t, OUTCOME_FETCHED, 0);
            return;
        }
        l->token = 0; /* the set uses the token up */
        t->pc = AWAIT_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        task_finish(env, t, OUTCOME_FETCHED, 0);
        return;
    }
}

static const struct fb_strategy lease = {
    .name = "lease",
    .help = "memcache leases: one lease per key per --lease-ms; others poll every --retry-ms or take stale",
    .states = lease_states,
    .nstates = 2,
    .counters = lease_counters,
    .ncounters = NCOUNTERS,
    .state_size = sizeof(struct lease_state),
    .setup = lease_setup,
    .step = lease_step,
    .teardown = lease_teardown,
};
FB_STRATEGY(lease);
