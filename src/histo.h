#ifndef FB_HISTO_H
#define FB_HISTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "humanfmt.h"

/* A latency histogram for a terminal, like hey's: HISTO_MARKS buckets whose
 * upper marks are log-spaced from the fastest value to the slowest (tasks
 * that wait for one slow fetch sit within a hair of each other while cache
 * hits take microseconds, so equal widths would put all but one bucket in
 * between). Bucket i holds the values in (mark[i-1], mark[i]]; bucket 0
 * those up to the fastest. */
#define HISTO_MARKS 11
#define HISTO_BAR   40          /* cells of the widest bar */

struct fb_histo {
    size_t nbuckets;            /* 0: no values; 1: all values equal */
    uint64_t mark[HISTO_MARKS]; /* µs, increasing */
    uint64_t count[HISTO_MARKS];
    uint64_t total;             /* the values counted: the sum of count */
};

/* Fills h from v[0..n) (µs); the marks of a run whose values are all equal,
 * or too close to tell apart in whole µs, collapse into fewer buckets. */
void histo_build(const uint64_t *v, size_t n, struct fb_histo *h);

/* One line per bucket: indent, the mark (in the unit of the slowest), the
 * count in brackets, '|' and a bar of g->bar cells scaled to the widest
 * bucket (a bucket with anything in it gets one cell at least). */
void histo_print(FILE *f, const struct fb_histo *h, const char *indent, const struct fb_glyphs *g);

#endif
