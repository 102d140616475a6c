/* The drawn workload: the same seed gives the same tasks, keys and arrivals
 * come from independent streams, and the draws follow their distributions
 * (Zipf, uniform, Poisson) within wide statistical margins. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "workload.h"

static struct fb_workload_opts opts(uint64_t seed, uint32_t keys, double zipf_s, double rate, uint32_t tasks)
{
    struct fb_workload_opts o = {
        .seed = seed, .keys = keys, .zipf_s = zipf_s, .rate_per_s = rate,
        .duration_us = 0, .tasks = tasks, .max_tasks = 10000000,
    };
    return o;
}

static void draw(struct fb_workload *w, struct fb_workload_opts o)
{
    char err[256] = "";
    cr_assert_eq(workload_draw(w, &o, err, sizeof err), 0, "workload_draw: %s", err);
}

Test(workload, rng_seed_zero_works_and_the_seed_decides_the_stream)
{
    struct fb_rng a, b, c;
    rng_seed(&a, 0);
    rng_seed(&b, 0);
    rng_seed(&c, 1);
    int zero = 0, differ = 0;
    uint64_t first = rng_next(&a);
    cr_assert_eq(first, rng_next(&b));
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_next(&a);
        cr_assert_eq(x, rng_next(&b));
        zero += x == 0;
        differ += x != rng_next(&c);
    }
    cr_assert_lt(zero, 2, "seed 0 gives a stuck (all-zero) generator");
    cr_assert_gt(differ, 990, "seeds 0 and 1 give the same stream");
}

Test(workload, rng_unit_is_in_0_1_with_53_bits)
{
    struct fb_rng r;
    rng_seed(&r, 7);
    double sum = 0;
    int fine = 0;
    for (int i = 0; i < 100000; i++) {
        double u = rng_unit(&r);
        cr_assert(u >= 0 && u < 1, "%.17g out of [0, 1)", u);
        sum += u;
        /* 53 bits: some value has bits below 2^-32 (a 32-bit draw would not). */
        fine += fmod(u * 4294967296.0, 1.0) != 0;
    }
    cr_assert(fabs(sum / 100000 - 0.5) < 0.01, "mean %g", sum / 100000);
    cr_assert_gt(fine, 99000);
}

Test(workload, the_same_seed_gives_the_same_workload_and_another_seed_another)
{
    struct fb_workload a, b, c;
    draw(&a, opts(42, 1000, 1.1, 500, 10000));
    draw(&b, opts(42, 1000, 1.1, 500, 10000));
    draw(&c, opts(43, 1000, 1.1, 500, 10000));
    cr_assert_eq(a.ntasks, 10000);
    cr_assert_eq(memcmp(a.key, b.key, 10000 * sizeof *a.key), 0);
    cr_assert_eq(memcmp(a.arrival_us, b.arrival_us, 10000 * sizeof *a.arrival_us), 0);
    int same_key = 0, same_at = 0;
    for (int i = 0; i < 10000; i++) {
        same_key += a.key[i] == c.key[i];
        same_at += a.arrival_us[i] == c.arrival_us[i];
    }
    /* Zipf(1.1) over 1000 keys: two draws agree about 13% of the time. */
    cr_assert_lt(same_key, 3000, "%d of 10000 keys equal across seeds", same_key);
    cr_assert_lt(same_at, 100, "%d of 10000 arrivals equal across seeds", same_at);
    workload_free(&a);
    workload_free(&b);
    workload_free(&c);
}

Test(workload, rate_does_not_change_the_keys_nor_keys_the_arrivals)
{
    struct fb_workload base, faster, gathered, other_keys, fewer;
    draw(&base, opts(9, 500, 0.8, 1000, 5000));
    draw(&faster, opts(9, 500, 0.8, 4000, 5000));
    draw(&gathered, opts(9, 500, 0.8, 0, 5000));
    draw(&other_keys, opts(9, 20, 0, 1000, 5000));
    draw(&fewer, opts(9, 500, 0.8, 1000, 100));
    cr_assert_eq(memcmp(base.key, faster.key, 5000 * sizeof *base.key), 0);
    cr_assert_eq(memcmp(base.key, gathered.key, 5000 * sizeof *base.key), 0);
    cr_assert_eq(memcmp(base.arrival_us, other_keys.arrival_us, 5000 * sizeof *base.arrival_us), 0);
    cr_assert_eq(memcmp(base.key, fewer.key, 100 * sizeof *base.key), 0, "fewer tasks: a prefix of the keys");
    cr_assert_eq(memcmp(base.arrival_us, fewer.arrival_us, 100 * sizeof *base.arrival_us), 0);
    /* The same uniform draws at four times the rate: a quarter of the time. */
    int off = 0;
    for (int i = 0; i < 5000; i++) {
        cr_assert_eq(gathered.arrival_us[i], 0);
        off += fabs(faster.arrival_us[i] - base.arrival_us[i] / 4.0) > 1;
    }
    cr_assert_eq(off, 0);
    workload_free(&base);
    workload_free(&faster);
    workload_free(&gathered);
    workload_free(&other_keys);
    workload_free(&fewer);
}

