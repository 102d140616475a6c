#ifndef FB_THREADS_H
#define FB_THREADS_H

#include <stddef.h>
#include <stdint.h>

/* Exact thread accounting. fetchbench defines pthread_create itself, so every
 * thread a library starts in this process (libcurl's threaded resolver starts
 * one per name resolution, some living well under a millisecond) passes
 * through here: its creation and the return of its start routine are
 * recorded on the monotonic clock. No sampling, nothing missed. */

struct fb_thread_life {
    uint64_t start_us, end_us; /* absolute monotonic µs; end 0 = still alive */
    uint32_t task;             /* 1 + task id; 0 = unknown */
};

/* A change of the live thread count: at t_us, live threads became count. */
struct fb_thread_sample {
    uint64_t t_us;
    uint32_t count;
};

/* Starts recording; baseline is the number of threads alive now. */
void threads_start(uint32_t baseline);
/* Stops recording; threads created later are not counted (their ends are
 * still recorded when they were created while recording). */
void threads_stop(void);
/* Copies of what was recorded; the caller frees *lives and *samples. *failed
 * gets the creations that failed (not in lives). Returns 0, or -1 on out of
 * memory. */
int threads_snapshot(struct fb_thread_life **lives, size_t *nlives,
                     struct fb_thread_sample **samples, size_t *nsamples, uint32_t *peak,
                     size_t *failed);
/* Which task a thread is for. A library says just before it starts a
 * thread whose work it is doing (libcurl's resolver-start callback, with
 * the transfer's owner): threads_tag_owner(owner) tags the next creation
 * with the namer's name for owner (1 + task id; 0 = unknown), for one
 * creation only; threads_tag_owner(NULL) clears it (the next transfer).
 * The namer is called on the tagging thread, at once; NULL names nothing. */
typedef uint32_t fb_threads_namer(void *ctx, const void *owner);
void threads_set_namer(fb_threads_namer *namer, void *ctx);
void threads_tag_owner(const void *owner);
/* Forgets everything recorded (frees the tables). */
void threads_reset(void);
/* Threads alive in this process now, from /proc/self/status (0 if unknown). */
uint32_t threads_live_now(void);

#endif
