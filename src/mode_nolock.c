/* nolock: check the cache, fetch on a miss, store. Every task misses before
 * the first fetch returns, so every task fetches: the cache stampede. */
#include "mode.h"
#include "run.h"

enum { NOLOCK_START, NOLOCK_FETCHED };

static void nolock_step(struct fb_run *run, struct fb_task *t, struct fb_xfer_result *fetched)
{
    switch (t->pc) {
    case NOLOCK_START:
        if (run_cache_lookup(run, t)) {
            run_finish(run, t, NULL);
            return;
        }
        t->pc = NOLOCK_FETCHED;
        run_fetch(run, t);
        return;
    case NOLOCK_FETCHED:
        run_store(run, t, fetched);
        run_finish(run, t, fetched);
        return;
    }
}

const struct fb_mode mode_nolock = {
    .name = "nolock",
    .help = "no lock: every task fetches (a stampede)",
    .step = nolock_step,
};
