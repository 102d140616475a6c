/* Percentiles by selection against a full sort, and the load over time
 * against hand-made logs and a moment-by-moment count. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The nearest rank the slow way: the smallest r with r/n >= p/100. */
static uint64_t by_sort(const uint32_t *sorted, size_t n, unsigned thousandths)
{
    size_t r = 1;
    while ((uint64_t)r * 1000 < (uint64_t)n * thousandths)
        r++;
    return sorted[r - 1];
}

static uint32_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*x >> 33);
}

enum shape { RANDOM, FEW_VALUES, SORTED, REVERSED, EQUAL, ORGAN_PIPE, SAWTOOTH, NSHAPES };

static void fill(uint32_t *v, size_t n, enum shape s, uint64_t *x)
{
    for (size_t i = 0; i < n; i++) {
        switch (s) {
        case RANDOM: v[i] = lcg(x); break;
        case FEW_VALUES: v[i] = lcg(x) % 5; break;
        case SORTED: v[i] = (uint32_t)i; break;
        case REVERSED: v[i] = (uint32_t)(n - i); break;
        case EQUAL: v[i] = 4601500; break;
        case ORGAN_PIPE: v[i] = (uint32_t)(i < n / 2 ? i : n - i); break;
        case SAWTOOTH: v[i] = (uint32_t)(i % 17); break;
        default: break;
        }
    }
}

static void check_against_sort(uint32_t *v, size_t n, const char *what)
{
    uint32_t *sorted = malloc(n * sizeof *sorted);
    struct fb_percentiles p;
    uint64_t sum = 0;

    cr_assert_not_null(sorted);
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    cr_assert_eq(stats_percentiles(v, n, &p), 0);
    cr_assert_eq(p.p50, by_sort(sorted, n, 500), "%s n=%zu p50", what, n);
    cr_assert_eq(p.p90, by_sort(sorted, n, 900), "%s n=%zu p90", what, n);
    cr_assert_eq(p.p99, by_sort(sorted, n, 990), "%s n=%zu p99", what, n);
    cr_assert_eq(p.p99_9, by_sort(sorted, n, 999), "%s n=%zu p99.9", what, n);
    cr_assert_eq(p.max, sorted[n - 1], "%s n=%zu max", what, n);
    cr_assert_eq(p.mean, sum / n, "%s n=%zu mean", what, n);
    /* Reordered, not altered. */
    qsort(v, n, sizeof *v, cmp_u32);
    cr_assert_eq(memcmp(v, sorted, n * sizeof *v), 0, "%s n=%zu values changed", what, n);
    free(sorted);
}

Test(stats, percentiles_match_a_sort_for_many_sizes_and_shapes)
{
    static const char *names[] = {"random", "few values", "sorted", "reversed", "equal", "organ pipe", "sawtooth"};
    const size_t sizes[] = {1, 2, 3, 4, 5, 7, 10, 16, 17, 18, 33, 100, 101, 511, 512, 513,
                            999, 1000, 1001, 1999, 2000, 2001, 4097, 10007, 65536, 100003};
    uint64_t x = 12345;
    static uint32_t v[100003];

    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int s = 0; s < NSHAPES; s++)
            for (int rep = 0; rep < (s == RANDOM || s == FEW_VALUES ? 5 : 1); rep++) {
                fill(v, sizes[i], (enum shape)s, &x);
                check_against_sort(v, sizes[i], names[s]);
            }
}

Test(stats, nearest_rank_by_hand)
{
    uint32_t v[1001];
    struct fb_percentiles p;

    for (int i = 0; i < 10; i++)
        v[i] = (uint32_t)(10 - i);
    cr_assert_eq(stats_percentiles(v, 10, &p), 0);
    cr_assert_eq(p.p50, 5);     /* rank 5 of 1..10 */
    cr_assert_eq(p.p90, 9);     /* rank 9 */
    cr_assert_eq(p.p99, 10);    /* rank ceil(9.9) = 10 */
    cr_assert_eq(p.p99_9, 10);
    cr_assert_eq(p.max, 10);
    cr_assert_eq(p.mean, 5);    /* 55 / 10 rounded down */

    for (int i = 0; i < 1000; i++)
        v[i] = (uint32_t)(1000 - i);
    cr_assert_eq(stats_percentiles(v, 1000, &p), 0);
    cr_assert_eq(p.p50, 500);
    cr_assert_eq(p.p90, 900);
    cr_assert_eq(p.p99, 990);
    cr_assert_eq(p.p99_9, 999);
    cr_assert_eq(p.max, 1000);

    for (int i = 0; i < 1001; i++)
        v[i] = (uint32_t)(i + 1);
    cr_assert_eq(stats_percentiles(v, 1001, &p), 0);
    cr_assert_eq(p.p50, 501);   /* ceil(500.5) */
    cr_assert_eq(p.p90, 901);   /* ceil(900.9) */
    cr_assert_eq(p.p99, 991);   /* ceil(990.99) */
    cr_assert_eq(p.p99_9, 1000); /* ceil(999.999) */
    cr_assert_eq(p.max, 1001);
    cr_assert_eq(p.mean, 501);

    v[0] = UINT32_MAX;
    v[1] = UINT32_MAX;
    cr_assert_eq(stats_percentiles(v, 2, &p), 0);
    cr_assert_eq(p.mean, UINT32_MAX, "the sum is 64-bit");
    cr_assert_eq(p.p50, UINT32_MAX);
}

