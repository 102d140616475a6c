#include "jsonw.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct fb_jsonw *w, FILE *f)
{
    w->f = f;
    w->failed = 0;
    w->len = 0;
}

int jw_flush(struct fb_jsonw *w)
{
    if (w->len && !w->failed && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->failed = 1;
    w->len = 0;
    if (fflush(w->f) != 0)
        w->failed = 1;
    return w->failed ? -1 : 0;
}

void jw_raw(struct fb_jsonw *w, const char *s, size_t n)
{
    if (w->len + n > sizeof(w->buf)) {
        if (w->len && !w->failed && fwrite(w->buf, 1, w->len, w->f) != w->len)
            w->failed = 1;
        w->len = 0;
        if (n > sizeof(w->buf)) {
            if (!w->failed && fwrite(s, 1, n, w->f) != n)
                w->failed = 1;
            return;
        }
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void jw_str(struct fb_jsonw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

size_t jw_format_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, tmp + sizeof(tmp) - n, n);
    return n;
}

void jw_u64(struct fb_jsonw *w, uint64_t v)
{
    char digits[20];
    jw_raw(w, digits, jw_format_u64(digits, v));
}

char *jw_reserve(struct fb_jsonw *w, size_t n)
{
    if (w->len + n > sizeof(w->buf)) {
        if (w->len && !w->failed && fwrite(w->buf, 1, w->len, w->f) != w->len)
            w->failed = 1;
        w->len = 0;
    }
    return w->buf + w->len;
}

void jw_commit(struct fb_jsonw *w, char *end)
{
    w->len = (size_t)(end - w->buf);
}

static const char two_digits[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static unsigned digits_u32(uint32_t v)
{
    unsigned n = 1;
    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Straight into place, back to front: no copy of a temporary. */
char *jw_put_u32(char *p, uint32_t v)
{
    char *end = p + digits_u32(v), *t = end;

    while (v >= 100) {
        uint32_t r = v % 100;
        v /= 100;
        t -= 2;
        t[0] = two_digits[2 * r];
        t[1] = two_digits[2 * r + 1];
    }
    if (v >= 10) {
        t[-2] = two_digits[2 * v];
        t[-1] = two_digits[2 * v + 1];
    } else {
        t[-1] = (char)('0' + v);
    }
    return end;
}

void jw_i64(struct fb_jsonw *w, int64_t v)
{
    if (v < 0) {
        jw_raw(w, "-", 1);
        jw_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        jw_u64(w, (uint64_t)v);
    }
}

int jw_cjson(struct fb_jsonw *w, const struct cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);
    if (s == NULL)
        return -1;
    jw_str(w, s);
    free(s);
    return 0;
}
