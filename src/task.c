#include "task.h"

static const char *const state_names[STATE_COUNT] = {
    "created", "lock_wait", "lock_held", "cache_check", "cache_hit",
    "queued", "dns", "connect", "request", "receive",
};

static const char *const outcome_names[] = {
    "pending", "fetched", "cache_hit", "error", "cancelled",
};

static const char *const stage_names[STAGE_COUNT] = {
    "resolve", "connect", "tls", "timeout", "http_status", "read", "body_too_large", "other",
};

const char *task_state_name(enum fb_state s) { return state_names[s]; }
const char *task_outcome_name(enum fb_outcome o) { return outcome_names[o]; }
const char *task_stage_name(enum fb_stage s) { return stage_names[s]; }

/* Appends [from, to) when from exists. A state the task never left (the
 * run was interrupted while it waited for the lock, held it, or had not
 * even started) ends where the task ended. */
static int add_between(const struct fb_task *t, struct fb_span *out, int n,
                       enum fb_state s, enum fb_mark from, enum fb_mark to)
{
    if (!task_has_mark(t, from))
        return n;
    enum fb_mark end = task_has_mark(t, to) ? to : MARK_END;
    if (!task_has_mark(t, end))
        return n;
    out[n].state = (uint8_t)s;
    out[n].start_us = t->mark_us[from];
    out[n].end_us = t->mark_us[end];
    return n + 1;
}

/* The fetch: `queued` from the request to libcurl's start (a connection slot,
 * or the loop's next turn), then libcurl's phases: each reached phase ends
 * where the next begins; the last one reached runs to the fetch's end, so a
 * failed connect shows as a connect span that ends at the failure. */
static int add_fetch(const struct fb_task *t, struct fb_span *out, int n)
{
    static const uint8_t phase_state[] = {STATE_DNS, STATE_CONNECT, STATE_REQUEST, STATE_RECEIVE};

    if (!task_has_mark(t, MARK_FETCH_START))
        return n;
    uint64_t start = t->mark_us[MARK_FETCH_START];
    if (task_has_mark(t, MARK_FETCH_ADMITTED)) {
        n = add_between(t, out, n, STATE_QUEUED, MARK_FETCH_START, MARK_FETCH_ADMITTED);
        start = t->mark_us[MARK_FETCH_ADMITTED];
    }
    uint64_t end = task_has_mark(t, MARK_FETCH_END) ? t->mark_us[MARK_FETCH_END]
                 : task_has_mark(t, MARK_END)       ? t->mark_us[MARK_END]
                                                    : start;
    uint64_t from = start;
    int p = 0;

    for (;;) {
        uint64_t to = end;
        int last = p == PHASE_COUNT || t->phase_us[p] == 0;
        if (!last) {
            to = start + t->phase_us[p];
            if (to > end)
                to = end;
            if (to < from)
                to = from;
        }
        if (last && p == 0 && to == from)
            return n; /* never got to libcurl: no phase at all */
        out[n].state = phase_state[p];
        out[n].start_us = from;
        out[n].end_us = to;
        n++;
        if (last)
            return n;
        from = to;
        p++;
    }
}

int task_spans(const struct fb_task *t, struct fb_span out[TASK_MAX_SPANS])
{
    int n = 0;

    n = add_between(t, out, n, STATE_CREATED, MARK_CREATED, MARK_STARTED);
    n = add_between(t, out, n, STATE_LOCK_WAIT, MARK_LOCK_WAIT, MARK_LOCK_HELD);
    n = add_between(t, out, n, STATE_LOCK_HELD, MARK_LOCK_HELD, MARK_LOCK_RELEASED);
    n = add_between(t, out, n, STATE_CACHE_CHECK, MARK_CACHE_CHECK, MARK_CACHE_DONE);
    /* A hit is read under the lock when there is one: it ends at the
     * release, not a tick later when the task finishes. */
    if (t->outcome == OUTCOME_CACHE_HIT && task_has_mark(t, MARK_CACHE_DONE))
        n = add_between(t, out, n, STATE_CACHE_HIT, MARK_CACHE_DONE,
                        task_has_mark(t, MARK_LOCK_RELEASED) ? MARK_LOCK_RELEASED : MARK_END);
    return add_fetch(t, out, n);
}
