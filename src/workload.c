#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The arrivals' stream is seeded with seed ^ ARRIVAL_SALT, the keys' with
 * the seed itself: two independent streams, so that --rate, --duration and
 * --tasks never change which key task i asks for, and --keys or --zipf never
 * change when it arrives. */
#define ARRIVAL_SALT 0x9e3779b97f4a7c15ULL

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64 never yields four zero words in a row, so any seed, 0
 * included, gives a valid (non-zero) xoshiro state. */
void rng_seed(struct fb_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t rng_next(struct fb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_unit(struct fb_rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, range), unbiased: Lemire's multiply-shift, rejecting the
 * few low products that would favour some values (at most range/2^64 of
 * the draws, so it almost never loops). */
static uint32_t rng_below(struct fb_rng *r, uint32_t range)
{
    uint64_t m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * range;
    uint32_t low = (uint32_t)m;

    if (low < range) {
        uint32_t threshold = (uint32_t)-range % range;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * range;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Zipf by Hörmann and Derflinger's rejection-inversion ("Rejection-inversion
 * to generate variates from monotone discrete distributions", 1996), as in
 * Apache Commons RNG: O(1) memory and set-up whatever the number of keys (a
 * cumulative table would cost 8 bytes a key and a pass of pow() before the
 * first draw, and caps --keys by memory), exact up to floating point, and
 * about 1.03 uniform draws per key. The helpers keep s = 1 (where
 * (x^(1-s) - 1)/(1-s) tends to ln x) free of a division by zero.
 * Measured: 10^7 draws over 1,000 keys at s = 1 in about 0.25 s (-O2, one
 * core of the 2-core test machine); uniform draws, 0.03 s. */
struct zipf {
    double s;                   /* the exponent */
    double n;                   /* number of keys */
    double h_x1;                /* H(1.5) - 1 */
    double h_n;                 /* H(n + 0.5) */
    double accept;              /* the squeeze: k - x <= accept is always accepted */
};

/* log1p(x)/x, continuous at 0. */
static double helper1(double x)
{
    if (fabs(x) > 1e-8)
        return log1p(x) / x;
    return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x)/x, continuous at 0. */
static double helper2(double x)
{
    if (fabs(x) > 1e-8)
        return expm1(x) / x;
    return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

/* H(x) = (x^(1-s) - 1)/(1-s), an integral of h(x) = x^-s. */
static double zipf_hint(const struct zipf *z, double x)
{
    double lx = log(x);
    return helper2((1 - z->s) * lx) * lx;
}

static double zipf_h(const struct zipf *z, double x)
{
    return exp(-z->s * log(x));
}

static double zipf_hint_inv(const struct zipf *z, double x)
{
    double t = x * (1 - z->s);
    if (t < -1)                 /* only rounding gets here */
        t = -1;
    return exp(helper1(t) * x);
}

static void zipf_init(struct zipf *z, double s, uint32_t keys)
{
    z->s = s;
    z->n = keys;
    z->h_x1 = zipf_hint(z, 1.5) - 1;
    z->h_n = zipf_hint(z, z->n + 0.5);
    z->accept = 2 - zipf_hint_inv(z, zipf_hint(z, 2.5) - zipf_h(z, 2));
}

/* A key in 0..n-1, key k with probability proportional to 1/(k+1)^s. */
static uint32_t zipf_draw(const struct zipf *z, struct fb_rng *r)
{
    for (;;) {
        double u = z->h_n + rng_unit(r) * (z->h_x1 - z->h_n);
        double x = zipf_hint_inv(z, u);
        double k = floor(x + 0.5);

        if (k < 1)
            k = 1;
        else if (k > z->n)
            k = z->n;
        if (k - x <= z->accept || u >= zipf_hint(z, k + 0.5) - zipf_h(z, k))
            return (uint32_t)(k - 1);
    }
}

void workload_free(struct fb_workload *w)
{
    free(w->key);
    free(w->arrival_us);
    w->key = NULL;
    w->arrival_us = NULL;
    w->ntasks = 0;
}

static int check_opts(const struct fb_workload_opts *o, char *err, size_t errlen)
{
    if (o->keys < 1) {
        snprintf(err, errlen, "the workload needs at least one key");
        return -1;
    }
    if (!(o->zipf_s >= 0) || isinf(o->zipf_s)) {
        snprintf(err, errlen, "a Zipf exponent must be a finite number >= 0, not %g", o->zipf_s);
        return -1;
    }
    if (!(o->rate_per_s >= 0) || isinf(o->rate_per_s)) {
        snprintf(err, errlen, "a rate must be a finite number >= 0 per second, not %g", o->rate_per_s);
        return -1;
    }
    if (o->duration_us > 0 && o->rate_per_s == 0) {
        snprintf(err, errlen, "a duration needs a rate (arrivals all at once never end)");
        return -1;
    }
    return 0;
}

/* Grows both arrays to hold at least `want` tasks (doubling, capped at
 * `cap`). */
static int grow(struct fb_workload *w, size_t *have, size_t want, size_t cap)
{
    size_t n = *have ? *have : 1024;
    uint32_t *p;

    while (n < want)
        n *= 2;
    if (n > cap)
        n = cap;
    if ((p = realloc(w->key, n * sizeof *p)) == NULL)
        return -1;
    w->key = p;
    if ((p = realloc(w->arrival_us, n * sizeof *p)) == NULL)
        return -1;
    w->arrival_us = p;
    *have = n;
    return 0;
}

/* Arrivals first (their count may depend on them), then one key per
 * arrival, task 0 first, each from its own stream. Times add up in double
 * and are rounded one by one, so rounding never accumulates into drift. */
int workload_draw(struct fb_workload *w, const struct fb_workload_opts *o, char *err, size_t errlen)
{
    struct fb_rng r;
    size_t have = 0, n = 0;
    char dummy[1];
    double t = 0;

    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    memset(w, 0, sizeof *w);
    w->opts = *o;
    if (check_opts(o, err, errlen) < 0)
        goto fail;

    rng_seed(&r, o->seed ^ ARRIVAL_SALT);
    /* Without a duration the count is known; the +1 keeps the arrays
     * non-NULL (malloc(0) may return NULL) when it is 0. */
    if (o->duration_us == 0 && grow(w, &have, (size_t)o->tasks + 1, (size_t)o->tasks + 1) < 0)
        goto oom;
    for (;;) {
        uint32_t at = 0;

        if (o->duration_us == 0 && n == o->tasks)
            break;
        if (o->rate_per_s > 0) {
            double rounded;

            t += -log1p(-rng_unit(&r)) * 1e6 / o->rate_per_s;
            rounded = round(t);
            if (o->duration_us > 0 && rounded >= (double)o->duration_us)
                break;
            if (rounded > (double)UINT32_MAX) {
                snprintf(err, errlen,
                         "task %zu's planned arrival at %.0f s is beyond the %.0f s (2^32 µs) a run can plan;"
                         " raise the rate or lower the tasks",
                         n, t / 1e6, UINT32_MAX / 1e6);
                goto fail;
            }
            at = (uint32_t)rounded;
        }
        if (o->duration_us > 0 && n == o->max_tasks) {
            snprintf(err, errlen, "a duration of %g s at %g/s draws more than %u arrivals",
                     o->duration_us / 1e6, o->rate_per_s, o->max_tasks);
            goto fail;
        }
        if (n == have && grow(w, &have, n + 1, (size_t)o->max_tasks + 1) < 0)
            goto oom;
        w->arrival_us[n++] = at;
    }
    if (have == 0 && grow(w, &have, 1, 1) < 0)
        goto oom;
    w->ntasks = (uint32_t)n;

    rng_seed(&r, o->seed);
    if (o->zipf_s > 0) {
        struct zipf z;
        zipf_init(&z, o->zipf_s, o->keys);
        for (size_t i = 0; i < n; i++)
            w->key[i] = zipf_draw(&z, &r);
    } else {
        for (size_t i = 0; i < n; i++)
            w->key[i] = rng_below(&r, o->keys);
    }
    return 0;

oom:
    snprintf(err, errlen, "out of memory drawing the workload (%u tasks)", o->tasks);
    workload_free(w);
    return -2;
fail:
    workload_free(w);
    return -1;
}