static double harmonic(int k, double s)
{
    double h = 0;
    for (int i = 1; i <= k; i++)
        h += pow(i, -s);
    return h;
}

Test(workload, zipf_1_over_100_keys_follows_the_harmonic_law)
{
    enum { N = 100000, K = 100 };
    static unsigned count[K];
    struct fb_workload w;
    draw(&w, opts(5, K, 1.0, 0, N));
    for (uint32_t i = 0; i < w.ntasks; i++) {
        cr_assert_lt(w.key[i], K);
        count[w.key[i]]++;
    }
    double p0 = (double)count[0] / N, want = 1 / harmonic(K, 1);
    cr_assert(fabs(p0 / want - 1) < 0.10, "key 0: %.4f of the draws, expected %.4f", p0, want);
    cr_assert(count[0] > count[1] && count[1] > count[9] && count[9] > count[99],
              "counts not decreasing: %u %u %u %u", count[0], count[1], count[9], count[99]);
    workload_free(&w);
}

/* Every key's frequency against the exact Zipf probability, within 5
 * standard deviations: catches a sampler that is close but not exact, and
 * an exponent that is ignored or misread. */
Test(workload, zipf_matches_the_exact_probabilities_for_several_exponents)
{
    enum { N = 400000, K = 12 };
    const double exps[] = {0.5, 1.0, 1.5, 3.0};
    for (int e = 0; e < 4; e++) {
        unsigned count[K] = {0};
        struct fb_workload w;
        draw(&w, opts(11 + e, K, exps[e], 0, N));
        for (uint32_t i = 0; i < w.ntasks; i++)
            count[w.key[i]]++;
        double h = harmonic(K, exps[e]);
        for (int k = 0; k < K; k++) {
            double p = pow(k + 1, -exps[e]) / h, sd = sqrt(N * p * (1 - p));
            cr_assert(fabs(count[k] - N * p) <= 5 * sd + 1,
                      "s=%g key %d: %u draws, expected %.0f +- %.0f", exps[e], k, count[k], N * p, 5 * sd);
        }
        workload_free(&w);
    }
}

Test(workload, zipf_handles_one_key_and_a_million_keys)
{
    struct fb_workload w;
    draw(&w, opts(3, 1, 1.0, 0, 1000));
    for (uint32_t i = 0; i < w.ntasks; i++)
        cr_assert_eq(w.key[i], 0);
    workload_free(&w);

    draw(&w, opts(3, 1000000, 1.0, 0, 100000));
    uint32_t hi = 0, low = 0;
    for (uint32_t i = 0; i < w.ntasks; i++) {
        cr_assert_lt(w.key[i], 1000000);
        hi = w.key[i] > hi ? w.key[i] : hi;
        low += w.key[i] == 0;
    }
    /* 1/H(10^6) = 0.0695 of the draws are key 0; the tail reaches far. */
    cr_assert(fabs(low / 100000.0 / 0.0695 - 1) < 0.1, "key 0: %u draws", low);
    cr_assert_gt(hi, 500000);
    workload_free(&w);
}

Test(workload, uniform_keys_are_within_20_percent_of_even)
{
    const uint32_t ks[] = {3, 10, 97};
    for (int j = 0; j < 3; j++) {
        uint32_t k = ks[j];
        unsigned count[97] = {0};
        struct fb_workload w;
        draw(&w, opts(21, k, 0, 0, 100000));
        for (uint32_t i = 0; i < w.ntasks; i++) {
            cr_assert_lt(w.key[i], k);
            count[w.key[i]]++;
        }
        double even = 100000.0 / k;
        for (uint32_t i = 0; i < k; i++)
            cr_assert(fabs(count[i] / even - 1) < 0.2, "K=%u key %u: %u draws, expected %.0f", k, i, count[i], even);
        workload_free(&w);
    }
}

Test(workload, poisson_arrivals_have_exponential_gaps)
{
    enum { N = 100000 };
    struct fb_workload w;
    draw(&w, opts(77, 1, 0, 1000, N));
    cr_assert_eq(w.ntasks, N);
    cr_assert_gt(w.arrival_us[0], 0, "the first arrival comes after one gap");
    double sum = 0, sq = 0, prev = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_geq(w.arrival_us[i], prev, "arrival %d goes back in time", i);
        double gap = w.arrival_us[i] - prev;
        sum += gap;
        sq += gap * gap;
        prev = w.arrival_us[i];
    }
    double mean = sum / N, sd = sqrt(sq / N - mean * mean), cv = sd / mean;
    cr_assert(fabs(mean / 1000 - 1) < 0.03, "mean gap %.1f µs", mean);
    cr_assert(cv > 0.95 && cv < 1.05, "coefficient of variation %.3f", cv);
    /* Rounded one by one, not summed rounded: no drift (the total is the
     * sum of the unrounded gaps, about N/rate seconds). */
    cr_assert(fabs(w.arrival_us[N - 1] / 1e8 - 1) < 0.03, "last arrival %u µs", w.arrival_us[N - 1]);
    workload_free(&w);
}

