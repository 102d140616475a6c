/* A run's summary: the fetchbench/2 object and back, v1 summaries, the
 * aggregate over --repeat runs, and the metric names --expect and compare
 * use. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

/* A lock run's summary as docs/report-v2.md shows it. */
static const char v2_summary[] =
    "{\"tasks\": 20, \"wall_us\": 4603120, \"upstream_requests\": 1, \"server_requests\": 1,"
    " \"cache_hits\": 19, \"cache_misses\": 1,"
    " \"errors\": {\"total\": 0, \"resolve\": 0, \"connect\": 0, \"tls\": 0, \"timeout\": 0,"
    "            \"http_status\": 0, \"read\": 0, \"body_too_large\": 0, \"other\": 0},"
    " \"peak_threads\": 1, \"threads_created\": 0, \"threads_failed\": 0, \"peak_connections\": 1,"
    " \"latency_us\": {\"p50\": 4602990, \"p90\": 4603001, \"p99\": 4603010, \"p99_9\": 4603010,"
    "                \"max\": 4603010, \"mean\": 4602950},"
    " \"stampede_max\": 1, \"waiters\": 19,"
    " \"waiter_latency_us\": {\"p50\": 4602991, \"p90\": 4603002, \"p99\": 4603010, \"p99_9\": 4603010,"
    "                       \"max\": 4603010, \"mean\": 4602951},"
    " \"wait_us\": {\"total\": 87455000, \"created\": 95, \"queued\": 12, \"lock_wait\": 87454893},"
    " \"outcomes\": {\"fetched\": 1, \"cache_hit\": 19, \"error\": 0, \"cancelled\": 0,"
    "              \"shared\": 0, \"shared_error\": 0, \"stale\": 0, \"timed_out\": 0},"
    " \"counters\": {\"lock_handoffs\": 19}}";

/* The same run as v1 wrote it: no tasks, percentiles, wait, outcomes. */
static const char v1_summary[] =
    "{\"wall_us\":50842,\"upstream_requests\":1,\"server_requests\":1,\"cache_hits\":19,"
    "\"cache_misses\":1,\"errors\":{\"total\":0,\"resolve\":0,\"connect\":0,\"timeout\":0,"
    "\"http_status\":0,\"read\":0,\"body_too_large\":0,\"other\":0},\"peak_threads\":2,"
    "\"threads_created\":1,\"peak_connections\":1}";

static void read_summary(const char *text, struct fb_summary *s)
{
    char err[256];
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j);
    cr_assert_eq(summary_from_json(j, s, err, sizeof(err)), 0, "%s", err);
    cJSON_Delete(j);
}

/* summary_from_json's refusal of text, or "" when it takes it. */
static const char *refusal(const char *text)
{
    static char err[256];
    struct fb_summary s;
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "test text is not JSON: %s", text);
    err[0] = '\0';
    if (summary_from_json(j, &s, err, sizeof(err)) == 0)
        err[0] = '\0';
    cJSON_Delete(j);
    return err;
}

static double value_of(const struct fb_summary *s, const char *name)
{
    double v;
    cr_assert_eq(metric_value(s, name, &v), 0, "no value for %s", name);
    return v;
}

Test(summary, v2_reads_every_field)
{
    struct fb_summary s;
    uint64_t v;
    read_summary(v2_summary, &s);
    cr_assert_eq(s.tasks, 20);
    cr_assert_eq(s.wall_us, 4603120);
    cr_assert_eq(s.p50_us, 4602990);
    cr_assert_eq(s.p99_9_us, 4603010);
    cr_assert_eq(s.mean_us, 4602950);
    cr_assert_eq(s.wait_us, 87455000);
    cr_assert_eq(s.nnamed, 3 + 8 + 1, "wait states, outcomes, counters: %zu", s.nnamed);
    cr_assert_eq(summary_get_named(&s, "wait_us.lock_wait", &v), 0);
    cr_assert_eq(v, 87454893);
    cr_assert_eq(summary_get_named(&s, "outcomes.cache_hit", &v), 0);
    cr_assert_eq(v, 19);
    cr_assert_eq(summary_get_named(&s, "counters.lock_handoffs", &v), 0);
    cr_assert_eq(v, 19);
    cr_assert_eq(summary_get_named(&s, "wait_us.total", &v), -1, "the total is the fixed field");
    cr_assert_eq(summary_get_named(&s, "outcomes.nosuch", &v), -1);
}

