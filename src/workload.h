#ifndef FB_WORKLOAD_H
#define FB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* What the tasks ask for and when, drawn before the run from one seed, so
 * that every run of an invocation (each --mode, each --repeat) sees the same
 * keys in the same order at the same planned times.
 *
 * Keys are 0..keys-1, uniform or Zipf(s) (key k drawn with probability
 * proportional to 1/(k+1)^s, so key 0 is the hottest). Arrivals are all at
 * t0 (asyncio.gather), or a Poisson process at rate_per_s: exponential gaps
 * with mean 1/rate, the first arrival after one gap. With duration_us the
 * arrivals are those that fall before it; otherwise there are `tasks`. */
struct fb_workload_opts {
    uint64_t seed;
    uint32_t keys;              /* >= 1 */
    double zipf_s;              /* 0 = uniform */
    double rate_per_s;          /* 0 = all at once */
    uint64_t duration_us;       /* 0 = `tasks` arrivals; needs rate_per_s */
    uint32_t tasks;             /* arrivals when duration_us is 0 */
    uint32_t max_tasks;         /* a duration's draw stops (error) beyond this */
};

/* A small, fast, seedable generator (xoshiro256** seeded by splitmix64):
 * the workload's and each strategy's randomness. */
struct fb_rng {
    uint64_t s[4];
};

void rng_seed(struct fb_rng *r, uint64_t seed);
uint64_t rng_next(struct fb_rng *r);
/* Uniform in [0, 1), 53 bits. */
double rng_unit(struct fb_rng *r);

/* The drawn workload: key and planned arrival (µs from t0) of each task, in
 * arrival order. */
struct fb_workload {
    struct fb_workload_opts opts;
    uint32_t ntasks;
    uint32_t *key;              /* [ntasks] */
    uint32_t *arrival_us;       /* [ntasks], non-decreasing */
};

/* Draws the workload. Returns 0; -1 with a one-line reason in err for
 * options that cannot be drawn (a duration that draws more than max_tasks
 * arrivals, a planned arrival beyond UINT32_MAX µs); -2 out of memory.
 * workload_free in every case. */
int workload_draw(struct fb_workload *w, const struct fb_workload_opts *o, char *err, size_t errlen);
void workload_free(struct fb_workload *w);

#endif
