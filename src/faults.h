#ifndef FB_FAULTS_H
#define FB_FAULTS_H

#include <stdint.h>

/* Failures the embedded server injects (--fail-rate, --fail-first,
 * --reset-rate, --hang-rate, --jitter-ms): what a real backend does on a bad
 * day, seeded, so that every run of an invocation meets the same faults in
 * the same order (request k of a run has the same fate in every run). */
struct fb_faults {
    double fail_rate;           /* answer 503 at once */
    double reset_rate;          /* send half the body, then drop the connection */
    double hang_rate;           /* never answer: the client's timeout ends it */
    uint32_t fail_first;        /* the first N requests of each key fail (503) */
    uint32_t jitter_ms;         /* each delay drawn from [delay - J, delay + J] */
    uint64_t seed;
};

static inline int faults_active(const struct fb_faults *f)
{
    return f->fail_rate > 0 || f->reset_rate > 0 || f->hang_rate > 0 || f->fail_first > 0 || f->jitter_ms > 0;
}

#endif
