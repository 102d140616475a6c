#ifndef FB_MODE_H
#define FB_MODE_H

#include "task.h"
#include "xfer.h"

struct fb_run;

/* A protection strategy around "check the cache, fetch on a miss, store".
 * A mode is a small unit with its own state; it drives each task through
 * the run's primitives (run.h) and never touches scheduling, libcurl or the
 * recording directly. A new mode is one file and one line in mode.c.
 *
 * step() is called when a task first runs, when a wait the mode started ends
 * (run_wake), and when a fetch the mode started ends (with its result, which
 * is NULL otherwise). t->pc is the mode's to keep its place. */
struct fb_mode {
    const char *name;
    const char *help;           /* one line for --help */
    int (*setup)(struct fb_run *run);       /* 0, or -1 on out of memory */
    void (*step)(struct fb_run *run, struct fb_task *t, struct fb_xfer_result *fetched);
    void (*teardown)(struct fb_run *run);
};

/* The mode called name, or NULL. */
const struct fb_mode *mode_find(const char *name);
/* The known modes' names, "a|b|c", for messages. */
const char *mode_names(void);
/* NULL-terminated list of all modes. */
extern const struct fb_mode *const fb_modes[];

extern const struct fb_mode mode_lock;
extern const struct fb_mode mode_nolock;

#endif
