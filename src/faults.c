/* The embedded server's fault decisions, apart from the server so that they
 * can be tested without one: a seeded generator and per-key counts. */
#include "faults.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_INITIAL 64

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit word of state, every
 * seed a good one, and the same sequence on every platform. */
static uint64_t next_u64(struct fb_fault_plan *p)
{
    uint64_t z = (p->state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* MurmurHash3's finalizer. The workload (workload.c) also runs splitmix64
 * from --seed to seed its generator: scattered first, the fault stream is
 * not that stream, so fates cannot echo the arrivals' seeding words. */
static uint64_t scatter(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* Uniform in [0, 1) with 53 bits: exact as a double. */
static double next_unit(struct fb_fault_plan *p)
{
    return (double)(next_u64(p) >> 11) * 0x1.0p-53;
}

/* FNV-1a: keys are short, and only their spread matters here. */
static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static struct fb_fault_key *slot_of(struct fb_fault_key *keys, size_t cap, uint64_t hash,
                                    const char *key, size_t len)
{
    size_t i = (size_t)hash & (cap - 1);

    while (keys[i].key != NULL
           && !(keys[i].hash == hash && keys[i].len == len && memcmp(keys[i].key, key, len) == 0))
        i = (i + 1) & (cap - 1);
    return &keys[i];
}

/* Doubles the table (or makes the first one). Returns 0 or -1. */
static int grow(struct fb_fault_plan *p)
{
    size_t cap = p->cap ? p->cap * 2 : KEYS_INITIAL;
    struct fb_fault_key *keys = calloc(cap, sizeof *keys);

    if (keys == NULL)
        return -1;
    for (size_t i = 0; i < p->cap; i++)
        if (p->keys[i].key != NULL)
            *slot_of(keys, cap, p->keys[i].hash, p->keys[i].key, p->keys[i].len) = p->keys[i];
    free(p->keys);
    p->keys = keys;
    p->cap = cap;
    return 0;
}

/* The key's entry, added with seen = 0 when new; NULL when out of memory. */
static struct fb_fault_key *key_entry(struct fb_fault_plan *p, const char *key, size_t len)
{
    uint64_t hash = hash_key(key, len);
    struct fb_fault_key *e;

    /* Kept at most half full, so probes stay short and always end. */
    if ((p->nkeys + 1) * 2 > p->cap && grow(p) != 0)
        return NULL;
    e = slot_of(p->keys, p->cap, hash, key, len);
    if (e->key == NULL) {
        /* One byte more, so that an empty key is not NULL. */
        e->key = malloc(len + 1);
        if (e->key == NULL)
            return NULL;
        memcpy(e->key, key, len);
        e->key[len] = '\0';
        e->len = len;
        e->hash = hash;
        e->seen = 0;
        p->nkeys++;
    }
    return e;
}

void faults_plan_init(struct fb_fault_plan *p, const struct fb_faults *f)
{
    memset(p, 0, sizeof *p);
    if (f != NULL)
        p->f = *f;
    p->state = scatter(p->f.seed);
}

int faults_decide(struct fb_fault_plan *p, const char *key, size_t keylen, unsigned delay_ms,
                  enum fb_fate *fate, unsigned *delay_out)
{
    const struct fb_faults *f = &p->f;
    double u = next_unit(p), v = next_unit(p);
    enum fb_fate chosen = FATE_OK;
    uint64_t lo, hi, pick;

    if (f->fail_first > 0) {
        struct fb_fault_key *e = key_entry(p, key, keylen);
        if (e == NULL)
            return -1;
        if (e->seen < f->fail_first) {
            e->seen++;
            chosen = FATE_FAIL;
        }
    }
    if (chosen == FATE_OK) {
        if (u < f->fail_rate)
            chosen = FATE_FAIL;
        else if (u < f->fail_rate + f->reset_rate)
            chosen = FATE_RESET;
        else if (u < f->fail_rate + f->reset_rate + f->hang_rate)
            chosen = FATE_HANG;
    }
    lo = delay_ms > f->jitter_ms ? (uint64_t)delay_ms - f->jitter_ms : 0;
    hi = (uint64_t)delay_ms + f->jitter_ms;
    if (hi > UINT_MAX)
        hi = UINT_MAX;
    *fate = chosen;
    pick = lo + (uint64_t)(v * (double)(hi - lo + 1));
    /* v < 1, but the product may round up to the span itself. */
    *delay_out = (unsigned)(pick > hi ? hi : pick);
    return 0;
}

void faults_plan_free(struct fb_fault_plan *p)
{
    for (size_t i = 0; i < p->cap; i++)
        free(p->keys[i].key);
    free(p->keys);
    p->keys = NULL;
    p->nkeys = p->cap = 0;
}

const char *faults_fate_name(enum fb_fate fate)
{
    switch (fate) {
    case FATE_FAIL:
        return "fail";
    case FATE_RESET:
        return "reset";
    case FATE_HANG:
        return "hang";
    case FATE_OK:
        break;
    }
    return "ok";
}
