#include "histo.h"

#include <math.h>
#include <string.h>

void histo_build(const uint64_t *v, size_t n, struct fb_histo *h)
{
    memset(h, 0, sizeof(*h));
    if (n == 0)
        return;
    uint64_t lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    /* A log scale has no 0: a task done in the µs it started counts from 1. */
    double base = lo ? (double)lo : 1.0, ratio = (double)hi / base;
    h->mark[h->nbuckets++] = lo;
    for (size_t i = 1; i < HISTO_MARKS && hi > lo; i++) {
        uint64_t m = i == HISTO_MARKS - 1 ? hi : (uint64_t)llround(base * pow(ratio, (double)i / (HISTO_MARKS - 1)));
        if (m > h->mark[h->nbuckets - 1])
            h->mark[h->nbuckets++] = m;
    }
    for (size_t i = 0; i < n; i++) {
        /* The first mark at or above the value: marks are few, a scan does. */
        size_t b = 0;
        while (v[i] > h->mark[b])
            b++;
        h->count[b]++;
    }
    h->total = n;
}

/* Columns of a label: "µ" is two bytes and one column. */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

void histo_print(FILE *f, const struct fb_histo *h, const char *indent, const struct fb_glyphs *g)
{
    uint64_t widest = 0, slowest = h->nbuckets ? h->mark[h->nbuckets - 1] : 0;
    char label[HISTO_MARKS][32];
    size_t labelw = 0, countw = 1;
    int collide = 0;

    for (size_t b = 0; b < h->nbuckets; b++) {
        humanfmt_duration_as(label[b], sizeof(label[b]), (double)h->mark[b], (double)slowest, g);
        collide |= b > 0 && strcmp(label[b], label[b - 1]) == 0;
    }
    /* Marks a few µs apart in a run of seconds would print alike. */
    if (collide)
        for (size_t b = 0; b < h->nbuckets; b++)
            snprintf(label[b], sizeof(label[b]), "%.6f s", (double)h->mark[b] / 1e6);
    for (size_t b = 0; b < h->nbuckets; b++) {
        char cnt[24];
        size_t cw = (size_t)snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)h->count[b]);
        if (h->count[b] > widest)
            widest = h->count[b];
        if (columns(label[b]) > labelw)
            labelw = columns(label[b]);
        if (cw > countw)
            countw = cw;
    }
    for (size_t b = 0; b < h->nbuckets; b++) {
        fprintf(f, "%s%*s%s [%*llu] |", indent, (int)(labelw - columns(label[b])), "", label[b], (int)countw,
                (unsigned long long)h->count[b]);
        uint64_t cells = widest ? (h->count[b] * HISTO_BAR + widest - 1) / widest : 0;
        for (uint64_t c = 0; c < cells; c++)
            fputs(g->bar, f);
        fputc('\n', f);
    }
}
