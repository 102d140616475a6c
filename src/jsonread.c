#include "jsonread.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The members replaced by null: at the top (v1's task array and thread
 * samples), and in each element of the top-level "runs" (v2: per run the
 * tasks, threads, keys, load and server samples, each as long as the run). */
static const char *const skipped_top[] = {"\"tasks\"", "\"threads\"", NULL};
static const char *const skipped_run[] = {"\"tasks\"", "\"threads\"", "\"keys\"", "\"load\"",
                                          "\"server\"", NULL};

static int is_skipped_key(const char *const *skipped, const char *key, size_t n)
{
    for (; *skipped; skipped++)
        if (strlen(*skipped) == n && memcmp(key, *skipped, n) == 0)
            return 1;
    return 0;
}

/* The output of the copy: the document with the skipped members' values
 * replaced. A replaced value can be shorter than "null" (`"keys":1`), and
 * such a member takes at least eight bytes of input, so twice the input is
 * room enough whatever the keys repeat. */
struct copy {
    char *buf;
    size_t n;
};

static void put(struct copy *c, const char *from, size_t len)
{
    memcpy(c->buf + c->n, from, len);
    c->n += len;
}

static int copy_object(struct scan *s, struct copy *c, int top, char *err, size_t errlen);

/* Copies the array at s->p (the top-level "runs"), each object in it with
 * the run's skipped members replaced. */
static int copy_runs(struct scan *s, struct copy *c, char *err, size_t errlen)
{
    put(c, "[", 1);
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        put(c, "]", 1);
        return 0;
    }
    for (;;) {
        skip_ws(s);
        if (s->p < s->end && *s->p == '{') {
            if (copy_object(s, c, 0, err, errlen) < 0)
                return -1;
        } else {
            const char *value = s->p;
            if (skip_value(s) < 0) {
                where(s, s->p, err, errlen, "not JSON");
                return -1;
            }
            put(c, value, (size_t)(s->p - value));
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            put(c, ",", 1);
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == ']') {
            put(c, "]", 1);
            s->p++;
            return 0;
        }
        where(s, s->p, err, errlen, "not JSON: expected ',' or ']'");
        return -1;
    }
}

/* Copies the object at s->p, member by member: top is the document (whose
 * "runs" are copied run by run), otherwise a run. Returns 0, or -1 with the
 * reason in err. Nesting is two levels at most: no recursion to exhaust. */
static int copy_object(struct scan *s, struct copy *c, int top, char *err, size_t errlen)
{
    put(c, "{", 1);
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        put(c, "}", 1);
        return 0;
    }
    for (;;) {
        skip_ws(s);
        const char *key = s->p;
        if (s->p >= s->end || *s->p != '"' || skip_string(s) < 0) {
            where(s, s->p, err, errlen, "not JSON: expected a member name");
            return -1;
        }
        size_t keylen = (size_t)(s->p - key);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') {
            where(s, s->p, err, errlen, "not JSON: expected ':'");
            return -1;
        }
        s->p++;
        skip_ws(s);
        put(c, key, keylen);
        put(c, ":", 1);
        const char *value = s->p;
        if (top && keylen == 6 && memcmp(key, "\"runs\"", 6) == 0 && s->p < s->end && *s->p == '[') {
            if (copy_runs(s, c, err, errlen) < 0)
                return -1;
        } else {
            if (skip_value(s) < 0) {
                where(s, s->p, err, errlen, "not JSON");
                return -1;
            }
            if (is_skipped_key(top ? skipped_top : skipped_run, key, keylen))
                put(c, "null", 4);
            else
                put(c, value, (size_t)(s->p - value));
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            put(c, ",", 1);
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            put(c, "}", 1);
            s->p++;
            return 0;
        }
        where(s, s->p, err, errlen, "not JSON: expected ',' or '}'");
        return -1;
    }
}

/* Where find_duplicate is in the document, for the message: "summary.errors",
 * "repeats.runs[2]". A longer path (deep nesting, long names) is cut short:
 * the message is one line of bounded length either way. */
struct path {
    char buf[200];
    size_t len;
};

static size_t path_push(struct path *p, const char *name, size_t index)
{
    size_t was = p->len;
    int n;

    if (name)
        n = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "%s%s", p->len ? "." : "", name);
    else
        n = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "[%zu]", index);
    if (n > 0)
        p->len += (size_t)n < sizeof(p->buf) - p->len ? (size_t)n : sizeof(p->buf) - 1 - p->len;
    return was;
}

