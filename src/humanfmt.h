#ifndef FB_HUMANFMT_H
#define FB_HUMANFMT_H

#include <stddef.h>

/* What a human reads: durations in a unit chosen per value, and the few
 * symbols that have an ASCII stand-in for a terminal that is not UTF-8. */
struct fb_glyphs {
    int utf8;
    const char *micro;          /* "µ" or "u" */
    const char *pm;             /* "±" or "+/-" */
    const char *ellipsis;       /* "…" or "..." */
    const char *times;          /* "×" or "x" */
    const char *sigma;          /* "σ" or "sd" */
    const char *check, *cross;  /* "✓" "✗" or "ok" "FAIL" */
    const char *bar;            /* one cell of a histogram bar: "█" or "#" */
};

/* The UTF-8 set (utf8 1) or the ASCII one (0); static, never freed. */
const struct fb_glyphs *humanfmt_glyphs(int utf8);

/* 1 when the locale (LC_ALL, LC_CTYPE, LANG, as setlocale reads them)
 * encodes text as UTF-8: nl_langinfo(CODESET). Sets LC_CTYPE from the
 * environment as a side effect. */
int humanfmt_locale_utf8(void);

/* us (µs, >= 0) in buf: "850 µs", "12.345 ms", "4.603 s" (below 1 ms, below
 * 1 s, beyond). Returns buf. */
char *humanfmt_duration(char *buf, size_t len, double us, const struct fb_glyphs *g);

/* The same in the unit of ref_us (so that a value and its spread, or the
 * two ends of a range, read in one unit). Returns buf. */
char *humanfmt_duration_as(char *buf, size_t len, double us, double ref_us, const struct fb_glyphs *g);

/* A ratio without trailing zeros beyond three significant digits: 20,
 * 6.67, 1.5. Returns buf. */
char *humanfmt_ratio(char *buf, size_t len, double r);

#endif
