/* --expect: the syntax, its refusals, and the verdicts per mode. */
#include <criterion/criterion.h>
#include <string.h>

#include "expect.h"

static void parse_ok(const char *text, struct fb_expect *e)
{
    char err[256];
    cr_assert_eq(expect_parse(text, e, err, sizeof(err)), 0, "'%s': %s", text, err);
}

/* expect_parse's refusal of text. */
static const char *refusal(const char *text)
{
    static char err[256];
    struct fb_expect e;
    err[0] = '\0';
    cr_assert_eq(expect_parse(text, &e, err, sizeof(err)), -1, "accepted '%s'", text);
    return err;
}

Test(expect, parses_metric_op_value)
{
    struct fb_expect e;
    parse_ok("upstream_requests==1", &e);
    cr_assert_str_eq(e.mode, "");
    cr_assert_str_eq(e.metric, "upstream_requests");
    cr_assert_eq(e.op, OP_EQ);
    cr_assert_float_eq(e.value, 1, 1e-12);
    parse_ok("wall_s>=4.5", &e);
    cr_assert_eq(e.op, OP_GE);
    cr_assert_float_eq(e.value, 4.5, 1e-12);
    parse_ok("errors!=0", &e);
    cr_assert_eq(e.op, OP_NE);
    parse_ok("wait_ms.lock_wait>-1", &e);
    cr_assert_eq(e.op, OP_GT);
    cr_assert_float_eq(e.value, -1, 1e-12);
}

Test(expect, spaces_and_mode_prefix)
{
    struct fb_expect e;
    parse_ok("wall_ms < 2000", &e);
    cr_assert_str_eq(e.metric, "wall_ms");
    cr_assert_eq(e.op, OP_LT);
    cr_assert_float_eq(e.value, 2000, 1e-12);
    parse_ok("lock: p99_ms<250", &e);
    cr_assert_str_eq(e.mode, "lock");
    cr_assert_str_eq(e.metric, "p99_ms");
    cr_assert_float_eq(e.value, 250, 1e-12);
    parse_ok("  nolock :outcomes.fetched <= 20\t", &e);
    cr_assert_str_eq(e.mode, "nolock");
    cr_assert_str_eq(e.metric, "outcomes.fetched");
    cr_assert_eq(e.op, OP_LE);
    cr_assert_float_eq(e.value, 20, 1e-12);
    cr_assert_str_eq(e.text, "  nolock :outcomes.fetched <= 20\t", "the text as given");
    parse_ok("lock:upstream_requests==1", &e);
    cr_assert_str_eq(e.mode, "lock");
}

