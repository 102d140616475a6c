/* The statistics and readers behind `compare` and --expect. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "expect.h"
#include "jsonread.h"
#include "summary.h"

Test(mann_whitney, separated_samples_are_significant)
{
    double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
    double p = compare_mann_whitney_p(a, 5, b, 5);
    cr_assert_float_eq(p, 1.0 / 252.0, 1e-9, "exact p of the most extreme arrangement, got %g", p);
    cr_assert_gt(compare_mann_whitney_p(b, 5, a, 5), 0.99, "the other direction is not significant");
}

Test(mann_whitney, interleaved_samples_are_not)
{
    double a[] = {1, 3, 5, 7, 9}, b[] = {2, 4, 6, 8, 10};
    double p = compare_mann_whitney_p(a, 5, b, 5);
    cr_assert_gt(p, 0.2);
    cr_assert_lt(p, 0.6);
}

Test(mann_whitney, ties_use_the_normal_approximation)
{
    double a[] = {5, 5, 5, 5, 5}, b[] = {5, 5, 5, 5, 5};
    double p = compare_mann_whitney_p(a, 5, b, 5);
    cr_assert(!isnan(p));
    cr_assert_geq(p, 0.5);
}

Test(summary, aggregate_median_min_max)
{
    struct fb_summary runs[5] = {0}, med, min, max;
    uint64_t walls[] = {500, 100, 300, 200, 400};
    for (int i = 0; i < 5; i++) {
        runs[i].wall_us = walls[i];
        runs[i].upstream_requests = 1;
        runs[i].server_requests = 1;
    }
    summary_aggregate(runs, 5, &med, &min, &max);
    cr_assert_eq(med.wall_us, 300);
    cr_assert_eq(min.wall_us, 100);
    cr_assert_eq(max.wall_us, 500);
    cr_assert_eq(med.server_requests, 1);
    runs[2].server_requests = -1;
    summary_aggregate(runs, 5, &med, &min, &max);
    cr_assert_eq(med.server_requests, -1, "one unknown makes the aggregate unknown");
}

Test(summary, json_round_trip)
{
    struct fb_summary s = {.wall_us = 4606024, .upstream_requests = 20, .server_requests = -1,
                           .cache_misses = 20, .errors_total = 2, .peak_threads = 6,
                           .threads_created = 20, .peak_connections = 20};
    struct fb_summary back;
    char err[128];
    s.errors[STAGE_TIMEOUT] = 2;
    cJSON *j = summary_to_json(&s);
    cr_assert_eq(summary_from_json(j, &back, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(memcmp(&s, &back, sizeof(s)), 0);
    cJSON_Delete(j);
}

Test(summary, bad_fields_are_named)
{
    struct fb_summary s;
    char err[128];
    cJSON *j = cJSON_Parse("{\"wall_us\": -1}");
    cr_assert_eq(summary_from_json(j, &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, "wall_us") != NULL, "%s", err);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"wall_us\": 1e300}");
    cr_assert_eq(summary_from_json(j, &s, err, sizeof(err)), -1, "huge numbers are refused");
    cJSON_Delete(j);
}

Test(expect, parses_and_judges)
{
    struct fb_expect e[4];
    char err[256];
    struct fb_summary s = {.wall_us = 4600000, .upstream_requests = 1, .peak_threads = 2};
    cr_assert_eq(expect_parse("upstream_requests==1", &e[0], err, sizeof(err)), 0);
    cr_assert_eq(expect_parse("wall_ms<6000", &e[1], err, sizeof(err)), 0);
    cr_assert_eq(expect_parse("peak_threads<=1", &e[2], err, sizeof(err)), 0);
    cr_assert_eq(expect_parse("wall_s>=4.5", &e[3], err, sizeof(err)), 0);
    cr_assert_eq(expect_check(e, 4, &s), 1);
    cr_assert(e[0].ok && e[1].ok && !e[2].ok && e[3].ok);
    cr_assert_float_eq(e[2].actual, 2.0, 1e-9);
}

Test(expect, rejects_bad_expressions)
{
    struct fb_expect e;
    char err[256];
    const char *bad[] = {"", "upstream_requests", "==1", "nosuch==1", "wall_ms<<5", "wall_ms<abc",
                         "wall_ms<", "wall_ms=5", "wall_ms<nan", "wall_ms<inf", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(expect_parse(bad[i], &e, err, sizeof(err)), -1, "accepted '%s'", bad[i]);
}

Test(jsonread, skips_tasks_and_threads_but_keeps_the_rest)
{
    const char *doc = "{\"schema\":\"fetchbench/1\",\"threads\":{\"samples\":[[0,1]]},"
                      "\"tasks\":[{\"id\":0,\"spans\":[{\"state\":\"x}]\"}]}],\"summary\":{\"wall_us\":5}}";
    char err[256];
    cJSON *j = jsonread_report(doc, strlen(doc), err, sizeof(err));
    cr_assert_not_null(j, "%s", err);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "tasks")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "threads")));
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "wall_us")->valueint, 5);
    cJSON_Delete(j);
}

Test(jsonread, bad_documents_get_a_reason)
{
    char err[256];
    static char deep[200001];
    const char *bad[] = {"", "[]", "{", "{\"a\":", "{\"a\":1,}", "{\"tasks\":[1,2}", "{\"a\":1} x",
                         "{\"tasks\":\"unterminated}", "not json", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        cr_assert_null(jsonread_report(bad[i], strlen(bad[i]), err, sizeof(err)), "accepted '%s'", bad[i]);
        cr_assert_neq(err[0], '\0', "no reason for '%s'", bad[i]);
    }
    /* Found by the fuzzer: values shorter than the "null" replacing them. */
    const char *short_values = "{\"tasks\":1,\"tasks\":1,\"threads\":2,\"tasks\":3,\"tasks\":4}";
    cJSON *sv = jsonread_report(short_values, strlen(short_values), err, sizeof(err));
    cr_assert_not_null(sv, "%s", err);
    cJSON_Delete(sv);
    /* Deep nesting: in a skipped member it is only scanned; elsewhere cJSON
     * refuses it. Neither may crash. */
    memset(deep, '[', 100000);
    memset(deep + 100000, ']', 100000);
    char *doc = malloc(200100);
    snprintf(doc, 200100, "{\"tasks\":%s}", deep);
    cJSON *j = jsonread_report(doc, strlen(doc), err, sizeof(err));
    cr_assert_not_null(j);
    cJSON_Delete(j);
    snprintf(doc, 200100, "{\"summary\":%s}", deep);
    cr_assert_null(jsonread_report(doc, strlen(doc), err, sizeof(err)));
    free(doc);
}
