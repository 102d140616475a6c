/* Spans derived from a task's entries: what the report and the plots show. */
#include <criterion/criterion.h>
#include <string.h>

#include "strategy.h"
#include "timeline.h"

static struct fb_task t;
static struct fb_timeline tl;
static struct fb_span *buf;
static size_t cap;

static void setup(void)
{
    memset(&t, 0, sizeof(t));
    memset(&tl, 0, sizeof(tl));
    buf = NULL;
    cap = 0;
}

static void teardown(void)
{
    timeline_free(&tl);
    free(buf);
}

TestSuite(timeline, .init = setup, .fini = teardown);

static void expect_span(int i, unsigned st, uint32_t a, uint32_t b)
{
    const char *want = strategy_state(NULL, st)->name, *got = strategy_state(NULL, buf[i].state)->name;
    cr_expect_str_eq(got, want, "span %d is %s, expected %s", i, got, want);
    cr_expect_eq(buf[i].start_us, a, "%s starts at %u, expected %u", want, buf[i].start_us, a);
    cr_expect_eq(buf[i].end_us, b, "%s ends at %u, expected %u", want, buf[i].end_us, b);
}

static void arrive(uint32_t created, uint32_t started)
{
    t.flags = TASK_ARRIVED | TASK_STARTED;
    t.created_us = created;
    t.start_us = started;
}

Test(timeline, lock_holder_that_fetched)
{
    arrive(0, 10);
    timeline_enter(&tl, &t, STATE_LOCK_WAIT, 10);
    timeline_enter(&tl, &t, STATE_LOCK_HELD | TIMELINE_OUTER, 10);
    timeline_enter(&tl, &t, STATE_CACHE_CHECK, 10);
    struct fb_fetch_rec *f = timeline_fetch(&tl, &t, 11);
    f->admitted_us = 15;
    f->phase_us[PHASE_DNS] = 100;
    f->phase_us[PHASE_CONNECT] = 150;
    f->phase_us[PHASE_FIRST_BYTE] = 4000;
    f->end_us = 4200;
    timeline_enter(&tl, &t, STATE_NONE | TIMELINE_OUTER, 4200);
    t.end_us = 4200;
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 9);
    expect_span(0, STATE_CREATED, 0, 10);
    expect_span(1, STATE_LOCK_WAIT, 10, 10);
    expect_span(2, STATE_LOCK_HELD, 10, 4200); /* before what it encloses */
    expect_span(3, STATE_CACHE_CHECK, 10, 11);
    expect_span(4, STATE_QUEUED, 11, 15);
    expect_span(5, STATE_DNS, 15, 115);
    expect_span(6, STATE_CONNECT, 115, 165);
    expect_span(7, STATE_REQUEST, 165, 4015);
    expect_span(8, STATE_RECEIVE, 4015, 4200);
}

Test(timeline, lock_waiter_that_hit)
{
    arrive(0, 3);
    timeline_enter(&tl, &t, STATE_LOCK_WAIT, 3);
    timeline_enter(&tl, &t, STATE_LOCK_HELD | TIMELINE_OUTER, 500);
    timeline_enter(&tl, &t, STATE_CACHE_CHECK, 500);
    timeline_enter(&tl, &t, STATE_CACHE_HIT, 500);
    timeline_enter(&tl, &t, STATE_NONE | TIMELINE_OUTER, 502);
    t.end_us = 502;
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 5);
    expect_span(0, STATE_CREATED, 0, 3);
    expect_span(1, STATE_LOCK_WAIT, 3, 500);
    expect_span(2, STATE_LOCK_HELD, 500, 502);
    expect_span(3, STATE_CACHE_CHECK, 500, 500);
    expect_span(4, STATE_CACHE_HIT, 500, 502);
}

Test(timeline, a_fetch_cut_short_ends_with_its_task)
{
    arrive(0, 1);
    timeline_enter(&tl, &t, STATE_CACHE_CHECK, 1);
    struct fb_fetch_rec *f = timeline_fetch(&tl, &t, 1);
    f->admitted_us = 2;
    f->phase_us[PHASE_DNS] = 40; /* the lookup ended; connecting when interrupted */
    t.end_us = 900;
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 5);
    expect_span(2, STATE_QUEUED, 1, 2);
    expect_span(3, STATE_DNS, 2, 42);
    expect_span(4, STATE_CONNECT, 42, 900);
}

