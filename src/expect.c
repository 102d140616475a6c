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

int expect_parse(const char *text, struct fb_expect *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof(*e));
    e->text = text;
    size_t name_len = strcspn(text, "=!<>");
    if (name_len == 0 || name_len >= sizeof(e->metric) || text[name_len] == '\0') {
        snprintf(err, errlen, "--expect: expected METRIC OP VALUE (e.g. upstream_requests==1), got '%s'",
                 text);
        return -1;
    }
    memcpy(e->metric, text, name_len);
    if (metric_find(e->metric) == NULL) {
        snprintf(err, errlen, "--expect: unknown metric '%s' in '%s'", e->metric, text);
        return -1;
    }
    const char *rest = text + name_len;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(rest, ops[i].text, n) == 0) {
            e->op = ops[i].op;
            if (parse_double(rest + n, &e->value) < 0) {
                snprintf(err, errlen, "--expect: '%s' is not a number in '%s'", rest + n, text);
                return -1;
            }
            return 0;
        }
    }
    snprintf(err, errlen, "--expect: unknown operator in '%s' (use == != <= >= < >)", text);
    return -1;
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

size_t expect_check(struct fb_expect *e, size_t n, const struct fb_summary *s)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        e[i].known = metric_value(s, e[i].metric, &e[i].actual) == 0;
        e[i].ok = e[i].known && holds(e[i].op, e[i].actual, e[i].value);
        failed += !e[i].ok;
    }
    return failed;
}
