/* rlock and rsingleflight: a lock per key in the store, shared by every
 * process of an experiment (see rlockstep.h). */
#include "rlockstep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rlockstep_counters[RL_NCOUNTERS] = {
    [RL_ATTEMPTS] = "lock_attempts",
    [RL_NOTIFIED] = "woken_by_notification",
    [RL_RECHECKED] = "woken_by_recheck",
    [RL_LEASES_LOST] = "leases_expired_under_holder",
    [RL_STORE_ERRORS] = "store_errors",
    [RL_ERRORS_SHARED] = "errors_shared",
};

const struct fb_outcome_def rlockstep_outcomes[1] = {{"shared_remote_error", 0}};

enum {
    AWAIT_GET, AWAIT_LOCK, AWAIT_RECHECK, AWAIT_FETCH, AWAIT_SET, AWAIT_UNLOCK, AWAIT_FETCH_UNLOCKED,
    AWAIT_TRY, AWAIT_WATCH, AWAIT_RESULT, /* rsingleflight's */
};

/* How long an error stays: see STORE_ERROR_TTL_MS. */
static int is_error_entry(const struct fb_store_reply *r)
{
    return r->len >= STORE_ERROR_MARK_LEN && memcmp(r->value, STORE_ERROR_MARK, STORE_ERROR_MARK_LEN) == 0;
}

int rlockstep_setup(struct fb_env *env, struct rlock_state *s, const char *name, char *err, size_t errlen)
{
    uint32_t n = env_ntasks(env) ? env_ntasks(env) : 1;
    s->outcome = calloc(n, sizeof(*s->outcome));
    s->error = calloc(n, sizeof(*s->error));
    s->woken = s->share ? calloc(n, sizeof(*s->woken)) : NULL;
    if (s->outcome == NULL || s->error == NULL || (s->share && s->woken == NULL)) {
        rlockstep_teardown(s);
        snprintf(err, errlen, "%s: out of memory for %u tasks", name, n);
        return -1;
    }
    return 0;
}

void rlockstep_teardown(struct rlock_state *s)
{
    free(s->outcome);
    free(s->error);
    free(s->woken);
    s->outcome = NULL;
    s->error = NULL;
    s->woken = NULL;
}

/* The lock's answer, counted for the run and recorded for t alike (the
 * report checks that the one is the sum of the other). A store that does
 * not retry says neither how nor how often: it answered at once, or later
 * because the holder's release handed the lock over. */
static void count_lock(struct fb_env *env, struct fb_task *t, const struct fb_store_reply *r, int later)
{
    uint32_t attempts = r->attempts ? r->attempts : 1;
    enum fb_lock_woken woken = LOCK_WOKEN_STORE_ERROR;

    env_count(env, RL_ATTEMPTS, attempts);
    if (r->status != STORE_OK)
        env_count(env, RL_STORE_ERRORS, 1);
    else if (r->how == STORE_HOW_RECHECK)
        woken = LOCK_WOKEN_RECHECK;
    else if (r->how == STORE_HOW_NOTIFIED || (r->how == STORE_HOW_NONE && later))
        woken = LOCK_WOKEN_NOTIFICATION;
    else
        woken = LOCK_WOKEN_AT_ONCE;
    if (woken == LOCK_WOKEN_NOTIFICATION)
        env_count(env, RL_NOTIFIED, 1);
    else if (woken == LOCK_WOKEN_RECHECK)
        env_count(env, RL_RECHECKED, 1);
    task_lock_got(env, t, attempts, woken);
}

/* The run counter that sums the records woken_by w, or STRATEGY_NO_COUNTER. */
static unsigned woken_counter(enum fb_lock_woken w)
{
    return w == LOCK_WOKEN_NOTIFICATION ? RL_NOTIFIED
           : w == LOCK_WOKEN_RECHECK    ? RL_RECHECKED
           : w == LOCK_WOKEN_STORE_ERROR ? RL_STORE_ERRORS
                                         : STRATEGY_NO_COUNTER;
}

/* rsingleflight: one try of the lock ended a wait of t's (the try itself,
 * or the watch that followed it when the lock was busy). The record adds
 * the try and says how its latest wait ended: a task whose watch found
 * nothing to take (a leader gone) tries again, and its record is rewritten,
 * so the run's count moves with it and stays the sum of the records. */
static void record_try(struct fb_env *env, struct rlock_state *s, struct fb_task *t, enum fb_lock_woken woken)
{
    uint32_t me = task_id(env, t);
    enum fb_lock_woken was = (enum fb_lock_woken)s->woken[me];

    env_count(env, RL_ATTEMPTS, 1);
    if (woken != was) {
        env_count_move(env, woken_counter(was), woken_counter(woken));
        s->woken[me] = (uint8_t)woken;
    }
    task_lock_got(env, t, 1, woken);
}

