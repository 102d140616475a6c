#include "lock.h"

#include <assert.h>

void lock_init(struct fb_lock *l, struct fb_runq *s)
{
    l->runq = s;
    l->waiters.head = l->waiters.tail = NULL;
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
    runq_ready(l->runq, next);
}
