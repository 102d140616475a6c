#ifndef FB_FAULTS_H
#define FB_FAULTS_H

#include <stddef.h>
#include <stdint.h>

/* Failures the embedded server injects (--fail-rate, --fail-first,
 * --reset-rate, --hang-rate, --jitter-ms): what a real backend does on a bad
 * day, seeded, so that every run of an invocation meets the same faults in
 * the same order (request k of a run has the same fate in every run). */
struct fb_faults {
    double fail_rate;           /* answer 503 (after the delay, like any answer) */
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

/* What the server does with one request once its delay is over. */
enum fb_fate { FATE_OK, FATE_FAIL, FATE_RESET, FATE_HANG };

/* One key's count of requests so far (for --fail-first). */
struct fb_fault_key {
    char *key;                  /* owned; NULL = empty slot */
    size_t len;
    uint64_t hash;
    uint32_t seen;              /* saturates at fail_first */
};

/* The decisions of one server process: the seeded generator and, with
 * --fail-first, the per-key counts. Requests are decided in the order they
 * arrive, so the same arrivals meet the same fates. */
struct fb_fault_plan {
    struct fb_faults f;
    uint64_t state;             /* splitmix64 */
    struct fb_fault_key *keys;  /* open addressing, power-of-two size */
    size_t nkeys, cap;
};

/* Sets p up for f (copied; NULL means no faults). Never fails: the key
 * table grows on demand. Free with faults_plan_free. */
void faults_plan_init(struct fb_fault_plan *p, const struct fb_faults *f);

/* Decides the next request's fate and delay: the key's first fail_first
 * requests fail, otherwise one uniform draw in [0, 1) picks fail, reset,
 * hang or ok by the rates in that order; a second draw picks the delay
 * uniformly in [max(0, delay_ms - J), delay_ms + J]. Both draws are taken
 * for every request, so one request's key never shifts another's fate.
 * key need not be NUL-terminated. Returns 0, or -1 when the key table
 * cannot grow (out of memory; *fate and *delay_out untouched). */
int faults_decide(struct fb_fault_plan *p, const char *key, size_t keylen, unsigned delay_ms,
                  enum fb_fate *fate, unsigned *delay_out);

/* Frees the key table; p may then be initialised again. */
void faults_plan_free(struct fb_fault_plan *p);

/* "ok", "fail", "reset", "hang". */
const char *faults_fate_name(enum fb_fate fate);

#endif
