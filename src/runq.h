#ifndef FB_RUNQ_H
#define FB_RUNQ_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct event;

/* An intrusive link: whatever waits in a fetchbench queue (a task in the
 * ready queue, a lock's waiters, a fetch waiting for a connection) embeds one
 * and is in at most one queue at a time. */
struct fb_node {
    struct fb_node *next;
};

struct fb_queue {
    struct fb_node *head, *tail;
};

static inline void queue_push(struct fb_queue *q, struct fb_node *n)
{
    n->next = NULL;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
}

static inline struct fb_node *queue_pop(struct fb_queue *q)
{
    struct fb_node *n = q->head;
    if (n) {
        q->head = n->next;
        if (q->head == NULL)
            q->tail = NULL;
        n->next = NULL;
    }
    return n;
}

/* The ready queue, asyncio's call_soon: a node made ready now is resumed on
 * the next tick, never from inside the call that made it ready. A tick
 * resumes exactly the nodes that were ready when it began.
 *
 * Ticks run from one libevent callback. To keep a long chain of hand-offs
 * (a million lock waiters) from paying an epoll_wait per hand-off, several
 * ticks run per loop iteration, but the scheduler returns to libevent for
 * I/O after RUNQ_SLICE_US, so sockets and timers are never starved. */
#define RUNQ_SLICE_US 1000

typedef void fb_resume_fn(void *ctx, struct fb_node *n);

struct fb_runq {
    struct fb_queue ready;
    struct event *ev;          /* a due timer while ready is not empty */
    fb_resume_fn *resume;
    void *ctx;
    uint64_t ticks;
    int running;               /* inside on_ready: it arms the timer itself */
};

/* Sets up the queue; base may be NULL for tests that call runq_tick. */
int runq_init(struct fb_runq *s, struct event_base *base, fb_resume_fn *resume, void *ctx);
void runq_free(struct fb_runq *s);
/* Resumes n on a later tick. */
void runq_ready(struct fb_runq *s, struct fb_node *n);
/* Runs one tick; returns the number of nodes resumed. */
unsigned runq_tick(struct fb_runq *s);

#endif
