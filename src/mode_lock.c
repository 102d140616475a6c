/* lock: an asyncio.Lock around "check the cache, fetch on a miss, store".
 * The first task fetches; the others wait in FIFO order and then find the
 * body in the cache. A failed fetch releases the lock too, and the next
 * waiter tries the fetch itself. */
#include <stdlib.h>

#include "lock.h"
#include "mode.h"
#include "run.h"

enum { LOCK_START, LOCK_GRANTED, LOCK_FETCHED };

static int lock_setup(struct fb_run *run)
{
    struct fb_lock *l = malloc(sizeof(*l));
    if (l == NULL)
        return -1;
    lock_init(l, &run->runq);
    run->mode_state = l;
    return 0;
}

static void lock_teardown(struct fb_run *run)
{
    free(run->mode_state);
    run->mode_state = NULL;
}

static void release(struct fb_run *run, struct fb_task *t)
{
    run_mark(run, t, MARK_LOCK_RELEASED);
    lock_release(run->mode_state);
}

static void lock_step(struct fb_run *run, struct fb_task *t, struct fb_xfer_result *fetched)
{
    switch (t->pc) {
    case LOCK_START:
        run_mark(run, t, MARK_LOCK_WAIT);
        t->pc = LOCK_GRANTED;
        if (!lock_acquire(run->mode_state, &t->node))
            return; /* resumed by lock_release, holding the lock */
        /* fall through */
    case LOCK_GRANTED:
        run_mark(run, t, MARK_LOCK_HELD);
        if (run_cache_lookup(run, t)) {
            release(run, t);
            run_finish(run, t, NULL);
            return;
        }
        t->pc = LOCK_FETCHED;
        run_fetch(run, t);
        return;
    case LOCK_FETCHED:
        run_store(run, t, fetched);
        release(run, t);
        run_finish(run, t, fetched);
        return;
    }
}

const struct fb_mode mode_lock = {
    .name = "lock",
    .help = "asyncio.Lock around check-fetch-store: one fetch",
    .setup = lock_setup,
    .step = lock_step,
    .teardown = lock_teardown,
};
