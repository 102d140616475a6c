#include "runq.h"

#include <event2/event.h>

#include "clock.h"

unsigned runq_tick(struct fb_runq *s)
{
    /* Detach the current queue first: nodes readied while it runs belong to
     * the next tick. */
    struct fb_queue now = s->ready;
    struct fb_node *n;
    unsigned resumed = 0;

    s->ready.head = s->ready.tail = NULL;
    s->ticks++;
    while ((n = queue_pop(&now)) != NULL) {
        s->resume(s->ctx, n);
        resumed++;
    }
    return resumed;
}

/* A zero timeout, not event_active: an event activated from inside the
 * active queue's processing runs again in the same pass, before libevent
 * polls for I/O or expires timers; a timer due now waits for the next
 * iteration, after the poll. */
static void arm(struct fb_runq *s)
{
    static const struct timeval now = {0, 0};
    evtimer_add(s->ev, &now);
}

/* Ticks until the queue is empty or the slice is used. A hand-off chain is
 * one task per tick: the clock is read every RUNQ_CLOCK_EVERY ticks, not
 * each, and the timer is armed once at the end, not by every runq_ready of
 * the slice (it would re-add a libevent timer per hand-off). */
#define RUNQ_CLOCK_EVERY 32

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct fb_runq *s = arg;
    uint64_t deadline = clock_now_us() + RUNQ_SLICE_US;
    unsigned ticks = 0;

    s->running = 1;
    do
        runq_tick(s);
    while (s->ready.head && (++ticks % RUNQ_CLOCK_EVERY || clock_now_us() < deadline));
    s->running = 0;
    if (s->ready.head)
        arm(s);
}

int runq_init(struct fb_runq *s, struct event_base *base, fb_resume_fn *resume, void *ctx)
{
    s->ready.head = s->ready.tail = NULL;
    s->resume = resume;
    s->ctx = ctx;
    s->ticks = 0;
    s->running = 0;
    s->ev = NULL;
    if (base) {
        s->ev = evtimer_new(base, on_ready, s);
        if (s->ev == NULL)
            return -1;
    }
    return 0;
}

void runq_free(struct fb_runq *s)
{
    if (s->ev)
        event_free(s->ev);
    s->ev = NULL;
}

void runq_ready(struct fb_runq *s, struct fb_node *n)
{
    int was_idle = s->ready.head == NULL;

    queue_push(&s->ready, n);
    if (was_idle && s->ev && !s->running)
        arm(s);
}
