#ifndef FB_TASK_H
#define FB_TASK_H

#include <stdint.h>

#include "runq.h"

/* One simulated coroutine. Tasks live in one array for the whole run and are
 * kept small (the benchmark holds the tool to 300 bytes a task at a million
 * tasks): the timeline is a fixed set of marks, not a growing list, and the
 * spans are derived from them when the report is written. */

/* Moments a task can pass; each at most once. */
enum fb_mark {
    MARK_CREATED,       /* spawned (asyncio.gather) */
    MARK_STARTED,       /* first run on the loop */
    MARK_LOCK_WAIT,     /* asked for the lock */
    MARK_LOCK_HELD,     /* got it */
    MARK_LOCK_RELEASED,
    MARK_CACHE_CHECK,
    MARK_CACHE_DONE,    /* lookup answered (hit or miss) */
    MARK_FETCH_START,   /* fetch asked for */
    MARK_FETCH_ADMITTED,/* libcurl really started it: its phases count from here */
    MARK_FETCH_END,     /* libcurl reported it done */
    MARK_END,           /* finished: fetched, cache hit or error */
    MARK_COUNT
};

/* libcurl's phases of a transfer, as offsets from MARK_FETCH_ADMITTED, where
 * libcurl's own clock for the transfer started. */
enum fb_phase {
    PHASE_DNS,          /* name lookup done */
    PHASE_CONNECT,      /* TCP connected */
    PHASE_FIRST_BYTE,   /* first response byte */
    PHASE_COUNT
};

enum fb_outcome {
    OUTCOME_PENDING,
    OUTCOME_FETCHED,
    OUTCOME_CACHE_HIT,
    OUTCOME_ERROR,
    OUTCOME_CANCELLED   /* the run was interrupted first */
};

/* Where a failed fetch failed (wrk's errors struct, by stage). */
enum fb_stage {
    STAGE_RESOLVE,
    STAGE_CONNECT,
    STAGE_TLS,          /* handshake or certificate */
    STAGE_TIMEOUT,
    STAGE_HTTP_STATUS,
    STAGE_READ,
    STAGE_BODY_TOO_LARGE,
    STAGE_OTHER,
    STAGE_COUNT
};

struct fb_task {
    struct fb_node node;        /* ready queue, lock waiters, fetch queue */
    uint32_t id;
    uint8_t pc;                 /* the mode's resume point */
    uint8_t outcome;            /* enum fb_outcome */
    uint16_t marks_set;         /* bit per enum fb_mark */
    uint32_t error;             /* 1 + index into the run's error table; 0 = none */
    uint32_t phase_us[PHASE_COUNT]; /* 0 = phase not reached */
    uint64_t mark_us[MARK_COUNT];   /* µs from the run's start */
};

static inline void task_mark_at(struct fb_task *t, enum fb_mark m, uint64_t us)
{
    t->mark_us[m] = us;
    t->marks_set |= (uint16_t)(1u << m);
}

static inline int task_has_mark(const struct fb_task *t, enum fb_mark m)
{
    return (t->marks_set >> m) & 1u;
}

/* The states a report shows, in the order they are listed. */
enum fb_state {
    STATE_CREATED,
    STATE_LOCK_WAIT,
    STATE_LOCK_HELD,    /* the only span that encloses others */
    STATE_CACHE_CHECK,
    STATE_CACHE_HIT,
    STATE_QUEUED,       /* fetch asked for, not yet started by libcurl: waiting
                         * for a connection slot, or for the loop's next turn */
    STATE_DNS,
    STATE_CONNECT,
    STATE_REQUEST,      /* connected, waiting for the first byte */
    STATE_RECEIVE,      /* first byte to done */
    STATE_COUNT
};

struct fb_span {
    uint8_t state;      /* enum fb_state */
    uint64_t start_us, end_us;
};

#define TASK_MAX_SPANS STATE_COUNT

/* Derives t's spans from its marks, ordered by start time; returns how many
 * were written to out (at most TASK_MAX_SPANS). */
int task_spans(const struct fb_task *t, struct fb_span out[TASK_MAX_SPANS]);

const char *task_state_name(enum fb_state s);
const char *task_outcome_name(enum fb_outcome o);
const char *task_stage_name(enum fb_stage s);

#endif