Test(expect, bad_input_each_with_its_message)
{
    const struct {
        const char *text, *err;
    } cases[] = {
        {"", "--expect: expected [MODE:]METRIC OP VALUE (e.g. 'lock:upstream_requests==1'), got ''"},
        {"upstream_requests", "--expect: expected [MODE:]METRIC OP VALUE (e.g. 'lock:upstream_requests==1'), "
                              "got 'upstream_requests'"},
        {"==1", "--expect: expected [MODE:]METRIC OP VALUE (e.g. 'lock:upstream_requests==1'), got '==1'"},
        {"lock: ==1", "--expect: expected [MODE:]METRIC OP VALUE (e.g. 'lock:upstream_requests==1'), "
                      "got 'lock: ==1'"},
        {"nosuch==1", "--expect: unknown metric 'nosuch' in 'nosuch==1'"},
        {"lock:nosuch < 1", "--expect: unknown metric 'nosuch' in 'lock:nosuch < 1'"},
        {"wall ms<1", "--expect: unknown metric 'wall ms' in 'wall ms<1'"},
        {"lock:counters.a.b==1", "--expect: unknown metric 'counters.a.b' in 'lock:counters.a.b==1'"},
        {":wall_ms<5", "--expect: expected a mode's name before ':' in ':wall_ms<5'"},
        {"lo ck:wall_ms<5", "--expect: expected a mode's name before ':' in 'lo ck:wall_ms<5'"},
        {"a:b:wall_ms<5", "--expect: unknown metric 'b:wall_ms' in 'a:b:wall_ms<5'"},
        {"wall_ms<<5", "--expect: '<5' is not a number in 'wall_ms<<5'"},
        {"wall_ms<abc", "--expect: 'abc' is not a number in 'wall_ms<abc'"},
        {"wall_ms< 5 5", "--expect: '5 5' is not a number in 'wall_ms< 5 5'"},
        {"wall_ms<", "--expect: no VALUE after the operator in 'wall_ms<'"},
        {"wall_ms <  ", "--expect: no VALUE after the operator in 'wall_ms <  '"},
        {"wall_ms=5", "--expect: unknown operator in 'wall_ms=5' (use == != <= >= < >)"},
        {"wall_ms = = 5", "--expect: unknown operator in 'wall_ms = = 5' (use == != <= >= < >)"},
        {"wall_ms!5", "--expect: unknown operator in 'wall_ms!5' (use == != <= >= < >)"},
        {"wall_ms<nan", "--expect: 'nan' is not a number in 'wall_ms<nan'"},
        {"wall_ms<inf", "--expect: 'inf' is not a number in 'wall_ms<inf'"},
        {"wall_ms<lock:5", "--expect: 'lock:5' is not a number in 'wall_ms<lock:5'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_str_eq(refusal(cases[i].text), cases[i].err);
}

Test(expect, long_input_is_refused_not_cut)
{
    char text[600];
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    memcpy(text, "wall_ms<1", 9);
    cr_assert_eq(strncmp(refusal(text), "--expect: '1xxx", 15), 0, "%s", refusal(text));
    memset(text, 'm', 200);
    memcpy(text + 200, ":wall_ms<1", 11);
    cr_assert(strstr(refusal(text), "mode's name") != NULL, "%s", refusal(text));
}

Test(expect, applies_to_its_mode_or_all)
{
    struct fb_expect e;
    parse_ok("upstream_requests==1", &e);
    cr_assert(expect_applies(&e, "lock"));
    cr_assert(expect_applies(&e, "nolock"));
    parse_ok("lock:upstream_requests==1", &e);
    cr_assert(expect_applies(&e, "lock"));
    cr_assert(!expect_applies(&e, "nolock"));
    cr_assert(!expect_applies(&e, "lockx"));
}

Test(expect, judging)
{
    struct fb_summary s = {.tasks = 20, .wall_us = 4600000, .upstream_requests = 1, .server_requests = -1,
                           .peak_threads = 2, .p50_us = 4500000, .p90_us = 4550000, .p99_us = 4590000,
                           .p99_9_us = 4590000, .max_us = 4590000, .mean_us = 4400000, .wait_us = 1000};
    summary_set_named(&s, "outcomes.cache_hit", 19);
    const struct {
        const char *text;
        int known, ok;
        double actual;
    } cases[] = {
        {"upstream_requests==1", 1, 1, 1},
        {"wall_ms<6000", 1, 1, 4600},
        {"peak_threads<=1", 1, 0, 2},
        {"wall_s>=4.5", 1, 1, 4.6},
        {"lock:p99_ms < 4600", 1, 1, 4590},
        {"p50_ms>4500", 1, 0, 4500},
        {"outcomes.cache_hit==19", 1, 1, 19},
        {"wait_ms<=1", 1, 1, 1},
        /* No value: a failed expectation, with known 0. */
        {"server_requests==1", 0, 0, 0},
        {"counters.lock_handoffs>=0", 0, 0, 0},
        {"outcomes.shared!=5", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fb_expect e;
        struct fb_verdict v;
        parse_ok(cases[i].text, &e);
        expect_judge(&e, "lock", &s, &v);
        cr_assert_eq(v.e, &e);
        cr_assert_str_eq(v.mode, "lock");
        cr_assert_eq(v.known, cases[i].known, "%s", cases[i].text);
        cr_assert_eq(v.ok, cases[i].ok, "%s", cases[i].text);
        cr_assert_float_eq(v.actual, cases[i].actual, 1e-9, "%s", cases[i].text);
    }
    /* A percentile of a summary without them is unknown, not 0 < 250. */
    struct fb_expect e;
    struct fb_verdict v;
    s.p99_us = -1;
    parse_ok("p99_ms<250", &e);
    expect_judge(&e, "nolock", &s, &v);
    cr_assert(!v.known && !v.ok);
}
