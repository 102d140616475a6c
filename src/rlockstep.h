#ifndef FB_RLOCKSTEP_H
#define FB_RLOCKSTEP_H

#include "strategy.h"

/* The step rlock and rsingleflight share: check the cache; on a miss take
 * the key's lock in the store (Redis: SET NX PX --lease-ms, waiters woken
 * by the holder's release or a jittered re-check), check again, fetch on a
 * miss, store, unlock (rsingleflight's waiters instead try the lock once,
 * watch it when busy, and read the result when it is released); wait for the unlock's answer to learn whether the
 * lease ran out under us. A store that fails is gone around: a failed get
 * is a miss, a failed lock fetches without the lock (the cache is an
 * optimisation; its outage must not fail the requests it speeds up). */

enum { RL_ATTEMPTS, RL_NOTIFIED, RL_RECHECKED, RL_LEASES_LOST, RL_STORE_ERRORS, RL_ERRORS_SHARED, RL_NCOUNTERS };
extern const char *const rlockstep_counters[RL_NCOUNTERS];

/* rsingleflight's extra outcome: the error a leader in another process
 * stored (its message is in that process's report). */
enum { RL_OUTCOME_REMOTE_ERROR = OUTCOME_OWN(0) };
extern const struct fb_outcome_def rlockstep_outcomes[1];

struct rlock_state {
    uint8_t *outcome;           /* [tasks]: the outcome to finish with after the unlock */
    uint32_t *error;            /* [tasks]: its error */
    uint8_t *woken;             /* rsingleflight, [tasks]: what its lock record says (enum fb_lock_woken) */
    int share;                  /* rsingleflight: waiters take the leader's result, errors included */
};

/* Per-task arrays; 0, or -1 with err set. */
int rlockstep_setup(struct fb_env *env, struct rlock_state *s, const char *name, char *err, size_t errlen);
void rlockstep_teardown(struct rlock_state *s);
void rlockstep_step(struct fb_env *env, struct rlock_state *s, struct fb_task *t, const struct fb_event *ev);

#endif