Test(summary, v2_round_trip)
{
    struct fb_summary s, back;
    char err[256];
    read_summary(v2_summary, &s);
    cJSON *j = summary_to_json(&s);
    cr_assert_not_null(j);
    cr_assert_eq(summary_from_json(j, &back, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(memcmp(&s, &back, sizeof(s)), 0);
    /* And the text is the document's, key for key, in its order. */
    cJSON *want = cJSON_Parse(v2_summary);
    char *got_text = cJSON_PrintUnformatted(j), *want_text = cJSON_PrintUnformatted(want);
    cr_assert_str_eq(got_text, want_text);
    free(got_text);
    free(want_text);
    cJSON_Delete(want);
    cJSON_Delete(j);
}

Test(summary, unknowns_are_written_as_absent_or_null)
{
    struct fb_summary s = {.tasks = 0, .server_requests = -1, .p50_us = -1, .p90_us = -1, .p99_us = -1,
                           .p99_9_us = -1, .max_us = -1, .mean_us = -1, .wait_us = 0};
    cJSON *j = summary_to_json(&s);
    cr_assert_not_null(j);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "server_requests")));
    cr_assert_null(cJSON_GetObjectItem(j, "latency_us"), "no tasks, no percentiles");
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(j, "outcomes")), "empty objects are allowed");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "counters")), 0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "wait_us")), 1, "just the total");
    cJSON_Delete(j);
}

Test(summary, v1_has_no_tasks_percentiles_or_named)
{
    struct fb_summary s;
    double v;
    read_summary(v1_summary, &s);
    cr_assert_eq(s.tasks, -1, "unknown, not 0");
    cr_assert_eq(s.p50_us, -1);
    cr_assert_eq(s.mean_us, -1);
    cr_assert_eq(s.wait_us, -1);
    cr_assert_eq(s.nnamed, 0);
    cr_assert_eq(s.threads_failed, 0, "older than threads_failed");
    cr_assert_eq(s.errors[STAGE_TLS], 0, "older than the tls stage");
    cr_assert_eq(metric_value(&s, "p99_ms", &v), -1, "a percentile of v1 is unknown, not 0");
    cr_assert_eq(metric_value(&s, "tasks", &v), -1);
    cr_assert_eq(metric_value(&s, "wait_ms", &v), -1);
    cr_assert_eq(metric_value(&s, "outcomes.fetched", &v), -1);
    cr_assert_float_eq(value_of(&s, "wall_ms"), 50.842, 1e-9);
    /* And written back, it stays a summary without them. */
    cJSON *j = summary_to_json(&s);
    cr_assert_null(cJSON_GetObjectItem(j, "tasks"));
    cr_assert_null(cJSON_GetObjectItem(j, "latency_us"));
    cr_assert_null(cJSON_GetObjectItem(j, "wait_us"));
    cJSON_Delete(j);
}

