#include "humanfmt.h"

#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct fb_glyphs utf8_glyphs = {1, "\xc2\xb5", "\xc2\xb1", "\xe2\x80\xa6", "\xc3\x97", "\xcf\x83",
                                             "\xe2\x9c\x93", "\xe2\x9c\x97", "\xe2\x96\x88"};
static const struct fb_glyphs ascii_glyphs = {0, "u", "+/-", "...", "x", "sd", "ok", "FAIL", "#"};

const struct fb_glyphs *humanfmt_glyphs(int utf8)
{
    return utf8 ? &utf8_glyphs : &ascii_glyphs;
}

int humanfmt_locale_utf8(void)
{
    /* Only the character type: numbers keep the C locale's decimal point,
     * so CSV and golden files read the same everywhere. */
    if (setlocale(LC_CTYPE, "") == NULL)
        return 0;
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

char *humanfmt_duration_as(char *buf, size_t len, double us, double ref_us, const struct fb_glyphs *g)
{
    ref_us = fabs(ref_us);
    if (ref_us < 1000)
        snprintf(buf, len, "%.0f %ss", us, g->micro);
    else if (ref_us < 1e6)
        snprintf(buf, len, "%.3f ms", us / 1e3);
    else
        snprintf(buf, len, "%.3f s", us / 1e6);
    return buf;
}

char *humanfmt_duration(char *buf, size_t len, double us, const struct fb_glyphs *g)
{
    return humanfmt_duration_as(buf, len, us, us, g);
}

char *humanfmt_ratio(char *buf, size_t len, double r)
{
    /* %g would write 1.23e+03. */
    snprintf(buf, len, r >= 1000 ? "%.0f" : "%.3g", r);
    return buf;
}
