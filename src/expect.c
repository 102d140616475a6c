#include "expect.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

static const struct {
    const char *text;
    enum fb_op op;
} ops[] = {
    /* Two-character operators first, so "<=" is not read as "<". */
    {"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"<", OP_LT}, {">", OP_GT},
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Copies [start, end) without the blanks around it into out (size n);
 * returns its length, or n when it does not fit. */
static size_t copy_trimmed(const char *start, const char *end, char *out, size_t n)
{
    while (start < end && is_blank(*start))
        start++;
    while (end > start && is_blank(end[-1]))
        end--;
    size_t len = (size_t)(end - start);
    if (len >= n)
        return n;
    memcpy(out, start, len);
    out[len] = '\0';
    return len;
}

/* A mode's name as strategies spell them. */
static int is_name(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'
              || *s == '-'))
            return 0;
    return 1;
}

int expect_parse(const char *text, struct fb_expect *e, char *err, size_t errlen)
{
    /* Big enough for any metric, value or mode we accept: longer ones are
     * refused by what they fail (unknown metric, not a number). */
    char buf[128];
    enum fb_metric_kind kind;
    int hib;

    memset(e, 0, sizeof(*e));
    e->text = text;
    const char *op_at = text + strcspn(text, "=!<>");
    const char *colon = memchr(text, ':', (size_t)(op_at - text));
    const char *name_at = colon ? colon + 1 : text;
    size_t len = copy_trimmed(name_at, op_at, buf, sizeof(buf));
    if (*op_at == '\0' || len == 0) {
        snprintf(err, errlen, "--expect: expected [MODE:]METRIC OP VALUE (e.g. 'lock:upstream_requests==1'), "
                              "got '%s'", text);
        return -1;
    }
    if (len >= sizeof(e->metric) || metric_kind(buf, &kind, &hib) < 0) {
        snprintf(err, errlen, "--expect: unknown metric '%.*s' in '%s'", (int)len, buf, text);
        return -1;
    }
    memcpy(e->metric, buf, len + 1);
    if (colon) {
        len = copy_trimmed(text, colon, e->mode, sizeof(e->mode));
        if (len == 0 || len == sizeof(e->mode) || !is_name(e->mode)) {
            e->mode[0] = '\0';
            snprintf(err, errlen, "--expect: expected a mode's name before ':' in '%s'", text);
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(op_at, ops[i].text, n) != 0)
            continue;
        e->op = ops[i].op;
        const char *value = op_at + n;
        len = copy_trimmed(value, value + strlen(value), buf, sizeof(buf));
        if (len == 0) {
            snprintf(err, errlen, "--expect: no VALUE after the operator in '%s'", text);
            return -1;
        }
        if (len == sizeof(buf) || parse_double(buf, &e->value) < 0) {
            snprintf(err, errlen, "--expect: '%s' is not a number in '%s'", len == sizeof(buf) ? value : buf,
                     text);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "--expect: unknown operator in '%s' (use == != <= >= < >)", text);
    return -1;
}

static const char *op_text(enum fb_op op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].op == op)
            return ops[i].text;
    return "?";
}

static int holds(enum fb_op op, double a, double b)
{
    switch (op) {
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LE: return a <= b;
    case OP_GE: return a >= b;
    case OP_LT: return a < b;
    case OP_GT: return a > b;
    }
    return 0;
}

int expect_applies(const struct fb_expect *e, const char *mode)
{
    return e->mode[0] == '\0' || strcmp(e->mode, mode) == 0;
}

void expect_judge(const struct fb_expect *e, const char *mode, const struct fb_summary *s, struct fb_verdict *v)
{
    v->e = e;
    v->mode = mode;
    v->known = metric_value(s, e->metric, &v->actual) == 0;
    if (!v->known)
        v->actual = 0;
    v->ok = v->known && holds(e->op, v->actual, e->value);
}

void expect_print(FILE *f, const struct fb_verdict *v, int utf8)
{
    const char *mark = v->ok ? (utf8 ? "✓" : "ok  ") : (utf8 ? "✗" : "FAIL");

    /* The parsed form, not the text as typed: one spelling per gate. */
    fprintf(f, "%s %s: %s %s %g ", mark, v->mode, v->e->metric, op_text(v->e->op), v->e->value);
    if (v->known)
        fprintf(f, "(got %g)\n", v->actual);
    else
        fprintf(f, "(no value for %s in this run)\n", v->e->metric);
}
