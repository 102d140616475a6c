/* The server's fault decisions without a server: the fates' shares, the
 * first-N failures per key, the seed's replay, the jitter's bounds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "faults.h"

#define DRAWS 100000

/* Decides n requests for key "k" with delay 100 and counts each fate. */
static void count_fates(const struct fb_faults *f, int n, int counts[4])
{
    struct fb_fault_plan p;

    memset(counts, 0, 4 * sizeof counts[0]);
    faults_plan_init(&p, f);
    for (int i = 0; i < n; i++) {
        enum fb_fate fate;
        unsigned delay;
        cr_assert_eq(faults_decide(&p, "k", 1, 100, &fate, &delay), 0);
        cr_assert(fate >= FATE_OK && fate <= FATE_HANG);
        counts[fate]++;
    }
    faults_plan_free(&p);
}

Test(faults, shares_follow_the_rates)
{
    const struct fb_faults f = { .fail_rate = 0.2, .reset_rate = 0.1, .hang_rate = 0.3, .seed = 7 };
    int c[4];

    count_fates(&f, DRAWS, c);
    /* Expected 20%, 10%, 30%, 40%; a few standard deviations are ~0.5%. */
    cr_expect(c[FATE_FAIL] > DRAWS * 0.18 && c[FATE_FAIL] < DRAWS * 0.22, "fail %d", c[FATE_FAIL]);
    cr_expect(c[FATE_RESET] > DRAWS * 0.08 && c[FATE_RESET] < DRAWS * 0.12, "reset %d", c[FATE_RESET]);
    cr_expect(c[FATE_HANG] > DRAWS * 0.28 && c[FATE_HANG] < DRAWS * 0.32, "hang %d", c[FATE_HANG]);
    cr_expect(c[FATE_OK] > DRAWS * 0.38 && c[FATE_OK] < DRAWS * 0.42, "ok %d", c[FATE_OK]);
}

Test(faults, rates_zero_always_ok_and_delay_kept)
{
    const struct fb_faults f = { .seed = 3 };
    struct fb_fault_plan p;

    faults_plan_init(&p, &f);
    for (int i = 0; i < DRAWS; i++) {
        enum fb_fate fate = FATE_HANG;
        unsigned delay = 0;
        cr_assert_eq(faults_decide(&p, "k", 1, 250, &fate, &delay), 0);
        cr_assert_eq(fate, FATE_OK);
        cr_assert_eq(delay, 250);
    }
    faults_plan_free(&p);
    /* NULL: no faults at all. */
    faults_plan_init(&p, NULL);
    enum fb_fate fate;
    unsigned delay;
    cr_assert_eq(faults_decide(&p, "k", 1, 5, &fate, &delay), 0);
    cr_expect_eq(fate, FATE_OK);
    cr_expect_eq(delay, 5);
    faults_plan_free(&p);
}

Test(faults, rate_one_is_every_request)
{
    const struct fb_faults fail = { .fail_rate = 1 }, reset = { .reset_rate = 1 }, hang = { .hang_rate = 1 };
    int c[4];

    count_fates(&fail, 1000, c);
    cr_expect_eq(c[FATE_FAIL], 1000);
    count_fates(&reset, 1000, c);
    cr_expect_eq(c[FATE_RESET], 1000);
    count_fates(&hang, 1000, c);
    cr_expect_eq(c[FATE_HANG], 1000);
}

Test(faults, fail_first_per_key)
{
    const struct fb_faults f = { .fail_first = 2, .seed = 1 };
    struct fb_fault_plan p;
    /* Interleaved keys, one of them empty and one with a NUL inside: each
     * has its own count. */
    static const struct { const char *key; size_t len; enum fb_fate want; } seq[] = {
        { "a", 1, FATE_FAIL }, { "b", 1, FATE_FAIL }, { "a", 1, FATE_FAIL },
        { "a", 1, FATE_OK },   { "", 0, FATE_FAIL },  { "b", 1, FATE_FAIL },
        { "b", 1, FATE_OK },   { "a\0x", 3, FATE_FAIL }, { "ab", 2, FATE_FAIL },
        { "", 0, FATE_FAIL },  { "", 0, FATE_OK },    { "a", 1, FATE_OK },
    };

    faults_plan_init(&p, &f);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        enum fb_fate fate;
        unsigned delay;
        cr_assert_eq(faults_decide(&p, seq[i].key, seq[i].len, 10, &fate, &delay), 0);
        cr_expect_eq(fate, seq[i].want, "request %zu (key '%.*s'): %s", i, (int)seq[i].len,
                     seq[i].key, faults_fate_name(fate));
    }
    faults_plan_free(&p);
}