Test(stats, no_values_is_an_error_with_zeroes)
{
    struct fb_percentiles p;
    memset(&p, 0xff, sizeof p);
    cr_assert_eq(stats_percentiles(NULL, 0, &p), -1);
    cr_assert_eq(p.p50 | p.p90 | p.p99 | p.p99_9 | p.max | p.mean, 0);
}

/* A million sorted, reversed or equal values finish at selection speed (an
 * O(n^2) pass would take minutes, and the test runner's timeout catches
 * that; no timing is asserted). */
Test(stats, a_million_sorted_reversed_or_equal_values, .timeout = 60)
{
    enum { N = 1000000 };
    uint32_t *v = malloc(N * sizeof *v);
    struct fb_percentiles p;
    uint64_t x = 1;

    cr_assert_not_null(v);
    fill(v, N, SORTED, &x);
    cr_assert_eq(stats_percentiles(v, N, &p), 0);
    cr_assert_eq(p.p50, 499999);
    cr_assert_eq(p.p99_9, 998999);
    fill(v, N, REVERSED, &x);
    cr_assert_eq(stats_percentiles(v, N, &p), 0);
    cr_assert_eq(p.p50, 500000);
    cr_assert_eq(p.max, N);
    fill(v, N, EQUAL, &x);
    cr_assert_eq(stats_percentiles(v, N, &p), 0);
    cr_assert_eq(p.p50, 4601500);
    cr_assert_eq(p.p99_9, 4601500);
    cr_assert_eq(p.mean, 4601500);
    free(v);
}

Test(stats, load_interval_is_1_2_or_5_times_a_power_of_ten)
{
    cr_assert_eq(stats_load_interval(0), 1000, "at least 1 ms");
    cr_assert_eq(stats_load_interval(1), 1000);
    cr_assert_eq(stats_load_interval(200000), 1000);
    cr_assert_eq(stats_load_interval(200001), 2000);
    cr_assert_eq(stats_load_interval(1000000), 5000);
    cr_assert_eq(stats_load_interval(1000001), 10000);
    cr_assert_eq(stats_load_interval(4601500), 50000);
    cr_assert_eq(stats_load_interval(60000000), 500000);
    uint64_t x = 99;
    for (int i = 0; i < 100000; i++) {
        uint64_t wall = i < 50000 ? (uint64_t)lcg(&x) : ((uint64_t)lcg(&x) << 32 | lcg(&x)) >> (lcg(&x) % 40);
        uint64_t iv = stats_load_interval(wall), m = iv;
        while (m % 10 == 0)
            m /= 10;
        cr_assert(m == 1 || m == 2 || m == 5, "%lu for %lu", (unsigned long)iv, (unsigned long)wall);
        cr_assert_geq(iv, 1000);
        uint64_t points = wall / iv + (wall % iv != 0);
        cr_assert_leq(points, 200, "%lu points of %lu µs for %lu", (unsigned long)points, (unsigned long)iv,
                      (unsigned long)wall);
        /* The smallest such interval: the next one down gives too many. */
        uint64_t down = m == 1 ? iv / 2 : m == 2 ? iv / 2 : iv * 2 / 5;
        if (iv > 1000)
            cr_assert_gt(wall / down + (wall % down != 0), 200, "%lu for %lu", (unsigned long)iv,
                         (unsigned long)wall);
    }
    cr_assert_leq(UINT64_MAX / stats_load_interval(UINT64_MAX), 200);
}

/* 100 ms: 100 intervals of 1 ms. */
static const uint32_t expected_hand[100] = {
    [1] = 1, [2] = 1, [3] = 1, [4] = 1,                 /* one in service 1500..4200 */
    [10] = 2, [11] = 2, [12] = 2,                       /* 10100..12800 and 10500..12300 */
    [20] = 1,                                           /* 20100..20900 */
    [30] = 1, [31] = 1,                                 /* 30000..31000, then 31000..32000 */
    [99] = 3,                                           /* three from 150000 on: past the end */
};

