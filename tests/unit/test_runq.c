/* The ready queue on a real libevent loop: long hand-off chains finish,
 * I/O timers still fire in between, and nothing is left registered. */
#include <criterion/criterion.h>
#include <event2/event.h>

#include "lock.h"
#include "runq.h"

#define CHAIN 2000000 /* tens of milliseconds of hand-offs: many slices */

struct item {
    struct fb_node node;
    int id;
};

static struct event_base *base;
static struct fb_runq q;
static struct fb_lock lk;
static struct item items[CHAIN];
static int resumed, in_order = 1, timer_fired, resumed_at_timer;

/* Each resumed item holds the lock; it releases it, handing it on. */
static void on_resume(void *ctx, struct fb_node *n)
{
    struct item *it = (struct item *)n;
    if (it->id != resumed)
        in_order = 0;
    resumed++;
    lock_release(&lk);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    timer_fired++;
    resumed_at_timer = resumed;
}

static void grant_later(void *ctx, struct fb_node *n)
{
    runq_ready(&q, n);
}

Test(runq, a_long_handoff_chain_runs_on_the_loop_without_starving_timers)
{
    base = event_base_new();
    cr_assert_not_null(base);
    cr_assert_eq(runq_init(&q, base, on_resume, NULL), 0);
    lock_init(&lk, grant_later, NULL);
    struct fb_node holder;
    cr_assert_eq(lock_acquire(&lk, &holder), 1);
    for (int i = 0; i < CHAIN; i++) {
        items[i].id = i;
        cr_assert_eq(lock_acquire(&lk, &items[i].node), 0);
    }
    struct event *t = evtimer_new(base, on_timer, NULL);
    /* Due long before the chain can finish (it takes milliseconds): it
     * fires mid-chain only if the queue returns to the loop in slices. */
    struct timeval soon = {0, 300};
    evtimer_add(t, &soon);
    lock_release(&lk);

    cr_assert_eq(event_base_dispatch(base), 1, "the loop ran out of events: nothing left registered");
    cr_assert_eq(resumed, CHAIN);
    cr_assert(in_order, "hand-offs out of FIFO order");
    cr_assert_eq(lk.locked, 0);
    cr_assert_eq(timer_fired, 1);
    cr_assert_gt(resumed_at_timer, 0, "the timer fired before the chain began");
    cr_assert_lt(resumed_at_timer, CHAIN, "the timer waited for the whole chain");
    cr_assert_geq(q.ticks, CHAIN, "one hand-off per tick");
    event_free(t);
    runq_free(&q);
    event_base_free(base);
}