struct member {
    const char *name;
    size_t index;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Looks for two members of one object with the same name, anywhere under
 * node. cJSON keeps both and answers lookups with the first, while Python's
 * json (the plot scripts) keeps the last: a report with duplicates means
 * different things to the two readers, so neither takes it. Returns 0 when
 * there is none, 1 with the path of the first found in err, -1 out of
 * memory. Recursion is bounded by cJSON's own nesting limit. */
static int find_duplicate(const cJSON *node, struct path *p, char *err, size_t errlen)
{
    size_t n = 0, i = 0;
    const cJSON *child;

    cJSON_ArrayForEach(child, node) n++;
    if (cJSON_IsObject(node) && n > 1) {
        struct member *m = malloc(n * sizeof(*m));
        if (m == NULL)
            return -1;
        cJSON_ArrayForEach(child, node) {
            m[i].name = child->string ? child->string : "";
            m[i].index = i;
            i++;
        }
        /* Sorted by name, then by position: of each run of equal names the
         * second is the first repeat in the document; report the earliest. */
        qsort(m, n, sizeof(*m), cmp_member);
        const char *dup = NULL;
        size_t at = n;
        for (i = 1; i < n; i++)
            if (strcmp(m[i - 1].name, m[i].name) == 0 && m[i].index < at
                && (i < 2 || strcmp(m[i - 2].name, m[i].name) != 0)) {
                dup = m[i].name;
                at = m[i].index;
            }
        if (dup) {
            path_push(p, dup, 0);
            snprintf(err, errlen, "duplicate key \"%s\"", p->buf);
        }
        free(m);
        if (dup)
            return 1;
    }
    i = 0;
    cJSON_ArrayForEach(child, node) {
        if (cJSON_IsObject(child) || cJSON_IsArray(child)) {
            size_t was = path_push(p, cJSON_IsObject(node) ? (child->string ? child->string : "") : NULL, i);
            int rc = find_duplicate(child, p, err, errlen);
            if (rc != 0)
                return rc;
            p->len = was;
            p->buf[was] = '\0';
        }
        i++;
    }
    return 0;
}

cJSON *jsonread_report(const char *text, size_t len, char *err, size_t errlen)
{
    struct scan s = {text, text + len, text};
    struct copy c = {malloc(2 * len + 8), 0};
    cJSON *doc = NULL;
    struct path path = {"", 0};
    int dup;

    if (c.buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{') {
        where(&s, s.p, err, errlen, "not a JSON object");
        goto out;
    }
    if (copy_object(&s, &c, 1, err, errlen) < 0)
        goto out;
    skip_ws(&s);
    if (s.p != s.end) {
        where(&s, s.p, err, errlen, "not JSON: text after the document");
        goto out;
    }
    c.buf[c.n] = '\0';
    doc = cJSON_ParseWithLength(c.buf, c.n);
    if (doc == NULL) {
        /* The members kept are the originals, so the position maps back only
         * approximately; the kind of error is what matters here. */
        snprintf(err, errlen, "not JSON (or nested too deeply) near '%.20s'",
                 cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
        goto out;
    }
    dup = find_duplicate(doc, &path, err, errlen);
    if (dup != 0) {
        if (dup < 0)
            snprintf(err, errlen, "out of memory");
        cJSON_Delete(doc);
        doc = NULL;
    }
out:
    /* Reasons quote the document (names, text near an error): no control
     * character of it may break the one-line message. */
    if (doc == NULL)
        jsonread_one_line(err);
    free(c.buf);
    return doc;
}

void jsonread_one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* Past JSON whitespace and then the literal lit at *p: 1 matched, 0 not,
 * -1 the text ends first. */
static int skip_literal(const char **p, const char *end, const char *lit)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
        (*p)++;
    for (; *lit; lit++, (*p)++) {
        if (*p == end)
            return -1;
        if (**p != *lit)
            return 0;
    }
    return 1;
}

int jsonread_report_prefix(const char *text, size_t n)
{
    static const char *const parts[] = {"{", "\"schema\"", ":", "\"fetchbench/"};
    const char *p = text;

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        int r = skip_literal(&p, text + n, parts[i]);
        if (r != 1)
            return r;
    }
    return 1;
}

char *jsonread_report_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int report = -1; /* jsonread_report_prefix's answer so far */
    struct stat st;

    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    /* A regular file says its size: one too large is refused unread. */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
        snprintf(err, errlen, "larger than %zu bytes", max);
        goto fail;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                snprintf(err, errlen, "larger than %zu bytes", max);
                goto fail;
            }
            cap = cap ? cap * 2 : JSONREAD_PREFIX_MAX;
            if (cap > max)
                cap = max;
            char *p = realloc(buf, cap);
            if (p == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            buf = p;
        }
        /* Small reads until the beginning has decided: a pipe that never
         * ends, or gigabytes of something else, cost one prefix. */
        size_t want = report < 0 ? 4096 : cap - n;
        if (want > cap - n)
            want = cap - n;
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (report < 0) {
            report = jsonread_report_prefix(buf, n);
            if (report < 0 && n >= JSONREAD_PREFIX_MAX)
                report = 0;
            if (report == 0) {
                snprintf(err, errlen, "not a fetchbench report (it does not begin with {\"schema\": \"fetchbench/...)");
                goto fail;
            }
        }
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read: %s", strerror(errno));
                goto fail;
            }
            /* Shorter than a report's beginning: the parser says what is
             * wrong with it. */
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