static void count_lease_lost(struct fb_env *env, struct fb_task *t)
{
    env_count(env, RL_LEASES_LOST, 1);
    task_lease_expired(env, t);
}

/* Ends t's turn with the lock: unlocks and finishes with outcome when the
 * store has answered (a lease found gone is counted then). */
static void unlock_then_finish(struct fb_env *env, struct rlock_state *s, struct fb_task *t, unsigned outcome,
                               uint32_t error)
{
    struct fb_store_reply r;
    uint32_t me = task_id(env, t);

    s->outcome[me] = (uint8_t)outcome;
    s->error[me] = error;
    t->pc = AWAIT_UNLOCK;
    if (!task_unlock(env, t, task_key(env, t), &r))
        return;
    if (r.how == STORE_HOW_LOST)
        count_lease_lost(env, t);
    task_hold(env, t, STATE_NONE);
    task_finish(env, t, outcome, error);
}

/* A fresh entry found: a value (a hit, or for a waiter of rsingleflight
 * the leader's shared result) or a stored error. */
static void take_entry(struct fb_env *env, struct rlock_state *s, struct fb_task *t, const struct fb_store_reply *r,
                       int waited, int locked)
{
    unsigned outcome = OUTCOME_CACHE_HIT;
    uint32_t error = 0;

    if (is_error_entry(r)) {
        /* The leader's own error when it ran here; else only its word. */
        uint32_t by = r->meta.stored_by;
        error = by && by <= env_ntasks(env) ? env_task(env, by - 1)->error : 0;
        outcome = error ? OUTCOME_SHARED_ERROR : RL_OUTCOME_REMOTE_ERROR;
        env_count(env, RL_ERRORS_SHARED, 1);
        task_waited_on_entry(env, t, r, LINK_RESULT);
    } else if (s->share && waited) {
        outcome = OUTCOME_SHARED;
        task_waited_on_entry(env, t, r, LINK_RESULT);
    } else {
        task_enter(env, t, STATE_CACHE_HIT);
        if (waited)
            task_waited_on_entry(env, t, r, LINK_VALUE);
    }
    if (locked)
        unlock_then_finish(env, s, t, outcome, error);
    else
        task_finish(env, t, outcome, error);
}

/* The leader's fetch failed: rsingleflight stores the error for a few
 * hundred ms, so that the waiters (woken by the release, or re-checking)
 * take it instead of each trying the backend again; no longer, so that the
 * next arrivals try again rather than fail on a stale error. */
static void store_error(struct fb_env *env, struct fb_task *t, const struct fb_fetched *f)
{
    struct fb_store_reply r;
    struct fb_fetched e = *f;
    e.body = malloc(STORE_ERROR_MARK_LEN);
    if (e.body == NULL)
        return;
    memcpy(e.body, STORE_ERROR_MARK, STORE_ERROR_MARK_LEN);
    e.len = STORE_ERROR_MARK_LEN;
    /* Its answer does not matter: the unlock that follows is answered after
     * it on the same connection, and a failure leaves the next waiter to
     * fetch. */
    (void)task_set(env, t, &e, &r);
}

/* rsingleflight: t missed (or its watch found nothing to take): it tries
 * the lock once; got, it leads (checks the cache under the lock, fetches,
 * stores the result or the error, unlocks); busy, it watches the lock and,
 * when it is released, reads the leader's result. Waiters thus take the
 * result together, a GET each, instead of the lock in turn. */
static void try_to_lead(struct fb_env *env, struct rlock_state *s, struct fb_task *t)
{
    struct fb_store_reply r;

    task_enter(env, t, STATE_LOCK_WAIT);
    t->pc = AWAIT_TRY;
    if (!task_try_lock(env, t, task_key(env, t), &r))
        return;
    struct fb_event ev = {.why = WAKE_STORE, .store = &r};
    rlockstep_step(env, s, t, &ev);
}

/* The watch's answer (reply), a released lock: read what the leader left. */
static void read_result(struct fb_env *env, struct rlock_state *s, struct fb_task *t, const struct fb_store_reply *reply,
                        int later)
{
    struct fb_store_reply r;
    enum fb_lock_woken woken = LOCK_WOKEN_STORE_ERROR;

    if (reply->status == STORE_OK)
        woken = reply->how == STORE_HOW_NOTIFIED || (reply->how == STORE_HOW_NONE && later) ? LOCK_WOKEN_NOTIFICATION
                                                                                          : LOCK_WOKEN_RECHECK;
    record_try(env, s, t, woken);
    if (reply->status != STORE_OK) {
        t->pc = AWAIT_FETCH_UNLOCKED; /* the store is gone: fetch without it */
        task_fetch(env, t);
        return;
    }
    s->outcome[task_id(env, t)] = 1; /* waited: what it takes now is shared */
    task_enter(env, t, STATE_CACHE_CHECK);
    t->pc = AWAIT_RESULT;
    if (!task_get(env, t, &r))
        return;
    struct fb_event ev = {.why = WAKE_STORE, .store = &r};
    rlockstep_step(env, s, t, &ev);
}

