#ifndef FB_LOCK_H
#define FB_LOCK_H

#include "runq.h"

/* An asyncio.Lock: one holder, waiters served in FIFO order. Release hands
 * the lock straight to the first waiter and resumes it on a later scheduler
 * tick (never from inside lock_release), so no newcomer can barge in between
 * and no chain of hand-offs recurses. */
struct fb_lock {
    struct fb_runq *runq;
    struct fb_queue waiters;
    int locked;
    uint64_t handoffs;
};

void lock_init(struct fb_lock *l, struct fb_runq *s);
/* Returns 1 when n holds the lock now; 0 when n was queued, in which case it
 * is resumed through the scheduler already holding the lock. */
int lock_acquire(struct fb_lock *l, struct fb_node *n);
/* Releases the lock held by the caller (on success and on error alike). */
void lock_release(struct fb_lock *l);

#endif