Test(faults, fail_first_many_keys_grow_the_table)
{
    const struct fb_faults f = { .fail_first = 1 };
    struct fb_fault_plan p;
    char key[32];
    enum fb_fate fate;
    unsigned delay;

    faults_plan_init(&p, &f);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 5000; i++) {
            int n = snprintf(key, sizeof key, "key-%d", i);
            cr_assert_eq(faults_decide(&p, key, (size_t)n, 0, &fate, &delay), 0);
            cr_assert_eq(fate, round == 0 ? FATE_FAIL : FATE_OK, "round %d key %d", round, i);
        }
    cr_expect_eq(p.nkeys, 5000);
    faults_plan_free(&p);
}

/* Writes n fates and delays of a plan seeded with seed. */
static void sequence(uint64_t seed, int n, enum fb_fate *fates, unsigned *delays)
{
    const struct fb_faults f = { .fail_rate = 0.25, .reset_rate = 0.25, .hang_rate = 0.25,
                                 .jitter_ms = 50, .seed = seed };
    struct fb_fault_plan p;

    faults_plan_init(&p, &f);
    for (int i = 0; i < n; i++)
        cr_assert_eq(faults_decide(&p, "k", 1, 100, &fates[i], &delays[i]), 0);
    faults_plan_free(&p);
}

Test(faults, same_seed_same_sequence)
{
    enum fb_fate a[500], b[500], c[500];
    unsigned da[500], db[500], dc[500];

    sequence(42, 500, a, da);
    sequence(42, 500, b, db);
    sequence(43, 500, c, dc);
    cr_expect(memcmp(a, b, sizeof a) == 0, "same seed, different fates");
    cr_expect(memcmp(da, db, sizeof da) == 0, "same seed, different delays");
    cr_expect(memcmp(a, c, sizeof a) != 0, "another seed, the same fates");
    cr_expect(memcmp(da, dc, sizeof da) != 0, "another seed, the same delays");
}

Test(faults, jitter_bounds_and_spread)
{
    const struct fb_faults f = { .jitter_ms = 30, .seed = 9 };
    struct fb_fault_plan p;
    unsigned lo = ~0u, hi = 0, below = 0;

    faults_plan_init(&p, &f);
    for (int i = 0; i < DRAWS; i++) {
        enum fb_fate fate;
        unsigned delay;
        cr_assert_eq(faults_decide(&p, "k", 1, 100, &fate, &delay), 0);
        cr_assert(delay >= 70 && delay <= 130, "delay %u outside [70, 130]", delay);
        lo = delay < lo ? delay : lo;
        hi = delay > hi ? delay : hi;
        below += delay < 100;
    }
    /* Both ends are reached, and about 30/61 of the draws fall below 100. */
    cr_expect_eq(lo, 70);
    cr_expect_eq(hi, 130);
    cr_expect(below > DRAWS * 0.45 && below < DRAWS * 0.53, "below %u", below);
    /* A delay shorter than the jitter is clamped at 0, never wraps. */
    for (int i = 0; i < 1000; i++) {
        enum fb_fate fate;
        unsigned delay;
        cr_assert_eq(faults_decide(&p, "k", 1, 10, &fate, &delay), 0);
        cr_assert(delay <= 40, "delay %u outside [0, 40]", delay);
    }
    faults_plan_free(&p);
}

Test(faults, jitter_at_the_ends_of_unsigned)
{
    const struct fb_faults f = { .jitter_ms = 600000, .seed = 5 };
    struct fb_fault_plan p;

    faults_plan_init(&p, &f);
    for (int i = 0; i < 1000; i++) {
        enum fb_fate fate;
        unsigned delay;
        cr_assert_eq(faults_decide(&p, "k", 1, ~0u - 5, &fate, &delay), 0);
        cr_assert(delay >= ~0u - 5 - 600000u, "delay %u", delay);
    }
    faults_plan_free(&p);
}

Test(faults, fate_names)
{
    cr_expect_str_eq(faults_fate_name(FATE_OK), "ok");
    cr_expect_str_eq(faults_fate_name(FATE_FAIL), "fail");
    cr_expect_str_eq(faults_fate_name(FATE_RESET), "reset");
    cr_expect_str_eq(faults_fate_name(FATE_HANG), "hang");
}
