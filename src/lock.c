#include "lock.h"

#include <assert.h>
#include <stddef.h>

void lock_init(struct fb_lock *l, fb_lock_grant_fn *grant, void *ctx)
{
    l->waiters.head = l->waiters.tail = NULL;
    l->grant = grant;
    l->ctx = ctx;
    l->locked = 0;
    l->handoffs = 0;
}

int lock_acquire(struct fb_lock *l, struct fb_node *n)
{
    if (!l->locked) {
        l->locked = 1;
        return 1;
    }
    queue_push(&l->waiters, n);
    return 0;
}

void lock_release(struct fb_lock *l)
{
    assert(l->locked);
    struct fb_node *next = queue_pop(&l->waiters);
    if (next == NULL) {
        l->locked = 0;
        return;
    }
    l->handoffs++;
    l->grant(l->ctx, next);
}

/* O(waiters): giving up is rare next to waiting, and a singly linked queue
 * keeps every task's link at one pointer. */
int lock_cancel(struct fb_lock *l, struct fb_node *n)
{
    struct fb_node *prev = NULL;
    for (struct fb_node *p = l->waiters.head; p; prev = p, p = p->next) {
        if (p != n)
            continue;
        if (prev)
            prev->next = p->next;
        else
            l->waiters.head = p->next;
        if (l->waiters.tail == p)
            l->waiters.tail = prev;
        p->next = NULL;
        return 1;
    }
    return 0;
}