void rlockstep_step(struct fb_env *env, struct rlock_state *s, struct fb_task *t, const struct fb_event *ev)
{
    struct fb_store_reply r;
    const struct fb_store_reply *reply = ev->store;
    uint32_t me = task_id(env, t);

    switch (t->pc) {
    case AWAIT_GET:
        if (ev->why == WAKE_START) {
            task_enter(env, t, STATE_CACHE_CHECK);
            if (!task_get(env, t, &r))
                return;
            reply = &r;
        }
        if (store_fresh(env, reply)) {
            take_entry(env, s, t, reply, 0, 0);
            return;
        }
        if (s->share) {
            try_to_lead(env, s, t);
            return;
        }
        task_enter(env, t, STATE_LOCK_WAIT);
        t->pc = AWAIT_LOCK;
        if (!task_lock(env, t, task_key(env, t), &r))
            return;
        reply = &r;
        /* fall through */
    case AWAIT_LOCK:
        count_lock(env, t, reply, ev->why == WAKE_STORE && reply == ev->store);
        if (reply->status != STORE_OK) {
            /* The store is gone: fetch without it. */
            t->pc = AWAIT_FETCH_UNLOCKED;
            task_fetch(env, t);
            return;
        }
        /* Waited: another task held it (a queue hand-off in one process). */
        s->outcome[me] = ev->why == WAKE_STORE && reply->how != STORE_HOW_AT_ONCE;
    check_held:
        task_hold(env, t, STATE_LOCK_HELD);
        task_enter(env, t, STATE_CACHE_CHECK);
        t->pc = AWAIT_RECHECK;
        if (!task_get(env, t, &r))
            return;
        reply = &r;
        /* fall through */
    case AWAIT_RECHECK:
        if (store_fresh(env, reply)) {
            take_entry(env, s, t, reply, s->outcome[me], 1);
            return;
        }
        t->pc = AWAIT_FETCH;
        task_fetch(env, t);
        return;
    case AWAIT_FETCH:
        if (!ev->fetch->ok) {
            if (s->share)
                store_error(env, t, ev->fetch);
            unlock_then_finish(env, s, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_SET;
        if (!task_set(env, t, ev->fetch, &r))
            return;
        /* fall through */
    case AWAIT_SET:
        unlock_then_finish(env, s, t, OUTCOME_FETCHED, 0);
        return;
    case AWAIT_UNLOCK:
        if (reply && reply->how == STORE_HOW_LOST)
            count_lease_lost(env, t);
        /* Held until the store said it was let go. */
        task_hold(env, t, STATE_NONE);
        task_finish(env, t, s->outcome[me], s->error[me]);
        return;
    case AWAIT_TRY:
        if (reply->status == STORE_BUSY) {
            t->pc = AWAIT_WATCH;
            if (!task_watch(env, t, task_key(env, t), &r))
                return;
            read_result(env, s, t, &r, 0);
            return;
        }
        if (reply->status != STORE_OK) {
            record_try(env, s, t, LOCK_WOKEN_STORE_ERROR);
            t->pc = AWAIT_FETCH_UNLOCKED;
            task_fetch(env, t);
            return;
        }
        /* After a watch, the lock is the leader's that its release left
         * free: the record keeps how that wait ended. */
        record_try(env, s, t, s->woken[me] ? (enum fb_lock_woken)s->woken[me] : LOCK_WOKEN_AT_ONCE);
        goto check_held;
    case AWAIT_WATCH:
        read_result(env, s, t, reply, ev->why == WAKE_STORE && reply == ev->store);
        return;
    case AWAIT_RESULT:
        if (store_fresh(env, reply)) {
            take_entry(env, s, t, reply, 1, 0);
            return;
        }
        /* Nothing there: the leader died, or its store failed. */
        try_to_lead(env, s, t);
        return;
    case AWAIT_FETCH_UNLOCKED:
        if (!ev->fetch->ok) {
            task_finish(env, t, OUTCOME_ERROR, ev->fetch->error);
            return;
        }
        t->pc = AWAIT_SET;
        /* Stored if the store came back; the unlock then finds no lock. */
        if (task_set(env, t, ev->fetch, &r))
            task_finish(env, t, OUTCOME_FETCHED, 0);
        else
            s->outcome[me] = OUTCOME_FETCHED, t->pc = AWAIT_UNLOCK;
        return;
    }
}
