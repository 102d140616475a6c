#ifndef FB_TASK_H
#define FB_TASK_H

#include <stdint.h>

#include "runq.h"
#include "vocab.h"

/* One simulated coroutine. Tasks live in one array for the whole run and are
 * kept small (the benchmark holds the tool to 80 bytes a task at a million
 * tasks, workload included): the task's id is its index, its key and planned
 * arrival stay in the workload, its timeline is a few state entries kept
 * inline (more go to a side table, see timeline.h), and what only a fetching
 * task has (its fetches' phases) lives in a side table too. Times are µs
 * from the run's start in 32 bits: a run lasts at most 71 minutes. */

#define TASK_INLINE 5           /* a lock waiter's whole timeline */

enum fb_task_flags {
    TASK_ARRIVED = 1,
    TASK_STARTED = 2,
    TASK_WAITING = 4,           /* its current state is a wait (the progress line's count) */
    TASK_WAITED = 8,            /* it waited for another task or a poll: a waiter */
    TASK_SENT = 16,             /* its fetch is upstream now (a key's in-flight count) */
    TASK_AWAITS_OTHERS = 32,    /* its current state waits for another task or a poll */
};

struct fb_task {
    struct fb_node node;        /* the ready queue, a lock's waiters, the fetch queue */
    uint32_t created_us;        /* arrived (its planned arrival, or later) */
    uint32_t start_us;          /* first ran on the loop */
    uint32_t end_us;
    uint32_t fetch;             /* 1 + index of its first fetch record; 0 = none */
    uint32_t error;             /* 1 + index into the run's error table; 0 = none */
    uint32_t more;              /* 1 + index of its first overflow entry; 0 = none */
    uint8_t outcome;            /* enum fb_outcome or OUTCOME_OWN(i) */
    uint8_t pc;                 /* the strategy's resume point */
    uint8_t why;                /* enum fb_wake of a pending resume */
    uint8_t reply;              /* a deferred store answer: op << 4 | status */
    uint8_t timer_gen;          /* bumped when a sleep ends or is cancelled */
    uint8_t flags;              /* enum fb_task_flags */
    uint8_t nentries;           /* entries so far, inline and overflow */
    uint8_t state[TASK_INLINE]; /* entry i: the state entered (| TIMELINE_OUTER) */
    uint32_t at[TASK_INLINE];   /* entry i: when */
};

#endif
