#include "jsonread.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scan {
    const char *p, *end;
    const char *base;
};

static void where(const struct scan *s, const char *at, char *err, size_t errlen, const char *what)
{
    int line = 1, col = 1;
    for (const char *q = s->base; q < at && q < s->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (at >= s->end)
        snprintf(err, errlen, "truncated JSON (ends at line %d)", line);
    else
        snprintf(err, errlen, "%s (line %d column %d)", what, line, col);
}

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Past a string whose opening quote is at s->p; -1 if unterminated. */
static int skip_string(struct scan *s)
{
    for (s->p++; s->p < s->end; s->p++) {
        if (*s->p == '\\')
            s->p++;
        else if (*s->p == '"') {
            s->p++;
            return 0;
        } else if ((unsigned char)*s->p < 0x20)
            return -1;
    }
    return -1;
}

/* Past one value of any depth, iteratively (no recursion to exhaust). */
static int skip_value(struct scan *s)
{
    size_t depth = 0;

    do {
        skip_ws(s);
        if (s->p >= s->end)
            return -1;
        char c = *s->p;
        if (c == '"') {
            if (skip_string(s) < 0)
                return -1;
        } else if (c == '{' || c == '[') {
            depth++;
            s->p++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return -1;
            depth--;
            s->p++;
        } else if (c == ',' || c == ':') {
            if (depth == 0)
                return -1;
            s->p++;
        } else {
            const char *start = s->p;
            while (s->p < s->end && strchr(" \t\r\n,:]}[{\"", *s->p) == NULL)
                s->p++;
            if (s->p == start)
                return -1;
        }
    } while (depth > 0);
    return 0;
}

static int is_skipped_key(const char *key, size_t n)
{
    return (n == 7 && memcmp(key, "\"tasks\"", 7) == 0) || (n == 9 && memcmp(key, "\"threads\"", 9) == 0);
}

cJSON *jsonread_report(const char *text, size_t len, char *err, size_t errlen)
{
    struct scan s = {text, text + len, text};
    /* A replaced value can be shorter than "null" (`"tasks":1`), and a
     * member takes at least six bytes of input, so twice the input is room
     * enough whatever the keys repeat. */
    char *copy = malloc(2 * len + 8);
    size_t n = 0;
    cJSON *doc = NULL;

    if (copy == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{') {
        where(&s, s.p, err, errlen, "not a JSON object");
        goto out;
    }
    copy[n++] = '{';
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
        copy[n++] = '}';
    } else {
        for (;;) {
            skip_ws(&s);
            const char *key = s.p;
            if (s.p >= s.end || *s.p != '"' || skip_string(&s) < 0) {
                where(&s, s.p, err, errlen, "not JSON: expected a member name");
                goto out;
            }
            size_t keylen = (size_t)(s.p - key);
            skip_ws(&s);
            if (s.p >= s.end || *s.p != ':') {
                where(&s, s.p, err, errlen, "not JSON: expected ':'");
                goto out;
            }
            s.p++;
            skip_ws(&s);
            const char *value = s.p;
            if (skip_value(&s) < 0) {
                where(&s, s.p, err, errlen, "not JSON");
                goto out;
            }
            memcpy(copy + n, key, keylen);
            n += keylen;
            copy[n++] = ':';
            if (is_skipped_key(key, keylen)) {
                memcpy(copy + n, "null", 4);
                n += 4;
            } else {
                memcpy(copy + n, value, (size_t)(s.p - value));
                n += (size_t)(s.p - value);
            }
            skip_ws(&s);
            if (s.p < s.end && *s.p == ',') {
                copy[n++] = ',';
                s.p++;
                continue;
            }
            if (s.p < s.end && *s.p == '}') {
                copy[n++] = '}';
                s.p++;
                break;
            }
            where(&s, s.p, err, errlen, "not JSON: expected ',' or '}'");
            goto out;
        }
    }
    skip_ws(&s);
    if (s.p != s.end) {
        where(&s, s.p, err, errlen, "not JSON: text after the document");
        goto out;
    }
    copy[n] = '\0';
    doc = cJSON_ParseWithLength(copy, n);
    if (doc == NULL) {
        /* The members kept are the originals, so the position maps back only
         * approximately; the kind of error is what matters here. */
        snprintf(err, errlen, "not JSON (or nested too deeply) near '%.20s'",
                 cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    }
out:
    free(copy);
    return doc;
}

char *jsonread_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                snprintf(err, errlen, "larger than %zu bytes", max);
                goto fail;
            }
            cap = cap ? cap * 2 : 65536;
            if (cap > max)
                cap = max;
            char *p = realloc(buf, cap);
            if (p == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read: %s", strerror(errno));
                goto fail;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf ? buf : calloc(1, 1);
fail:
    if (f != stdin)
        fclose(f);
    free(buf);
    return NULL;
}
