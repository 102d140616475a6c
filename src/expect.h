#ifndef FB_EXPECT_H
#define FB_EXPECT_H

#include <stddef.h>

#include "summary.h"

/* --expect METRIC OP VALUE, e.g. "upstream_requests==1", "wall_ms<6000":
 * a CI gate on one run (or on the median of --repeat runs). */
enum fb_op { OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT };

struct fb_expect {
    const char *text;           /* as given; borrowed from argv */
    char metric[32];
    enum fb_op op;
    double value;
    /* Filled by expect_check. */
    double actual;
    int known;                  /* the metric had a value */
    int ok;
};

/* Parses text into e. Returns 0, or -1 with a one-line reason in err. */
int expect_parse(const char *text, struct fb_expect *e, char *err, size_t errlen);
/* Judges every expectation against s; returns how many failed. */
size_t expect_check(struct fb_expect *e, size_t n, const struct fb_summary *s);

#endif
