#ifndef FB_REPORTHUMAN_H
#define FB_REPORTHUMAN_H

#include <stddef.h>
#include <stdio.h>

#include "humanfmt.h"
#include "reportload.h"

/* The human formats of `fetchbench report`: a block per run (counts,
 * percentiles, a latency histogram from the tasks), hyperfine's mean ± σ
 * and range per mode with repeats, one comparison line per mode against
 * the slowest, and ✓/✗ per expectation. */

/* Text for a terminal, in g's symbols. Walks r's tasks for the histograms.
 * Returns 0; -1 with a reason in err when the tasks cannot be read; 1 when
 * out went bad (the caller looks at ferror). */
int reporthuman_text(FILE *out, const struct fb_loaded_report *r, const struct fb_glyphs *g, char *err,
                     size_t errlen);

/* Markdown (UTF-8 always: it is a document for GitHub, not a terminal): a
 * heading naming the file, a table with a row per mode (medians, and the
 * range when repeats differ), the expectations and the comparisons as
 * lists. Needs no tasks. */
void reporthuman_markdown(FILE *out, const struct fb_loaded_report *r);

#endif