Test(workload, a_duration_draws_about_rate_times_duration_arrivals_before_it)
{
    for (uint64_t seed = 0; seed < 5; seed++) {
        struct fb_workload_opts o = opts(seed, 10, 0, 1000, 0);
        struct fb_workload w, longer;
        o.duration_us = 10000000;       /* 10 s at 1000/s: 10000 +- 5 * 100 */
        draw(&w, o);
        cr_assert(w.ntasks > 9500 && w.ntasks < 10500, "%u arrivals", w.ntasks);
        for (uint32_t i = 0; i < w.ntasks; i++)
            cr_assert_lt(w.arrival_us[i], o.duration_us);
        o.duration_us = 20000000;
        draw(&longer, o);
        cr_assert_gt(longer.ntasks, w.ntasks);
        cr_assert_eq(memcmp(w.arrival_us, longer.arrival_us, w.ntasks * sizeof *w.arrival_us), 0);
        cr_assert_eq(memcmp(w.key, longer.key, w.ntasks * sizeof *w.key), 0);
        workload_free(&w);
        workload_free(&longer);
    }
}

Test(workload, a_short_duration_may_draw_no_arrival)
{
    struct fb_workload_opts o = opts(1, 10, 0, 0.001, 0);
    struct fb_workload w;
    o.duration_us = 1;
    draw(&w, o);
    cr_assert_eq(w.ntasks, 0);
    cr_assert_not_null(w.key, "arrays stay valid pointers");
    cr_assert_not_null(w.arrival_us);
    workload_free(&w);
}

Test(workload, a_duration_beyond_max_tasks_is_an_error)
{
    struct fb_workload_opts o = opts(1, 10, 0, 1000, 0);
    struct fb_workload w;
    char err[256] = "";
    o.duration_us = 60000000;
    o.max_tasks = 50000;
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    cr_assert_str_eq(err, "a duration of 60 s at 1000/s draws more than 50000 arrivals");
    cr_assert_null(w.key, "freed on error");
    cr_assert_null(w.arrival_us);
    cr_assert_eq(w.ntasks, 0);
    workload_free(&w);
    /* Just within: max_tasks arrivals are fine. */
    o.max_tasks = 70000;
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), 0, "%s", err);
    cr_assert_leq(w.ntasks, 70000);
    workload_free(&w);
}

Test(workload, an_arrival_beyond_2_to_the_32_microseconds_is_an_error)
{
    /* 0.001/s: gaps of 1000 s on average; 10 tasks reach past 4295 s. */
    struct fb_workload_opts o = opts(1, 10, 0, 0.001, 10);
    struct fb_workload w;
    char err[256] = "";
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "beyond"), "%s", err);
    cr_assert_not_null(strstr(err, "2^32"), "%s", err);
    cr_assert_null(w.key);
    cr_assert_eq(w.ntasks, 0);
    /* A duration past 2^32 µs is not itself the error; an arrival is. */
    o.tasks = 0;
    o.duration_us = 10000000000ULL;
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "2^32"), "%s", err);
    workload_free(&w);
}

Test(workload, bad_options_are_errors_not_crashes)
{
    struct fb_workload w;
    char err[256];
    struct fb_workload_opts o = opts(1, 0, 0, 0, 10);
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "key"), "%s", err);
    o = opts(1, 10, -1, 0, 10);
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    o = opts(1, 10, NAN, 0, 10);
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    o = opts(1, 10, 0, -5, 10);
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    o = opts(1, 10, 0, INFINITY, 10);
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    o = opts(1, 10, 0, 0, 10);
    o.duration_us = 1000;
    cr_assert_eq(workload_draw(&w, &o, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "rate"), "%s", err);
    cr_assert_eq(workload_draw(&w, &o, NULL, 0), -1, "no room for the reason is fine");
    workload_free(&w);
}

Test(workload, free_is_safe_on_a_zeroed_or_freed_workload)
{
    struct fb_workload w;
    memset(&w, 0, sizeof w);
    workload_free(&w);
    draw(&w, opts(1, 10, 0, 0, 0));
    cr_assert_eq(w.ntasks, 0);
    workload_free(&w);
    workload_free(&w);
    cr_assert_null(w.key);
}