Test(timeline, a_fetch_libcurl_never_ran_is_queued_throughout)
{
    arrive(0, 1);
    timeline_fetch(&tl, &t, 1);
    t.end_us = 70;
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 2);
    expect_span(1, STATE_QUEUED, 1, 70);
}

Test(timeline, entries_past_the_inline_ones_are_kept_in_order)
{
    arrive(0, 1);
    /* A poller: check, wait, check, wait ... twenty rounds. */
    for (uint32_t i = 0; i < 20; i++) {
        cr_assert_eq(timeline_enter(&tl, &t, STATE_CACHE_CHECK, 10 * i + 1), 0);
        cr_assert_eq(timeline_enter(&tl, &t, STATE_LOCK_WAIT, 10 * i + 2), 0);
    }
    timeline_enter(&tl, &t, STATE_CACHE_HIT, 201);
    t.end_us = 205;
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 42);
    for (uint32_t i = 0; i < 20; i++) {
        expect_span(1 + 2 * (int)i, STATE_CACHE_CHECK, 10 * i + 1, 10 * i + 2);
        expect_span(2 + 2 * (int)i, STATE_LOCK_WAIT, 10 * i + 2, i == 19 ? 201 : 10 * i + 11);
    }
    expect_span(41, STATE_CACHE_HIT, 201, 205);
}

Test(timeline, a_task_that_never_arrived_has_no_span)
{
    t.end_us = 50;
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 0);
}

Test(timeline, a_task_that_arrived_but_never_ran_was_created_until_its_end)
{
    t.flags = TASK_ARRIVED;
    t.created_us = 5;
    t.end_us = 80;
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 1);
    expect_span(0, STATE_CREATED, 5, 80);
}

/* A fetch the server said it queued: request splits into server_queue (from
 * the connect, as long as the server said) and in_service (to the first byte). */
static struct fb_fetch_rec *served_fetch(uint32_t service)
{
    arrive(0, 0);
    struct fb_fetch_rec *f = timeline_fetch(&tl, &t, 0);
    f->admitted_us = 10;
    f->phase_us[PHASE_DNS] = 100;
    f->phase_us[PHASE_CONNECT] = 150;
    f->phase_us[PHASE_FIRST_BYTE] = 9000;
    f->phase_us[PHASE_SERVICE] = service;
    f->end_us = 9500;
    t.end_us = 9500;
    return f;
}

Test(timeline, a_fetch_the_server_queued_splits_its_request)
{
    served_fetch(6150); /* 6000 µs in the server's queue */
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 7);
    expect_span(3, STATE_CONNECT, 110, 160);
    expect_span(4, STATE_SERVER_QUEUE, 160, 6160);
    expect_span(5, STATE_IN_SERVICE, 6160, 9010);
    expect_span(6, STATE_RECEIVE, 9010, 9500);
}

Test(timeline, a_server_wait_past_the_first_byte_is_clipped)
{
    served_fetch(20000);
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 7);
    expect_span(4, STATE_SERVER_QUEUE, 160, 9010);
    expect_span(5, STATE_IN_SERVICE, 9010, 9010);
    expect_span(6, STATE_RECEIVE, 9010, 9500);
}

Test(timeline, a_fetch_served_at_once_has_no_server_queue_span)
{
    served_fetch(150); /* the server said 0: the split falls on the connect */
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 6);
    expect_span(3, STATE_CONNECT, 110, 160);
    expect_span(4, STATE_IN_SERVICE, 160, 9010);
    expect_span(5, STATE_RECEIVE, 9010, 9500);
}

Test(timeline, without_the_servers_word_request_stays_whole)
{
    served_fetch(0);
    cr_assert_eq(timeline_spans(&tl, &t, &buf, &cap), 6);
    expect_span(4, STATE_REQUEST, 160, 9010);
    expect_span(5, STATE_RECEIVE, 9010, 9500);
}

Test(timeline, server_queue_is_a_wait_and_a_fetch_phase_in_service_only_a_phase)
{
    cr_expect_str_eq(strategy_state(NULL, STATE_SERVER_QUEUE)->name, "server_queue");
    cr_expect_eq(strategy_state(NULL, STATE_SERVER_QUEUE)->flags, STATE_WAIT | STATE_FETCH);
    cr_expect_str_eq(strategy_state(NULL, STATE_IN_SERVICE)->name, "in_service");
    cr_expect_eq(strategy_state(NULL, STATE_IN_SERVICE)->flags, STATE_FETCH);
}
