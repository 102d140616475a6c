#ifndef FB_LOCK_H
#define FB_LOCK_H

#include <stdint.h>

#include "runq.h"

/* An asyncio.Lock: one holder, waiters served in FIFO order. Release hands
 * the lock straight to the first waiter and tells `grant`, which must resume
 * it on a later scheduler tick (never from inside lock_release), so no
 * newcomer can barge in between and no chain of hand-offs recurses. */
typedef void fb_lock_grant_fn(void *ctx, struct fb_node *next);

struct fb_lock {
    struct fb_queue waiters;
    fb_lock_grant_fn *grant;
    void *ctx;
    int locked;
    uint64_t handoffs;
};

void lock_init(struct fb_lock *l, fb_lock_grant_fn *grant, void *ctx);
/* Returns 1 when n holds the lock now; 0 when n was queued, in which case
 * grant is called for it later, the lock already its. */
int lock_acquire(struct fb_lock *l, struct fb_node *n);
/* Releases the lock held by the caller (on success and on error alike). */
void lock_release(struct fb_lock *l);
/* Takes n out of the waiters (a waiter that gave up); 1 when it was there. */
int lock_cancel(struct fb_lock *l, struct fb_node *n);

#endif
