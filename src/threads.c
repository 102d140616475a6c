#include "threads.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

typedef int pthread_create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* Thread starts and ends arrive from any thread, so the tables sit behind one
 * mutex. Creation is rare next to everything else (one per name resolution),
 * so contention is not a concern; the log of changes is appended under the
 * same mutex and is therefore already in time order. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Serialises creations (see pthread_create); never taken with mu held. */
static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;
static int recording;
static uint32_t live, peak;
static size_t failed;           /* pthread_create calls that started nothing */
static struct fb_thread_life *lives;
static size_t nlives, caplives;
static struct fb_thread_sample *log_;
static size_t nlog, caplog;
/* Bumped by threads_reset, so a thread that outlives one run cannot mark a
 * slot of the next. */
static uint32_t generation;
/* The next creation's task (1 + id; 0 = unknown), and who names owners. */
static uint32_t tag;
static fb_threads_namer *namer;
static void *namer_ctx;

struct trampoline {
    void *(*fn)(void *);
    void *arg;
    size_t slot;        /* index in lives, or SIZE_MAX when not recorded */
    uint32_t generation;
};

static int log_change(uint64_t now)
{
    if (nlog == caplog) {
        size_t cap = caplog ? caplog * 2 : 64;
        struct fb_thread_sample *p = realloc(log_, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        log_ = p;
        caplog = cap;
    }
    log_[nlog].t_us = now;
    log_[nlog].count = live;
    nlog++;
    return 0;
}

static size_t record_start(uint32_t *gen, uint32_t *peak_before, size_t *log_at)
{
    size_t slot = SIZE_MAX;

    pthread_mutex_lock(&mu);
    *gen = generation;
    *peak_before = peak;
    if (!recording)
        goto out;
    if (nlives == caplives) {
        size_t cap = caplives ? caplives * 2 : 64;
        struct fb_thread_life *p = realloc(lives, cap * sizeof(*p));
        if (p == NULL)
            goto out;
        lives = p;
        caplives = cap;
    }
    uint64_t now = clock_now_us();
    slot = nlives++;
    lives[slot].start_us = now;
    lives[slot].end_us = 0;
    lives[slot].task = tag;
    tag = 0; /* one creation per tag: the resolver starts one thread */
    if (++live > peak)
        peak = live;
    *log_at = log_change(now) == 0 ? nlog - 1 : SIZE_MAX;
out:
    pthread_mutex_unlock(&mu);
    return slot;
}

/* A creation that failed: its slot is taken back, so threads_created counts
 * only threads that ran, and the failure is counted apart. */
static void record_failure(size_t slot, uint32_t gen, uint32_t peak_before, size_t log_at)
{
    pthread_mutex_lock(&mu);
    if (gen == generation && slot == nlives - 1) {
        nlives--;
        live--;
        peak = peak_before;
        failed++;
        /* The count never really rose: its sample goes, unless a thread
         * ended meanwhile and logged after it. */
        if (log_at != SIZE_MAX && log_at == nlog - 1)
            nlog--;
        else if (recording)
            (void)log_change(clock_now_us());
    }
    pthread_mutex_unlock(&mu);
}

static void record_end(size_t slot, uint32_t gen)
{
    pthread_mutex_lock(&mu);
    if (gen == generation && slot < nlives && lives[slot].end_us == 0) {
        uint64_t now = clock_now_us();
        lives[slot].end_us = now;
        live--;
        if (recording)
            (void)log_change(now);
    }
    pthread_mutex_unlock(&mu);
}

static void on_thread_exit(void *arg)
{
    struct trampoline *tr = arg;
    if (tr->slot != SIZE_MAX)
        record_end(tr->slot, tr->generation);
    free(tr);
}

static void *thread_main(void *arg)
{
    struct trampoline *tr = arg;
    void *ret;

    /* The cleanup handler also runs on pthread_exit and cancellation. */
    pthread_cleanup_push(on_thread_exit, tr);
    ret = tr->fn(tr->arg);
    pthread_cleanup_pop(1);
    return ret;
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static pthread_create_fn *real;
    if (real == NULL) {
        real = (pthread_create_fn *)dlsym(RTLD_NEXT, "pthread_create");
        if (real == NULL)
            abort(); /* no way to start any thread at all */
    }

    struct trampoline *tr = malloc(sizeof(*tr));
    if (tr == NULL)
        return real(th, attr, fn, arg); /* unrecorded beats not started */
    tr->fn = fn;
    tr->arg = arg;
    /* Creation and its failure are recorded under one mutex held across
     * the real call, so no other creation can take the next slot between. */
    uint32_t peak_before = 0;
    size_t log_at = SIZE_MAX;
    pthread_mutex_lock(&create_mu);
    tr->slot = record_start(&tr->generation, &peak_before, &log_at);
    int rc = real(th, attr, thread_main, tr);
    if (rc != 0 && tr->slot != SIZE_MAX)
        record_failure(tr->slot, tr->generation, peak_before, log_at);
    pthread_mutex_unlock(&create_mu);
    if (rc != 0)
        free(tr);
    return rc;
}

void threads_set_namer(fb_threads_namer *fn, void *ctx)
{
    pthread_mutex_lock(&mu);
    namer = fn;
    namer_ctx = ctx;
    tag = 0;
    pthread_mutex_unlock(&mu);
}

void threads_tag_owner(const void *owner)
{
    pthread_mutex_lock(&mu);
    tag = owner && namer ? namer(namer_ctx, owner) : 0;
    pthread_mutex_unlock(&mu);
}

void threads_start(uint32_t baseline)
{
    pthread_mutex_lock(&mu);
    recording = 1;
    live = peak = baseline;
    (void)log_change(clock_now_us());
    pthread_mutex_unlock(&mu);
}

void threads_stop(void)
{
    pthread_mutex_lock(&mu);
    recording = 0;
    pthread_mutex_unlock(&mu);
}

int threads_snapshot(struct fb_thread_life **out_lives, size_t *out_nlives,
                     struct fb_thread_sample **out_samples, size_t *out_nsamples, uint32_t *out_peak,
                     size_t *out_failed)
{
    int rc = -1;

    pthread_mutex_lock(&mu);
    struct fb_thread_life *l = malloc((nlives ? nlives : 1) * sizeof(*l));
    struct fb_thread_sample *s = malloc((nlog ? nlog : 1) * sizeof(*s));
    if (l == NULL || s == NULL) {
        free(l);
        free(s);
        goto out;
    }
    if (nlives)
        memcpy(l, lives, nlives * sizeof(*l));
    if (nlog)
        memcpy(s, log_, nlog * sizeof(*s));
    *out_lives = l;
    *out_nlives = nlives;
    *out_samples = s;
    *out_nsamples = nlog;
    *out_peak = peak;
    *out_failed = failed;
    rc = 0;
out:
    pthread_mutex_unlock(&mu);
    return rc;
}

void threads_reset(void)
{
    pthread_mutex_lock(&mu);
    free(lives);
    free(log_);
    lives = NULL;
    log_ = NULL;
    nlives = caplives = nlog = caplog = 0;
    live = peak = 0;
    failed = 0;
    recording = 0;
    tag = 0;
    generation++;
    pthread_mutex_unlock(&mu);
}

uint32_t threads_live_now(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned n = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %u", &n) == 1)
            break;
    fclose(f);
    return n;
}
