/* The in-process store's try and watch: a watcher waits for the lock's
 * release without taking it, and a release answers every one of them. */
#include <criterion/criterion.h>
#include <string.h>

#include "store.h"
#include "task.h"

#define NTASKS 8

static struct fb_store st;
static struct fb_task tasks[NTASKS];
static struct fb_store_reply got[NTASKS];
static int answers[NTASKS], order[NTASKS * 2], norder;

static void on_answer(void *ctx, struct fb_task *owner, const struct fb_store_reply *r)
{
    int i = (int)(owner - tasks);
    got[i] = *r;
    answers[i]++;
    order[norder++] = i;
}

static void setup(void)
{
    memset(tasks, 0, sizeof(tasks));
    memset(answers, 0, sizeof(answers));
    norder = 0;
    cr_assert_eq(store_mem_open(&st, 4, on_answer, NULL), 0);
}

static void teardown(void) { st.ops->free(st.impl); }

TestSuite(store_mem, .init = setup, .fini = teardown);

static int watch(int i, uint32_t lock, struct fb_store_reply *now)
{
    return st.ops->watch(st.impl, lock, &tasks[i], now);
}

Test(store_mem, watch_of_a_free_lock_answers_at_once)
{
    struct fb_store_reply r;
    cr_assert_eq(watch(0, 2, &r), 1, "a lock never taken is free");
    cr_assert_eq(r.op, STORE_WATCH);
    cr_assert_eq(r.status, STORE_OK);
    cr_assert_eq(st.ops->lock(st.impl, 2, 1, 0, &tasks[1], &r), 1);
    cr_assert_eq(st.ops->unlock(st.impl, 2, 1, &tasks[1], &r), 1);
    cr_assert_eq(watch(0, 2, &r), 1, "a lock released is free");
    cr_assert_eq(r.status, STORE_OK);
    cr_assert_eq(norder, 0, "nothing answered later");
}

Test(store_mem, watchers_are_answered_at_the_release_all_at_once)
{
    struct fb_store_reply r;
    cr_assert_eq(st.ops->try_lock(st.impl, 1, 1, &tasks[0], &r), 1);
    cr_assert_eq(r.status, STORE_OK);
    for (int i = 1; i < NTASKS; i++) {
        cr_assert_eq(st.ops->try_lock(st.impl, 1, (uint64_t)i + 1, &tasks[i], &r), 1);
        cr_assert_eq(r.status, STORE_BUSY, "a try never queues");
        cr_assert_eq(watch(i, 1, &r), 0, "held: answered later");
    }
    cr_assert_eq(norder, 0, "nobody is answered while the holder holds");
    cr_assert_eq(st.ops->unlock(st.impl, 1, 1, &tasks[0], &r), 1);
    cr_assert_eq(norder, NTASKS - 1, "one release answers every watcher");
    for (int i = 1; i < NTASKS; i++) {
        cr_assert_eq(order[i - 1], i, "watchers answered in the order they came");
        cr_assert_eq(answers[i], 1);
        cr_assert_eq(got[i].op, STORE_WATCH);
        cr_assert_eq(got[i].status, STORE_OK);
        cr_assert_eq(got[i].how, STORE_HOW_NOTIFIED);
    }
    cr_assert_eq(st.ops->try_lock(st.impl, 1, 9, &tasks[1], &r), 1);
    cr_assert_eq(r.status, STORE_OK, "a watch does not take the lock: it is free after the release");
}

Test(store_mem, a_release_answers_watchers_of_that_lock_only)
{
    struct fb_store_reply r;
    cr_assert_eq(st.ops->lock(st.impl, 0, 1, 0, &tasks[0], &r), 1);
    cr_assert_eq(st.ops->lock(st.impl, 3, 2, 0, &tasks[1], &r), 1);
    cr_assert_eq(watch(2, 0, &r), 0);
    cr_assert_eq(watch(3, 3, &r), 0);
    cr_assert_eq(st.ops->unlock(st.impl, 0, 1, &tasks[0], &r), 1);
    cr_assert_eq(answers[2], 1);
    cr_assert_eq(answers[3], 0, "lock 3 is still held");
}

Test(store_mem, a_cancelled_watch_is_not_answered)
{
    struct fb_store_reply r;
    cr_assert_eq(st.ops->lock(st.impl, STORE_LOCK_GLOBAL, 1, 0, &tasks[0], &r), 1);
    cr_assert_eq(watch(1, STORE_LOCK_GLOBAL, &r), 0);
    cr_assert_eq(watch(2, STORE_LOCK_GLOBAL, &r), 0);
    cr_assert_eq(st.ops->cancel(st.impl, &tasks[1]), 1, "withdrawn");
    cr_assert_eq(st.ops->cancel(st.impl, &tasks[1]), 0, "nothing left to withdraw");
    cr_assert_eq(st.ops->unlock(st.impl, STORE_LOCK_GLOBAL, 1, &tasks[0], &r), 1);
    cr_assert_eq(answers[1], 0);
    cr_assert_eq(answers[2], 1);
}

Test(store_mem, a_release_that_hands_the_lock_on_still_answers_watchers)
{
    struct fb_store_reply r;
    cr_assert_eq(st.ops->lock(st.impl, 1, 1, 0, &tasks[0], &r), 1);
    cr_assert_eq(st.ops->lock(st.impl, 1, 2, 0, &tasks[1], &r), 0, "queued");
    cr_assert_eq(watch(2, 1, &r), 0);
    cr_assert_eq(st.ops->unlock(st.impl, 1, 1, &tasks[0], &r), 1);
    cr_assert_eq(answers[1], 1, "the queued waiter is handed the lock");
    cr_assert_eq(answers[2], 1, "the watcher hears the release");
    cr_assert_eq(watch(3, 1, &r), 0, "the lock is held again");
}
