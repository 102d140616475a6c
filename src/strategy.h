#ifndef FB_STRATEGY_H
#define FB_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "task.h"
#include "vocab.h"

/* A protection strategy around "check the cache, fetch on a miss, store".
 * A strategy is one file: its own state, its own words (states, outcomes,
 * counters), and a step function that drives one task at a time through the
 * primitives below. It never touches scheduling, libcurl or the recording.
 * FB_STRATEGY(name) registers it: no list to edit anywhere else.
 *
 * Primitives never call back into the strategy: a fetch's result, a store's
 * later answer, a wake-up and a timer each come as a later step, with the
 * reason. A task's step runs at most once at a time. */

struct fb_env;                  /* the run, as a strategy sees it */

enum fb_wake {
    WAKE_START,                 /* the task's first step, when it arrives */
    WAKE_FETCHED,               /* its fetch ended: ev->fetch */
    WAKE_STORE,                 /* the store answered later: ev->store */
    WAKE_WOKEN,                 /* another task woke it (task_wake) */
    WAKE_TIMER,                 /* its sleep's deadline passed */
};

/* A fetch's result. The step may take `body` (set it NULL). */
struct fb_fetched {
    int ok;
    enum fb_stage stage;        /* when !ok */
    long http_status;
    char *body;
    size_t len;
    uint32_t compute_us;        /* libcurl's start -> done: what it cost upstream */
    uint32_t error;             /* when !ok: the error to pass to task_finish */
};

struct fb_event {
    enum fb_wake why;
    struct fb_fetched *fetch;
    const struct fb_store_reply *store;
};

struct fb_strategy {
    const char *name;
    const char *help;           /* one line for --help */
    const struct fb_state_def *states;      /* its own: STATE_OWN(i) */
    unsigned nstates;
    const struct fb_outcome_def *outcomes;  /* its own: OUTCOME_OWN(i) */
    unsigned noutcomes;
    const char *const *counters;            /* env_count(env, i, n) */
    unsigned ncounters;
    size_t state_size;          /* the run allocates and zeroes it */
    /* 0, or -1 with a one-line reason in err. Optional. */
    int (*setup)(struct fb_env *env, void *state, char *err, size_t errlen);
    void (*step)(struct fb_env *env, void *state, struct fb_task *t, const struct fb_event *ev);
    /* After a successful setup, always. Optional. */
    void (*teardown)(struct fb_env *env, void *state);
};

#define STRATEGY_MAX_OWN 32     /* own states, outcomes, counters each */

#define FB_STRATEGY(def)                                                            \
    static const struct fb_strategy *const fb_strategy_entry_##def                 \
        __attribute__((used, section("fb_strategies"), aligned(sizeof(void *)))) = &def

/* The registered strategies, sorted by name; the strategy called name, or
 * NULL; "a|b|c" for messages. */
size_t strategy_count(void);
const struct fb_strategy *strategy_at(size_t i);
const struct fb_strategy *strategy_find(const char *name);
const char *strategy_names(void);

/* Names of a strategy's states and outcomes, core or its own ("" when unknown). */
const struct fb_state_def *strategy_state(const struct fb_strategy *s, unsigned state);
const struct fb_outcome_def *strategy_outcome(const struct fb_strategy *s, unsigned outcome);

/* --- Primitives (run.c) --- */

/* The strategies' knobs, the same for every run of an invocation. */
struct fb_strategy_params {
    double beta;                /* xfetch: how early to recompute (0: never early) */
    uint32_t lock_timeout_us;   /* stale: how long a task waits for a key's first fill */
    uint32_t lease_us;          /* lease: at most one lease per key per this */
    uint32_t retry_us;          /* lease: a task told to wait asks again after this */
};
const struct fb_strategy_params *env_params(const struct fb_env *env);
/* Keys in the workload: keys are 0 .. env_nkeys - 1 (per-key state a
 * strategy keeps itself). */
uint32_t env_nkeys(const struct fb_env *env);

/* The clock, read once per step: µs from the run's start. */
uint32_t env_now(const struct fb_env *env);
/* Seeded randomness: the same seed, the same draws. */
uint64_t env_random(struct fb_env *env);
/* The run's time to live for stored values, µs; UINT32_MAX = forever. */
uint32_t env_ttl_us(const struct fb_env *env);
/* Adds n to the strategy's counter i. */
void env_count(struct fb_env *env, unsigned counter, uint64_t n);
/* Moves one count from counter from to counter to: a task's record changed
 * its mind (counters that sum per-task records follow them). Either may be
 * STRATEGY_NO_COUNTER. */
