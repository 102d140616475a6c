#ifndef FB_LOCKSTEP_H
#define FB_LOCKSTEP_H

#include "strategy.h"

/* Drives t through lock, check, fetch on a miss, store, unlock, with the
 * store's lock `lock` (the same for every step of t): the first task
 * fetches, the others wait in FIFO order and then find the value in the
 * cache; a failed fetch releases the lock and the next waiter fetches
 * itself. Counts a hand-off in the strategy's counter `handoffs` when t got
 * the lock from a releasing holder. */
void lockstep_step(struct fb_env *env, struct fb_task *t, const struct fb_event *ev, uint32_t lock,
                   unsigned handoffs);

#endif
