#ifndef FB_PROCSAMPLE_H
#define FB_PROCSAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct event;

/* A periodic sample of the live thread count from /proc/self/status: the way
 * thread counts are usually watched, kept beside the exact record only as a
 * cross-check (it misses the threads that live between two samples, which is
 * the point of recording them exactly). */
struct fb_procsample {
    struct event *ev;
    uint64_t t0_us;             /* samples are relative to this */
    uint64_t (*samples)[2];     /* [t_us, threads] */
    size_t n, cap;
};

/* Samples every interval_ms on base, starting now. Returns 0, or -1. */
int procsample_start(struct fb_procsample *p, struct event_base *base, uint64_t t0_us,
                     unsigned interval_ms);
/* Stops sampling; the samples stay until procsample_free. */
void procsample_stop(struct fb_procsample *p);
void procsample_free(struct fb_procsample *p);

#endif
