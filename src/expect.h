#ifndef FB_EXPECT_H
#define FB_EXPECT_H

#include <stddef.h>
#include <stdio.h>

#include "summary.h"

/* --expect [MODE:]METRIC OP VALUE, e.g. "upstream_requests==1",
 * "lock: p99_ms < 250": a CI gate on each mode's run (or the median of its
 * --repeat runs). Without MODE it applies to every mode of the run. */
enum fb_op { OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT };

#define EXPECT_MODE_MAX 32

struct fb_expect {
    const char *text;           /* as given; borrowed from argv */
    char mode[EXPECT_MODE_MAX]; /* "" when it applies to every mode; the caller checks the name */
    char metric[SUMMARY_NAME_MAX];
    enum fb_op op;
    double value;
};

/* One expectation judged on one mode's run. */
struct fb_verdict {
    const struct fb_expect *e;
    const char *mode;           /* borrowed from the caller */
    double actual;              /* 0 when !known */
    int known;                  /* the run had a value for the metric */
    int ok;                     /* known and the comparison holds */
};

/* Parses text into e (text is borrowed, e->text points at it). Returns 0,
 * or -1 with a one-line reason naming the flag and text in err. */
int expect_parse(const char *text, struct fb_expect *e, char *err, size_t errlen);
/* 1 when e judges runs of mode (no MODE prefix, or the same name). */
int expect_applies(const struct fb_expect *e, const char *mode);
/* Judges e on s (the mode's single run or its median over repeats); an
 * unknown value fails with v->known = 0. */
void expect_judge(const struct fb_expect *e, const char *mode, const struct fb_summary *s,
                  struct fb_verdict *v);
/* One line for v on f, k6's way: "✓ lock: upstream_requests == 1 (got 1)",
 * "✗ ..." when it failed; "ok"/"FAIL" instead of the marks unless utf8. */
void expect_print(FILE *f, const struct fb_verdict *v, int utf8);

#endif