Test(summary, bad_fields_are_named)
{
    cr_assert_str_eq(refusal("{\"wall_us\": -1}"), "summary.wall_us: not a non-negative integer");
    cr_assert_neq(refusal("{\"wall_us\": 1e300}")[0], '\0', "huge numbers are refused");
    cr_assert_str_eq(refusal("[]"), "summary: not an object");
    /* Each v2 part, ill-typed, by its full name. */
    const struct {
        const char *from, *to, *err;
    } cases[] = {
        {"\"tasks\": 20", "\"tasks\": \"20\"", "summary.tasks: not a non-negative integer"},
        {"\"p90\": 4603001", "\"p90\": 1.5", "summary.latency_us.p90: not a non-negative integer"},
        {"\"p90\": 4603001,", "", "summary.latency_us.p90: missing"},
        {"\"latency_us\": {", "\"latency_us\": 1, \"x\": {", "summary.latency_us: not an object"},
        {"\"total\": 87455000", "\"total\": null", "summary.wait_us.total: not a non-negative integer"},
        {"\"queued\": 12", "\"queued\": -12", "summary.wait_us.queued: not a non-negative integer"},
        {"\"stale\": 0", "\"stale\": true", "summary.outcomes.stale: not a non-negative integer"},
        {"\"counters\": {\"lock_handoffs\": 19}", "\"counters\": [19]", "summary.counters: not an object"},
        {"\"tls\": 0", "\"tls\": \"0\"", "summary.errors.tls: not a non-negative integer"},
        {"\"lock_handoffs\"", "\"a_name_that_is_far_too_long_for_the_table_of_names\"",
         "summary.counters.a_name_that_is_far_too_long_for_the_table_of_names: name longer than 47 bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *at = strstr(v2_summary, cases[i].from);
        cr_assert_not_null(at, "%s", cases[i].from);
        char text[2048];
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - v2_summary), v2_summary, cases[i].to,
                 at + strlen(cases[i].from));
        cr_assert_str_eq(refusal(text), cases[i].err, "case %zu", i);
    }
}

Test(summary, too_many_named_figures_are_refused)
{
    char text[8192];
    int n = snprintf(text, sizeof(text), "%.*s, \"counters\": {", (int)strlen(v1_summary) - 1, v1_summary);
    for (int i = 0; i <= SUMMARY_MAX_NAMED; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"c%d\": %d", i ? ", " : "", i, i);
    snprintf(text + n, sizeof(text) - (size_t)n, "}}");
    cr_assert(strstr(refusal(text), "more than 64 named figures") != NULL, "%s", refusal(text));
}

Test(summary, aggregate_median_min_max)
{
    struct fb_summary runs[5] = {0}, med, min, max;
    uint64_t walls[] = {500, 100, 300, 200, 400};
    for (int i = 0; i < 5; i++) {
        runs[i].wall_us = walls[i];
        runs[i].upstream_requests = 1;
        runs[i].server_requests = 1;
        runs[i].p99_us = (int64_t)walls[i] / 10;
        runs[i].tasks = 4;
    }
    summary_aggregate(runs, 5, &med, &min, &max);
    cr_assert_eq(med.wall_us, 300);
    cr_assert_eq(min.wall_us, 100);
    cr_assert_eq(max.wall_us, 500);
    cr_assert_eq(med.p99_us, 30);
    cr_assert_eq(max.p99_us, 50);
    cr_assert_eq(med.server_requests, 1);
    cr_assert_eq(med.tasks, 4);
    summary_aggregate(runs, 4, &med, &min, &max);
    cr_assert_eq(med.wall_us, 200, "lower middle of 100 200 400 500");
    runs[2].server_requests = -1;
    runs[0].p99_us = -1;
    summary_aggregate(runs, 5, &med, &min, &max);
    cr_assert_eq(med.server_requests, -1, "one unknown makes the aggregate unknown");
    cr_assert_eq(min.server_requests, -1);
    /* A run without the tasks a percentile is of (no waiter) has none: the
     * aggregate is over the runs that have one, p99s 10 30 20 40. */
    cr_assert_eq(max.p99_us, 40, "the largest of the runs that have one");
    cr_assert_eq(med.p99_us, 20, "lower middle of 10 20 30 40");
    cr_assert_eq(med.wall_us, 300, "the rest is unaffected");
    for (int i = 0; i < 5; i++)
        runs[i].waiter_p99_us = -1;
    summary_aggregate(runs, 5, &med, &min, &max);
    cr_assert_eq(med.waiter_p99_us, -1, "no run had a waiter");
}

