/* Spans derived from a task's marks: what the report and the plots show. */
#include <criterion/criterion.h>
#include <string.h>

#include "task.h"

static struct fb_task t;

static void setup(void)
{
    memset(&t, 0, sizeof(t));
}

TestSuite(timeline, .init = setup);

static void expect_span(const struct fb_span *s, enum fb_state st, uint64_t a, uint64_t b)
{
    cr_expect_str_eq(task_state_name(s->state), task_state_name(st));
    cr_expect_eq(s->start_us, a, "%s starts at %lu, expected %lu", task_state_name(st),
                 (unsigned long)s->start_us, (unsigned long)a);
    cr_expect_eq(s->end_us, b, "%s ends at %lu, expected %lu", task_state_name(st),
                 (unsigned long)s->end_us, (unsigned long)b);
}

Test(timeline, lock_holder_that_fetched)
{
    struct fb_span s[TASK_MAX_SPANS];
    task_mark_at(&t, MARK_CREATED, 0);
    task_mark_at(&t, MARK_STARTED, 10);
    task_mark_at(&t, MARK_LOCK_WAIT, 10);
    task_mark_at(&t, MARK_LOCK_HELD, 11);
    task_mark_at(&t, MARK_CACHE_CHECK, 12);
    task_mark_at(&t, MARK_CACHE_DONE, 13);
    task_mark_at(&t, MARK_FETCH_START, 14);
    t.phase_us[PHASE_DNS] = 100;
    t.phase_us[PHASE_CONNECT] = 150;
    t.phase_us[PHASE_FIRST_BYTE] = 4000;
    task_mark_at(&t, MARK_FETCH_END, 4100);
    task_mark_at(&t, MARK_LOCK_RELEASED, 4101);
    task_mark_at(&t, MARK_END, 4102);
    t.outcome = OUTCOME_FETCHED;

    int n = task_spans(&t, s);
    cr_assert_eq(n, 8);
    expect_span(&s[0], STATE_CREATED, 0, 10);
    expect_span(&s[1], STATE_LOCK_WAIT, 10, 11);
    expect_span(&s[2], STATE_LOCK_HELD, 11, 4101);
    expect_span(&s[3], STATE_CACHE_CHECK, 12, 13);
    expect_span(&s[4], STATE_DNS, 14, 114);
    expect_span(&s[5], STATE_CONNECT, 114, 164);
    expect_span(&s[6], STATE_REQUEST, 164, 4014);
    expect_span(&s[7], STATE_RECEIVE, 4014, 4100);
}

Test(timeline, waiter_that_hit_the_cache)
{
    struct fb_span s[TASK_MAX_SPANS];
    task_mark_at(&t, MARK_CREATED, 1);
    task_mark_at(&t, MARK_STARTED, 5);
    task_mark_at(&t, MARK_LOCK_WAIT, 5);
    task_mark_at(&t, MARK_LOCK_HELD, 4200);
    task_mark_at(&t, MARK_CACHE_CHECK, 4201);
    task_mark_at(&t, MARK_CACHE_DONE, 4202);
    task_mark_at(&t, MARK_LOCK_RELEASED, 4203);
    task_mark_at(&t, MARK_END, 4203);
    t.outcome = OUTCOME_CACHE_HIT;

    int n = task_spans(&t, s);
    cr_assert_eq(n, 5);
    expect_span(&s[1], STATE_LOCK_WAIT, 5, 4200);
    expect_span(&s[3], STATE_CACHE_CHECK, 4201, 4202);
    expect_span(&s[4], STATE_CACHE_HIT, 4202, 4203);
}

Test(timeline, failed_connect_ends_in_a_connect_span)
{
    struct fb_span s[TASK_MAX_SPANS];
    task_mark_at(&t, MARK_CREATED, 0);
    task_mark_at(&t, MARK_STARTED, 1);
    task_mark_at(&t, MARK_CACHE_CHECK, 2);
    task_mark_at(&t, MARK_CACHE_DONE, 2);
    task_mark_at(&t, MARK_FETCH_START, 3);
    t.phase_us[PHASE_DNS] = 50; /* resolved, never connected */
    task_mark_at(&t, MARK_FETCH_END, 90);
    task_mark_at(&t, MARK_END, 91);
    t.outcome = OUTCOME_ERROR;

    int n = task_spans(&t, s);
    cr_assert_eq(n, 4);
    expect_span(&s[2], STATE_DNS, 3, 53);
    expect_span(&s[3], STATE_CONNECT, 53, 90);
}

Test(timeline, queued_fetch_shows_its_wait_and_phases_from_admission)
{
    struct fb_span s[TASK_MAX_SPANS];
    task_mark_at(&t, MARK_FETCH_START, 100);
    task_mark_at(&t, MARK_FETCH_ADMITTED, 300);
    t.phase_us[PHASE_DNS] = 10;
    t.phase_us[PHASE_CONNECT] = 20;
    t.phase_us[PHASE_FIRST_BYTE] = 30;
    task_mark_at(&t, MARK_FETCH_END, 340);
    int n = task_spans(&t, s);
    cr_assert_eq(n, 5);
    expect_span(&s[0], STATE_QUEUED, 100, 300);
    expect_span(&s[1], STATE_DNS, 300, 310);
    expect_span(&s[4], STATE_RECEIVE, 330, 340);
}

Test(timeline, phases_beyond_the_end_are_clamped)
{
    struct fb_span s[TASK_MAX_SPANS];
    task_mark_at(&t, MARK_FETCH_START, 0);
    t.phase_us[PHASE_DNS] = 500;
    task_mark_at(&t, MARK_FETCH_END, 400);
    int n = task_spans(&t, s);
    for (int i = 0; i < n; i++)
        cr_assert_leq(s[i].end_us, 400);
}

Test(timeline, a_task_record_is_small)
{
    /* The benchmark holds the tool to 300 bytes a task, timeline included. */
    cr_assert_leq(sizeof(struct fb_task), 160);
}

Test(timeline, fetch_cancelled_while_queued_is_all_queue)
{
    struct fb_span s[TASK_MAX_SPANS];
    task_mark_at(&t, MARK_FETCH_START, 100);
    task_mark_at(&t, MARK_FETCH_END, 900);
    task_mark_at(&t, MARK_FETCH_ADMITTED, 900);
    int n = task_spans(&t, s);
    cr_assert_eq(n, 1);
    expect_span(&s[0], STATE_QUEUED, 100, 900);
}
