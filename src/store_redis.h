#ifndef FB_STORE_REDIS_H
#define FB_STORE_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "redisaddr.h"
#include "store.h"

struct event_base;

struct fb_store_redis_opts {
    const struct fb_redis_addr *addr;
    const char *run_id;         /* the keys' prefix is fb:<run_id>: (the caller
                                 * makes it name one run of one experiment) */
    uint32_t lease_us;          /* a lock's lease when the caller gives none */
    const uint64_t *t0_us;      /* the run's start (absolute monotonic µs), read
                                 * at each answer: set once the run starts */
    struct event_base *base;    /* the run's loop: every command and timer on it */
    int entries_expire;         /* the run stores with a TTL: each read asks
                                 * Redis for the time left (PTTL) beside GET */
};

/* Opens the Redis store of one run: resolves the host and checks that Redis
 * answers PING (blocking, before the run starts), then connects two
 * asynchronous contexts on base (commands, and pub/sub for lock waiters).
 * 0, or -1 with a one-line reason in err (an unreachable Redis says so). */
int store_redis_open(struct fb_store *s, const struct fb_store_redis_opts *o, fb_store_answer_fn *answer,
                     void *ctx, char *err, size_t errlen);

#endif