Test(summary, aggregate_named_over_the_runs_that_have_them)
{
    struct fb_summary runs[4] = {0}, med, min, max;
    uint64_t v;
    for (int i = 0; i < 4; i++)
        summary_set_named(&runs[i], "outcomes.fetched", (uint64_t)(10 * (i + 1)));
    /* A counter in runs 1 and 3 only (values 7 and 3). */
    summary_set_named(&runs[1], "counters.lock_handoffs", 7);
    summary_set_named(&runs[3], "counters.lock_handoffs", 3);
    summary_aggregate(runs, 4, &med, &min, &max);
    cr_assert_eq(summary_get_named(&med, "outcomes.fetched", &v), 0);
    cr_assert_eq(v, 20, "lower middle of 10 20 30 40");
    cr_assert_eq(summary_get_named(&max, "outcomes.fetched", &v), 0);
    cr_assert_eq(v, 40);
    cr_assert_eq(summary_get_named(&med, "counters.lock_handoffs", &v), 0);
    cr_assert_eq(v, 3, "over its two runs, not with zeros for the others");
    cr_assert_eq(summary_get_named(&max, "counters.lock_handoffs", &v), 0);
    cr_assert_eq(v, 7);
    cr_assert_eq(med.nnamed, 2);
    cr_assert_str_eq(med.named[0].name, "outcomes.fetched", "in order of first sight");
}

Test(summary, set_named_replaces_and_ignores_overflow)
{
    struct fb_summary s = {0};
    uint64_t v;
    summary_set_named(&s, "counters.a", 1);
    summary_set_named(&s, "counters.a", 2);
    cr_assert_eq(s.nnamed, 1);
    cr_assert_eq(summary_get_named(&s, "counters.a", &v), 0);
    cr_assert_eq(v, 2);
    for (int i = 0; i < SUMMARY_MAX_NAMED + 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "counters.c%d", i);
        summary_set_named(&s, name, (uint64_t)i);
    }
    cr_assert_eq(s.nnamed, SUMMARY_MAX_NAMED);
    summary_set_named(&s, "counters.a", 3);
    cr_assert_eq(summary_get_named(&s, "counters.a", &v), 0, "a full table still updates");
    cr_assert_eq(v, 3);
}

Test(metrics, names_and_kinds)
{
    const struct {
        const char *name;
        enum fb_metric_kind kind;
        int hib;
    } good[] = {
        {"tasks", METRIC_COUNT, -1},        {"wall_us", METRIC_MEASURE, 0},
        {"wall_ms", METRIC_MEASURE, 0},     {"wall_s", METRIC_MEASURE, 0},
        {"errors", METRIC_COUNT, 0},        {"errors.total", METRIC_COUNT, 0},
        {"errors.tls", METRIC_COUNT, 0},    {"errors.body_too_large", METRIC_COUNT, 0},
        {"cache_hits", METRIC_COUNT, 1},    {"p50_us", METRIC_MEASURE, 0},
        {"p99_9_ms", METRIC_MEASURE, 0},    {"mean_ms", METRIC_MEASURE, 0},
        {"max_ms", METRIC_MEASURE, 0},      {"wait_us", METRIC_MEASURE, 0},
        {"wait_ms", METRIC_MEASURE, 0},     {"outcomes.shared", METRIC_COUNT, -1},
        {"counters.lock_handoffs", METRIC_COUNT, -1}, {"wait_us.lock_wait", METRIC_MEASURE, 0},
        {"wait_ms.queued", METRIC_MEASURE, 0},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        enum fb_metric_kind kind;
        int hib = 9;
        cr_assert_eq(metric_kind(good[i].name, &kind, &hib), 0, "%s", good[i].name);
        cr_assert_eq(kind, good[i].kind, "%s", good[i].name);
        cr_assert_eq(hib, good[i].hib, "%s", good[i].name);
    }
    const char *bad[] = {"", "nosuch", "errors.nosuch", "errors.", "outcomes.", "counters", "wait_us.",
                         "p50", "p50_s", "p75_ms", "outcomes.a b", "outcomes.x.y", "wall_ms ",
                         "counters.a_name_that_is_far_too_long_for_the_table_x", NULL};
    for (int i = 0; bad[i]; i++) {
        enum fb_metric_kind kind;
        int hib;
        cr_assert_eq(metric_kind(bad[i], &kind, &hib), -1, "accepted '%s'", bad[i]);
    }
}

