#ifndef FB_TIMELINE_H
#define FB_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"

/* A task's timeline: what it entered when. A task is in one state at a time
 * (the inner lane: created, lock_wait, cache_check, a fetch, ...), and may
 * in addition be inside one enclosing state (the outer lane: lock_held).
 * Strategies record entries; spans are derived from them when the report is
 * written: an inner state lasts until the next inner entry or the task's
 * end, an outer one until the next outer entry (STATE_NONE closes it) or the
 * end. A fetch is one entry, STATE_FETCHING, expanded into its phases from
 * its fetch record. */

#define TIMELINE_OUTER 0x80     /* entry flag: the enclosing lane */

/* The phases of a transfer, as offsets from its start: libcurl's, then the
 * one the server tells of. */
enum fb_phase {
    PHASE_DNS,                  /* name lookup done */
    PHASE_CONNECT,              /* TCP connected */
    PHASE_FIRST_BYTE,           /* first response byte */
    PHASE_CURL_COUNT,
    /* The server took the request into service: connected + the wait for a
     * slot it reported (X-Queue-Us), at most the first byte; 0 = it did not
     * say, and the request phase stays whole. */
    PHASE_SERVICE = PHASE_CURL_COUNT,
    PHASE_COUNT
};

#define TIMELINE_NONE UINT32_MAX

/* One upstream fetch of one task. */
struct fb_fetch_rec {
    uint32_t next;              /* 1 + index of the task's next fetch; 0 = last */
    uint32_t start_us;          /* asked for */
    uint32_t admitted_us;       /* libcurl started it; TIMELINE_NONE = never */
    uint32_t end_us;            /* done; TIMELINE_NONE = not yet */
    uint32_t phase_us[PHASE_COUNT]; /* from admitted_us; 0 = not reached */
};

/* Entries past a task's inline ones. */
struct fb_entry_more {
    uint32_t next;              /* 1 + index; 0 = last */
    uint32_t at;
    uint8_t state;
};

/* A run's side tables. */
struct fb_timeline {
    struct fb_fetch_rec *fetches;
    uint32_t nfetches, capfetches;
    struct fb_entry_more *more;
    uint32_t nmore, capmore;
};

struct fb_span {
    uint8_t state;              /* a state id, never STATE_NONE or STATE_FETCHING */
    uint16_t seq;               /* the entry that opened it: orders equal starts */
    uint32_t start_us, end_us;
};

void timeline_free(struct fb_timeline *tl);
/* Records that t entered state (| TIMELINE_OUTER for the enclosing lane) at
 * `at`. Returns 0, or -1 out of memory (the entry is lost). */
int timeline_enter(struct fb_timeline *tl, struct fb_task *t, uint8_t state, uint32_t at);
/* A new fetch record for t, started at `at`, entered as STATE_FETCHING;
 * NULL out of memory. The pointer is valid until the next call. */
struct fb_fetch_rec *timeline_fetch(struct fb_timeline *tl, struct fb_task *t, uint32_t at);
/* t's fetch still in flight (its last), or NULL. */
struct fb_fetch_rec *timeline_last_fetch(const struct fb_timeline *tl, const struct fb_task *t);

/* Derives t's spans, ordered by start (in entry order at equal starts, so an
 * enclosing span comes before what it encloses), into *buf (grown as needed,
 * caller frees). Returns the count, or -1 out of memory. */
int timeline_spans(const struct fb_timeline *tl, const struct fb_task *t, struct fb_span **buf, size_t *cap);

/* Adds the length of each of t's spans to per_state[its state]: the same
 * spans, without building or ordering them. */
void timeline_state_time(const struct fb_timeline *tl, const struct fb_task *t, uint64_t per_state[256]);

#endif