static void assert_hand(const struct fb_load *l)
{
    cr_assert_eq(l->interval_us, 1000);
    cr_assert_eq(l->n, 100);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(l->max_in_service[i], expected_hand[i], "interval %d: %u, expected %u", i,
                     l->max_in_service[i], expected_hand[i]);
}

Test(stats, load_from_a_hand_made_step_log)
{
    static const int64_t log[][2] = {
        {1500, 1}, {4200, 0},
        {10100, 1}, {10500, 2}, {12300, 1}, {12800, 0},
        {20100, 1}, {20900, 0},
        {30000, 1}, {31000, 0}, {31000, 1}, {32000, 0},
        {40500, 1}, {40500, 0},
        {150000, 3},
    };
    struct fb_load l;

    cr_assert_eq(stats_load_from_steps(&l, log, sizeof log / sizeof *log, 100000), 0);
    /* The step log saw the request at 40500 for an instant: in service. */
    cr_assert_eq(l.max_in_service[40], 1);
    l.max_in_service[40] = 0;
    assert_hand(&l);
    stats_load_free(&l);
    stats_load_free(&l);
}

Test(stats, load_from_spans_matches_the_step_log)
{
    /* The same fetches as the step log, out of order; the one of zero
     * length is in service at no moment. */
    uint32_t start[] = {20100, 150000, 10500, 31000, 1500, 150000, 40500, 10100, 30000, 150000};
    uint32_t end[] = {20900, 160000, 12300, 32000, 4200, 170000, 40500, 12800, 31000, 155000};
    struct fb_load l;

    cr_assert_eq(stats_load_from_spans(&l, start, end, 10, 100000), 0);
    assert_hand(&l);
    for (int i = 1; i < 10; i++) {
        cr_assert_leq(start[i - 1], start[i], "starts sorted in place");
        cr_assert_leq(end[i - 1], end[i], "ends sorted in place");
    }
    stats_load_free(&l);
}

Test(stats, load_without_events_and_a_partial_last_interval)
{
    struct fb_load l;
    cr_assert_eq(stats_load_from_spans(&l, NULL, NULL, 0, 100500), 0);
    cr_assert_eq(l.n, 101, "the last interval ends at wall_us");
    for (size_t i = 0; i < l.n; i++)
        cr_assert_eq(l.max_in_service[i], 0);
    stats_load_free(&l);

    cr_assert_eq(stats_load_from_steps(&l, NULL, 0, 0), 0);
    cr_assert_eq(l.n, 1, "at least one interval");
    cr_assert_eq(l.max_in_service[0], 0);
    stats_load_free(&l);

    /* A step before t0 holds from t0; one still in service at the end
     * fills every later interval. */
    static const int64_t log[][2] = {{-20, 2}, {2500, 1}};
    cr_assert_eq(stats_load_from_steps(&l, log, 2, 5000), 0);
    cr_assert_eq(l.n, 5);
    cr_assert_eq(l.max_in_service[0], 2);
    cr_assert_eq(l.max_in_service[2], 2);
    cr_assert_eq(l.max_in_service[3], 1);
    cr_assert_eq(l.max_in_service[4], 1);
    stats_load_free(&l);
}

/* Random spans against counting, microsecond by microsecond, which spans
 * hold that moment. */
Test(stats, load_from_random_spans_matches_a_moment_by_moment_count)
{
    enum { N = 300, WALL = 60000 };
    uint32_t start[N], end[N], s0[N], e0[N];
    uint64_t x = 4242;
    static uint32_t want[WALL / 1000];

    for (int rep = 0; rep < 5; rep++) {
        for (int i = 0; i < N; i++) {
            s0[i] = start[i] = lcg(&x) % (WALL + 5000);
            e0[i] = end[i] = start[i] + lcg(&x) % (rep < 4 ? 3000 : 10);
        }
        memset(want, 0, sizeof want);
        for (uint32_t t = 0; t < WALL + 20000; t++) {
            uint32_t in = 0;
            for (int i = 0; i < N; i++)
                in += s0[i] <= t && t < e0[i];
            uint32_t k = t / 1000 < WALL / 1000 ? t / 1000 : WALL / 1000 - 1;
            if (in > want[k])
                want[k] = in;
        }
        struct fb_load l;
        cr_assert_eq(stats_load_from_spans(&l, start, end, N, WALL), 0);
        cr_assert_eq(l.n, WALL / 1000);
        for (size_t i = 0; i < l.n; i++)
            cr_assert_eq(l.max_in_service[i], want[i], "rep %d interval %zu: %u, expected %u", rep, i,
                         l.max_in_service[i], want[i]);
        stats_load_free(&l);
    }
}