Test(summary, stampede_and_waiters_round_trip_and_older_reports_lack_them)
{
    struct fb_summary s, back;
    char err[256];
    double v;
    read_summary(v2_summary, &s);
    cr_assert_eq(s.stampede_max, 1);
    cr_assert_eq(s.waiters, 19);
    cr_assert_eq(s.waiter_p50_us, 4602991);
    cr_assert_eq(s.waiter_mean_us, 4602951);
    cr_assert_float_eq(value_of(&s, "waiter_p90_ms"), 4603.002, 1e-9);
    cr_assert_float_eq(value_of(&s, "waiters"), 19, 1e-9);
    cJSON *j = summary_to_json(&s);
    cr_assert_eq(summary_from_json(j, &back, err, sizeof(err)), 0, "%s", err);
    cJSON_Delete(j);
    cr_assert_eq(back.waiter_p99_us, 4603010);
    cr_assert_eq(back.stampede_max, 1);
    /* No waiters: the waiters' percentiles are null, not zeros. */
    s.waiters = 0;
    summary_set_latency(&s, 1, NULL);
    j = summary_to_json(&s);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "waiter_latency_us")));
    cr_assert_eq(summary_from_json(j, &back, err, sizeof(err)), 0, "%s", err);
    cJSON_Delete(j);
    cr_assert_eq(metric_value(&back, "waiter_p99_ms", &v), -1, "no waiters: no waiters' latency");
    cr_assert_float_eq(value_of(&back, "waiters"), 0, 1e-9);
    /* A report from before these existed: unknown, not 0. */
    read_summary(v1_summary, &s);
    cr_assert_eq(metric_value(&s, "stampede_max", &v), -1);
    cr_assert_eq(metric_value(&s, "waiters", &v), -1);
    cr_assert_str_eq(refusal("{\"wall_us\":1,\"upstream_requests\":1,\"cache_hits\":0,\"cache_misses\":1,"
                             "\"errors\":{\"total\":0},\"peak_threads\":1,\"threads_created\":0,"
                             "\"peak_connections\":1,\"server_requests\":null,\"waiter_latency_us\":{\"p50\":-1}}"),
                     "summary.waiter_latency_us.p50: not a non-negative integer");
}

Test(metrics, values_in_their_units)
{
    struct fb_summary s;
    read_summary(v2_summary, &s);
    s.errors[STAGE_TIMEOUT] = 3;
    cr_assert_float_eq(value_of(&s, "p50_ms"), 4602.990, 1e-9);
    cr_assert_float_eq(value_of(&s, "p90_us"), 4603001, 1e-9);
    cr_assert_float_eq(value_of(&s, "mean_ms"), 4602.950, 1e-9);
    cr_assert_float_eq(value_of(&s, "wall_s"), 4.60312, 1e-9);
    cr_assert_float_eq(value_of(&s, "wait_ms"), 87455.0, 1e-9);
    cr_assert_float_eq(value_of(&s, "wait_ms.lock_wait"), 87454.893, 1e-9);
    cr_assert_float_eq(value_of(&s, "wait_us.created"), 95, 1e-9);
    cr_assert_float_eq(value_of(&s, "outcomes.cache_hit"), 19, 1e-9);
    cr_assert_float_eq(value_of(&s, "counters.lock_handoffs"), 19, 1e-9);
    cr_assert_float_eq(value_of(&s, "errors.timeout"), 3, 1e-9);
    cr_assert_float_eq(value_of(&s, "tasks"), 20, 1e-9);
    double v;
    cr_assert_eq(metric_value(&s, "counters.nosuch", &v), -1, "a counter this run does not have");
    cr_assert_eq(metric_value(&s, "wait_ms.nosuch", &v), -1);
    s.server_requests = -1;
    cr_assert_eq(metric_value(&s, "server_requests", &v), -1);
    /* Every fixed metric has a value in a full v2 summary. */
    read_summary(v2_summary, &s);
    for (int i = 0; fb_metrics[i].name; i++)
        (void)value_of(&s, fb_metrics[i].name);
}
