#ifndef FB_STORE_H
#define FB_STORE_H

#include <stddef.h>
#include <stdint.h>

/* The shared cache and its locks, as strategies see them: get with the
 * entry's metadata, set with a time to live, lock and unlock per key with an
 * owner token, try a lock without queueing, watch a lock for its release
 * without taking it, cancel a pending wait. Every operation answers now (returns
 * 1, the reply filled in: the in-process store, with no extra loop tick) or
 * later (returns 0; the store calls `answer` from the loop, never from
 * inside the operation) — so a store across the network (Redis) slots in
 * behind the same interface without touching a strategy. */

struct fb_task;

enum fb_store_op { STORE_GET, STORE_SET, STORE_LOCK, STORE_UNLOCK, STORE_WATCH };
enum fb_store_status {
    STORE_OK,                   /* get: found; lock: held; set, unlock: done;
                                 * watch: the lock is free (released) */
    STORE_MISS,                 /* get: no entry */
    STORE_BUSY,                 /* try_lock: held by another */
    STORE_ERROR,                /* the store failed */
};

/* Times in µs from the run's start. */
struct fb_entry_meta {
    uint32_t stored_us;
    uint32_t expires_us;        /* UINT32_MAX: never */
    uint32_t compute_us;        /* how long the value took to fetch */
    uint32_t stored_by;         /* the lock token of the task that stored it
                                 * (its id + 1); 0 = unknown */
};

struct fb_store_reply {
    uint8_t op, status;
    struct fb_entry_meta meta;  /* get, when found */
    const char *value;          /* get, when found: the store's, valid until
                                 * the next operation on the key */
    size_t len;
    uint64_t granted_by;        /* lock answered later: the token of the holder
                                 * whose release handed it over; 0 = unknown */
    uint8_t how;                /* enum fb_store_how: how a lock was got, or
                                 * an unlock that found its lease gone */
    uint32_t attempts;          /* lock: tries it took (stores that retry) */
};

/* What a store that retries locks says about one (the in-process store says
 * STORE_HOW_NONE): the distributed strategies count these. */
enum fb_store_how {
    STORE_HOW_NONE,
    STORE_HOW_AT_ONCE,          /* lock: free on the first try */
    STORE_HOW_NOTIFIED,         /* lock: got on a retry woken by the holder's release;
                                 * watch: told by the release */
    STORE_HOW_RECHECK,          /* lock: got on a timed re-check (lost message, dead holder);
                                 * watch: a check found it free (the first, or a timed one) */
    STORE_HOW_LOST,             /* unlock: the key held another token or none:
                                 * the lease expired under a live holder */
};

/* A value that begins with these bytes is a stored error (rsingleflight):
 * stores that expire entries keep it at most STORE_ERROR_TTL_MS, whatever
 * the run's TTL. */
#define STORE_ERROR_MARK "\0fb-error\0"
#define STORE_ERROR_MARK_LEN 10
#define STORE_ERROR_TTL_MS 300

/* The lock that is not a key's: one for the whole cache (asyncio.Lock). */
#define STORE_LOCK_GLOBAL UINT32_MAX

typedef void fb_store_answer_fn(void *ctx, struct fb_task *owner, const struct fb_store_reply *r);

struct fb_store_ops {
    const char *name;
    int (*get)(void *s, uint32_t key, struct fb_task *owner, struct fb_store_reply *now);
    /* Takes value (malloc'd, or NULL when len is 0), even on error. */
    int (*set)(void *s, uint32_t key, char *value, size_t len, const struct fb_entry_meta *meta,
               struct fb_task *owner, struct fb_store_reply *now);
    /* The in-process store queues waiters FIFO and answers them later;
     * a store that cannot queue answers STORE_BUSY. */
    int (*lock)(void *s, uint32_t lock, uint64_t token, uint32_t lease_us, struct fb_task *owner,
                struct fb_store_reply *now);
    int (*unlock)(void *s, uint32_t lock, uint64_t token, struct fb_task *owner, struct fb_store_reply *now);
    /* One try, never queued: STORE_OK (held now) or STORE_BUSY. */
    int (*try_lock)(void *s, uint32_t lock, uint64_t token, struct fb_task *owner, struct fb_store_reply *now);
    /* Waits for lock to be free without taking it: STORE_OK at once when it
     * is free, else when its holder releases it (every watcher of the lock
     * at once), or when a timed re-check finds it free (a lost message, a
     * dead holder: at most about a quarter lease past the lease). A release
     * answers it even when a queued waiter takes the lock on. */
    int (*watch)(void *s, uint32_t lock, struct fb_task *owner, struct fb_store_reply *now);
    /* Withdraws owner's pending lock or watch: no answer comes for it (1); or
     * 0 when there was none to withdraw: its answer is on its way. */
    int (*cancel)(void *s, struct fb_task *owner);
    /* Optional: the run is over; sends what it has not sent (the last
     * unlocks, whose answers no task waits for), answering no one. A store
     * across the network needs it: a fleet's client exits without freeing. */
    void (*flush)(void *s);
    void (*free)(void *s);
};

struct fb_store {
    const struct fb_store_ops *ops;
    void *impl;
};

/* The in-process store for keys 0..nkeys-1: an array indexed by key (a key
 * is hashed never), a FIFO lock per key made on first use, and the global
 * lock. Returns 0, or -1 out of memory. */
int store_mem_open(struct fb_store *s, uint32_t nkeys, fb_store_answer_fn *answer, void *ctx);

#endif