#define STRATEGY_NO_COUNTER STRATEGY_MAX_OWN
void env_count_move(struct fb_env *env, unsigned from, unsigned to);
/* Tasks in the run (for per-task state a strategy keeps itself). */
uint32_t env_ntasks(const struct fb_env *env);
uint32_t task_id(const struct fb_env *env, const struct fb_task *t);
struct fb_task *env_task(struct fb_env *env, uint32_t id);
/* The key t asks for. */
uint32_t task_key(const struct fb_env *env, const struct fb_task *t);

/* Records that t enters state now (the inner lane), or, with task_hold, the
 * enclosing lane (STATE_NONE leaves it). */
void task_enter(struct fb_env *env, struct fb_task *t, unsigned state);
void task_hold(struct fb_env *env, struct fb_task *t, unsigned state);
/* Fetches t's key upstream; WAKE_FETCHED follows, failures included. */
void task_fetch(struct fb_env *env, struct fb_task *t);
/* WAKE_TIMER at until_us (µs from the run's start) unless t is resumed
 * first for another reason, which cancels the sleep. */
void task_sleep(struct fb_env *env, struct fb_task *t, uint32_t until_us);
/* WAKE_WOKEN for t on a later tick. */
void task_wake(struct fb_env *env, struct fb_task *t);
/* Ends t with outcome. error: the failed fetch behind the outcome (a
 * fb_fetched's error): t's own for `error`, the leader's for
 * `shared_error`, t's own failed refresh for a `stale` value; else 0. */
void task_finish(struct fb_env *env, struct fb_task *t, unsigned outcome, uint32_t error);

/* The store, for t. Each returns 1 with *now filled, or 0 when the answer
 * comes as WAKE_STORE. A get counts a cache hit when the entry is fresh
 * (store_fresh), a miss otherwise. */
int task_get(struct fb_env *env, struct fb_task *t, struct fb_store_reply *now);
/* Stores f's body (taken) under t's key with the run's TTL. */
int task_set(struct fb_env *env, struct fb_task *t, struct fb_fetched *f, struct fb_store_reply *now);
int task_lock(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now);
/* One try that never queues (STORE_OK held, or STORE_BUSY), and a wait for
 * the lock's release that does not take it (STORE_OK: free now). */
int task_try_lock(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now);
int task_watch(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now);
int task_unlock(struct fb_env *env, struct fb_task *t, uint32_t lock, struct fb_store_reply *now);
/* Withdraws t's pending store operation (a lock it waits for): 1, no
 * answer comes; or 0, the answer is already on its way (a lock handed to t
 * while its timer fired): it comes as WAKE_STORE, and t holds the lock. */
int task_cancel_wait(struct fb_env *env, struct fb_task *t);
/* Records that t waited on task `other` and goes on because of it (the
 * report's waited_on; the last one recorded wins): LINK_RESULT, other's
 * result handed to t now; LINK_VALUE, t read the value other stored at
 * at_us. A lock handed over by a release is recorded by the run itself
 * (LINK_HANDOFF), for every strategy that uses task_lock. */
void task_waited_on(struct fb_env *env, struct fb_task *t, uint32_t other, enum fb_link_kind kind, uint32_t at_us);
/* The same for the entry a get answered with: t goes on with the value the
 * entry's storer stored (at the entry's stored_us); nothing when t stored it
 * itself or the store does not know who did. */
void task_waited_on_entry(struct fb_env *env, struct fb_task *t, const struct fb_store_reply *r,
                          enum fb_link_kind kind);
/* How a task waiting for a lock in the store finally went on (the report's
 * lock.woken_by). */
enum fb_lock_woken {
    LOCK_WOKEN_NONE,            /* asked no store lock: no record */
    LOCK_WOKEN_AT_ONCE,         /* free on its first try */
    LOCK_WOKEN_NOTIFICATION,    /* got on a try woken by the holder's release
                                 * (or, in process, handed over by it) */
    LOCK_WOKEN_RECHECK,         /* got on a timed re-check */
    LOCK_WOKEN_STORE_ERROR,     /* never got: the store failed */
    LOCK_WOKEN_COUNT,
};
const char *lock_woken_name(enum fb_lock_woken w);
/* Records t's wait for a store lock (the report's task.lock, kept apart from
 * the task so that tasks that ask none carry nothing): the tries it took and
 * how it went on. */
void task_lock_got(struct fb_env *env, struct fb_task *t, uint32_t attempts, enum fb_lock_woken woken_by);
/* Records that t's lease expired while it held the lock (its unlock found
 * the lock gone or another's). */
void task_lease_expired(struct fb_env *env, struct fb_task *t);
/* A get's entry is there and not expired at env_now. */
int store_fresh(const struct fb_env *env, const struct fb_store_reply *r);

#endif
