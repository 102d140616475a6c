/* The lock's asyncio.Lock semantics, driven tick by tick without a loop. */
#include <criterion/criterion.h>

#include "lock.h"

#define NWAITERS 1000

struct waiter {
    struct fb_node node;    /* first: the runq hands back the node */
    int id;
    int resumed_at_tick;    /* -1 until resumed */
};

static struct fb_runq q;
static struct fb_lock lk;
static struct waiter w[NWAITERS];
static int order[NWAITERS], norder;

static void on_resume(void *ctx, struct fb_node *n)
{
    struct waiter *wt = (struct waiter *)n;
    wt->resumed_at_tick = (int)q.ticks;
    order[norder++] = wt->id;
}

static void grant_later(void *ctx, struct fb_node *n)
{
    runq_ready(&q, n);
}

static void setup(void)
{
    cr_assert_eq(runq_init(&q, NULL, on_resume, NULL), 0);
    lock_init(&lk, grant_later, NULL);
    norder = 0;
    for (int i = 0; i < NWAITERS; i++)
        w[i] = (struct waiter){.id = i, .resumed_at_tick = -1};
}

TestSuite(lock, .init = setup);

Test(lock, first_acquire_is_immediate_others_queue)
{
    cr_assert_eq(lock_acquire(&lk, &w[0].node), 1);
    cr_assert_eq(lock_acquire(&lk, &w[1].node), 0);
    cr_assert_eq(lock_acquire(&lk, &w[2].node), 0);
    cr_assert_eq(runq_tick(&q), 0, "nobody is resumed while the holder holds");
}

Test(lock, waiters_are_served_in_fifo_order)
{
    cr_assert_eq(lock_acquire(&lk, &w[0].node), 1);
    for (int i = 1; i < NWAITERS; i++)
        cr_assert_eq(lock_acquire(&lk, &w[i].node), 0);
    lock_release(&lk);
    /* Each resumed waiter holds the lock; release it on its turn. */
    for (int i = 1; i < NWAITERS; i++) {
        cr_assert_eq(runq_tick(&q), 1);
        cr_assert_eq(order[i - 1], i, "waiter %d resumed out of order", i);
        lock_release(&lk);
    }
    cr_assert_eq(norder, NWAITERS - 1);
    cr_assert_eq(lk.locked, 0, "the last release frees the lock");
    cr_assert_eq(lk.handoffs, NWAITERS - 1);
}

Test(lock, handoff_happens_on_a_later_tick_not_inside_release)
{
    cr_assert_eq(lock_acquire(&lk, &w[0].node), 1);
    cr_assert_eq(lock_acquire(&lk, &w[1].node), 0);
    lock_release(&lk);
    cr_assert_eq(w[1].resumed_at_tick, -1, "release must not resume the waiter itself");
    cr_assert_eq(lk.locked, 1, "the lock passes to the waiter, it is not free");
    uint64_t before = q.ticks;
    runq_tick(&q);
    cr_assert_eq(w[1].resumed_at_tick, (int)before + 1);
}

Test(lock, no_barging_while_a_handoff_is_pending)
{
    cr_assert_eq(lock_acquire(&lk, &w[0].node), 1);
    cr_assert_eq(lock_acquire(&lk, &w[1].node), 0);
    lock_release(&lk);
    cr_assert_eq(lock_acquire(&lk, &w[2].node), 0, "a newcomer must queue behind the woken waiter");
    runq_tick(&q);
    cr_assert_eq(order[0], 1);
    lock_release(&lk);
    runq_tick(&q);
    cr_assert_eq(order[1], 2);
}

Test(lock, release_after_error_lets_next_waiter_try)
{
    /* The lock has no notion of success: the holder that failed releases it
     * like any other, and the next waiter gets it. */
    cr_assert_eq(lock_acquire(&lk, &w[0].node), 1);
    cr_assert_eq(lock_acquire(&lk, &w[1].node), 0);
    lock_release(&lk); /* w[0] failed */
    runq_tick(&q);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(lk.locked, 1, "w[1] holds it now");
    lock_release(&lk);
    cr_assert_eq(lk.locked, 0);
}

Test(lock, nodes_readied_during_a_tick_wait_for_the_next)
{
    /* runq's own contract, which the lock relies on. */
    runq_ready(&q, &w[0].node);
    runq_ready(&q, &w[1].node);
    cr_assert_eq(runq_tick(&q), 2);
    cr_assert_eq(runq_tick(&q), 0);
}

Test(lock, a_cancelled_waiter_is_skipped_and_order_kept)
{
    cr_assert_eq(lock_acquire(&lk, &w[0].node), 1);
    for (int i = 1; i <= 4; i++)
        cr_assert_eq(lock_acquire(&lk, &w[i].node), 0);
    cr_assert_eq(lock_cancel(&lk, &w[2].node), 1);
    cr_assert_eq(lock_cancel(&lk, &w[4].node), 1, "the tail can leave too");
    cr_assert_eq(lock_cancel(&lk, &w[2].node), 0, "not there twice");
    cr_assert_eq(lock_acquire(&lk, &w[5].node), 0, "the queue's tail is right after removing it");
    for (int i = 0; i < 3; i++) {
        lock_release(&lk);
        runq_tick(&q);
    }
    cr_assert_eq(norder, 3);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 3);
    cr_assert_eq(order[2], 5);
}
