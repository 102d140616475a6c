#ifndef FB_VOCAB_H
#define FB_VOCAB_H

#include <stdint.h>

/* The words a report is written in, declared once: the states a task can be
 * in, the outcomes it can end with, the stages a fetch can fail at. The core
 * declares its own here; a strategy declares more in its own file (its
 * states are STATE_OWN(i), its outcomes OUTCOME_OWN(i), its counters by
 * index), and the report carries the whole vocabulary, so readers (schema
 * checks, plots, trace) take names from the report, never from a list. */

enum fb_state_flags {
    STATE_WAIT = 1,             /* time spent waiting: for the loop, a slot, a
                                 * lock, another task's result */
    STATE_ENCLOSES = 2,         /* drawn around the states entered inside it */
    STATE_FETCH = 4,            /* a phase of an upstream request */
};

struct fb_state_def {
    const char *name;
    unsigned flags;
};

struct fb_outcome_def {
    const char *name;
    int ok;                     /* the task got a value */
};

/* The core's states. STATE_NONE ends an enclosing state without starting
 * another; STATE_FETCHING is the entry a fetch leaves in a task's timeline,
 * expanded into the fetch's phases (queued .. receive) when it is read. */
enum fb_state {
    STATE_NONE,
    STATE_CREATED,
    STATE_QUEUED,               /* fetch asked for, not yet started by libcurl:
                                 * waiting for a connection slot, or for the
                                 * loop's next turn */
    STATE_DNS,
    STATE_CONNECT,
    STATE_REQUEST,              /* connected, waiting for the first byte */
    STATE_RECEIVE,              /* first byte to done */
    STATE_CACHE_CHECK,
    STATE_CACHE_HIT,
    STATE_LOCK_WAIT,
    STATE_LOCK_HELD,
    STATE_CORE_COUNT,
    STATE_FETCHING = STATE_CORE_COUNT,
};

#define STATE_OWN_BASE 64
#define STATE_OWN(i) (STATE_OWN_BASE + (i))

enum fb_outcome {
    OUTCOME_PENDING,            /* not finished (never in a report) */
    OUTCOME_FETCHED,
    OUTCOME_CACHE_HIT,
    OUTCOME_ERROR,              /* its own fetch failed */
    OUTCOME_CANCELLED,          /* the run was interrupted first */
    OUTCOME_SHARED,             /* took another task's fetched value */
    OUTCOME_SHARED_ERROR,       /* took another task's error */
    OUTCOME_STALE,              /* served an expired value */
    OUTCOME_TIMED_OUT,          /* gave up waiting */
    OUTCOME_CORE_COUNT,
};

#define OUTCOME_OWN_BASE 64
#define OUTCOME_OWN(i) (OUTCOME_OWN_BASE + (i))

/* Where a failed fetch failed (wrk's errors struct, by stage). */
enum fb_stage {
    STAGE_RESOLVE,
    STAGE_CONNECT,
    STAGE_TLS,                  /* handshake or certificate */
    STAGE_TIMEOUT,
    STAGE_HTTP_STATUS,
    STAGE_READ,
    STAGE_BODY_TOO_LARGE,
    STAGE_OTHER,
    STAGE_COUNT
};

/* Why a task went on because of another task (a report's waited_on):
 * handed a lock by its release, handed a leader's result, or read a value
 * another task stored. */
enum fb_link_kind {
    LINK_NONE,
    LINK_HANDOFF,
    LINK_RESULT,
    LINK_VALUE,
    LINK_KIND_COUNT
};

extern const struct fb_state_def vocab_core_states[STATE_CORE_COUNT];   /* [0] unused */
extern const struct fb_outcome_def vocab_core_outcomes[OUTCOME_CORE_COUNT]; /* [0] unused */

const char *vocab_stage_name(enum fb_stage s);
/* "handoff", "result", "value" ("" for LINK_NONE). */
const char *vocab_link_name(enum fb_link_kind k);

#endif
