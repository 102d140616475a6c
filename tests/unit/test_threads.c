/* The pthread_create interposition records real threads exactly. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "threads.h"

static void *short_lived(void *arg)
{
    return arg;
}

static void *sleeper(void *arg)
{
    nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
    return arg;
}

static void *exits_early(void *arg)
{
    pthread_exit(arg);
}

static void fini(void)
{
    threads_reset();
}

TestSuite(threads, .fini = fini);

Test(threads, every_thread_is_recorded_with_start_and_end)
{
    pthread_t th[8];
    struct fb_thread_life *lives;
    struct fb_thread_sample *samples;
    size_t nlives, nsamples, failed;
    uint32_t peak;

    threads_start(1);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, i % 2 ? short_lived : exits_early, NULL), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    threads_stop();

    cr_assert_eq(threads_snapshot(&lives, &nlives, &samples, &nsamples, &peak, &failed), 0);
    cr_assert_eq(nlives, 8);
    for (size_t i = 0; i < nlives; i++) {
        cr_assert_neq(lives[i].end_us, 0, "thread %zu has no end (pthread_exit missed?)", i);
        cr_assert_geq(lives[i].end_us, lives[i].start_us);
    }
    /* One sample to open, then one per start and one per end, in time order,
     * returning to the baseline. */
    cr_assert_eq(nsamples, 1 + 16);
    cr_assert_eq(samples[0].count, 1);
    cr_assert_eq(samples[nsamples - 1].count, 1);
    for (size_t i = 1; i < nsamples; i++)
        cr_assert_geq(samples[i].t_us, samples[i - 1].t_us);
    free(lives);
    free(samples);
}

Test(threads, peak_counts_threads_alive_together)
{
    pthread_t th[5];
    struct fb_thread_life *lives;
    struct fb_thread_sample *samples;
    size_t nlives, nsamples, failed;
    uint32_t peak;

    threads_start(1);
    for (int i = 0; i < 5; i++)
        pthread_create(&th[i], NULL, sleeper, NULL);
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    threads_stop();
    cr_assert_eq(threads_snapshot(&lives, &nlives, &samples, &nsamples, &peak, &failed), 0);
    cr_assert_eq(peak, 6, "five sleepers alive at once plus the main thread");
    free(lives);
    free(samples);
}

Test(threads, nothing_is_recorded_outside_a_recording)
{
    pthread_t th;
    struct fb_thread_life *lives;
    struct fb_thread_sample *samples;
    size_t nlives, nsamples, failed;
    uint32_t peak;

    pthread_create(&th, NULL, short_lived, NULL);
    pthread_join(th, NULL);
    cr_assert_eq(threads_snapshot(&lives, &nlives, &samples, &nsamples, &peak, &failed), 0);
    cr_assert_eq(nlives, 0);
    free(lives);
    free(samples);
}

/* A creation that fails started no thread: it is counted apart, never as a
 * thread created (with a zero-length life, as it once was). */
Test(threads, a_failed_creation_is_not_a_thread)
{
    pthread_t th;
    pthread_attr_t attr;
    struct fb_thread_life *lives;
    struct fb_thread_sample *samples;
    size_t nlives, nsamples, failed;
    uint32_t peak;

    pthread_attr_init(&attr);
    /* No machine maps a 64 TiB stack. */
    cr_assert_eq(pthread_attr_setstacksize(&attr, (size_t)1 << 46), 0);
    threads_start(1);
    cr_assert_neq(pthread_create(&th, &attr, short_lived, NULL), 0);
    cr_assert_neq(pthread_create(&th, &attr, short_lived, NULL), 0);
    threads_stop();
    pthread_attr_destroy(&attr);
    cr_assert_eq(threads_snapshot(&lives, &nlives, &samples, &nsamples, &peak, &failed), 0);
    cr_assert_eq(nlives, 0, "no thread ran");
    cr_assert_eq(failed, 2);
    cr_assert_eq(peak, 1, "a thread that never ran was never alive");
    cr_assert_eq(nsamples, 1, "nor did it change the live count");
    cr_assert_eq(samples[nsamples - 1].count, 1);
    free(lives);
    free(samples);
}

/* The run's namer: an owner is a pointer into an array of 4; its name is
 * its index + 1. */
static char owners[4];

static uint32_t name_owner(void *ctx, const void *owner)
{
    const char *o = owner;
    return o >= (const char *)ctx && o < (const char *)ctx + 4 ? (uint32_t)(o - (const char *)ctx) + 1 : 0;
}

Test(threads, a_tag_names_the_next_creation_only)
{
    pthread_t th[4];
    struct fb_thread_life *lives;
    struct fb_thread_sample *samples;
    size_t nlives, nsamples, failed;
    uint32_t peak;

    threads_set_namer(name_owner, owners);
    threads_start(1);
    threads_tag_owner(&owners[2]);
    cr_assert_eq(pthread_create(&th[0], NULL, short_lived, NULL), 0);  /* task 2's */
    cr_assert_eq(pthread_create(&th[1], NULL, short_lived, NULL), 0);  /* the tag is used up */
    threads_tag_owner(&owners[0]);
    threads_tag_owner(NULL);                                           /* cleared */
    cr_assert_eq(pthread_create(&th[2], NULL, short_lived, NULL), 0);
    threads_tag_owner(&owners[1]);
    threads_tag_owner(&owners[3]);                                     /* replaced */
    cr_assert_eq(pthread_create(&th[3], NULL, short_lived, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    threads_stop();
    threads_set_namer(NULL, NULL);

    cr_assert_eq(threads_snapshot(&lives, &nlives, &samples, &nsamples, &peak, &failed), 0);
    cr_assert_eq(nlives, 4);
    cr_assert_eq(lives[0].task, 3);
    cr_assert_eq(lives[1].task, 0);
    cr_assert_eq(lives[2].task, 0);
    cr_assert_eq(lives[3].task, 4);
    free(lives);
    free(samples);
}
