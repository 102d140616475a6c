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

/* Workloads: the keys that make two runs the same experiment. */
static size_t workload_diffs(const char *base, const char *cur, char **lines)
{
    cJSON *b = cJSON_Parse(base), *c = cJSON_Parse(cur);
    size_t size = 0;
    FILE *out = open_memstream(lines, &size);
    cr_assert_not_null(out);
    size_t n = compare_workloads(b, c, out, "> ");
    fclose(out);
    cJSON_Delete(b);
    cJSON_Delete(c);
    return n;
}

Test(workloads, one_line_per_difference)
{
    char *lines;
    size_t n = workload_diffs("{\"tasks\":20,\"mode\":\"lock\",\"delay_ms\":50,\"capacity\":8,"
                              "\"url\":\"http://a/\",\"max_connections\":0,\"timeout_ms\":1}",
                              "{\"tasks\":200,\"mode\":\"nolock\",\"delay_ms\":null,\"capacity\":8,"
                              "\"url\":\"http://b/\",\"max_connections\":4,\"timeout_ms\":2}",
                              &lines);
    cr_assert_eq(n, 5, "%s", lines);
    cr_assert_str_eq(lines, "> workloads differ: config.tasks 20 vs 200\n"
                            "> workloads differ: config.mode \"lock\" vs \"nolock\"\n"
                            "> workloads differ: config.delay_ms 50 vs null\n"
                            "> workloads differ: config.url \"http://a/\" vs \"http://b/\"\n"
                            "> workloads differ: config.max_connections 0 vs 4\n");
    free(lines);
}

Test(workloads, missing_keys_are_unknown_not_different)
{
    char *lines;
    cr_assert_eq(workload_diffs("{\"tasks\":20}", "{\"mode\":\"nolock\",\"max_connections\":4}", &lines), 0,
                 "%s", lines);
    free(lines);
    cr_assert_eq(workload_diffs("{\"tasks\":20}", "null", &lines), 0, "no config at all: unknown");
    free(lines);
    cr_assert_eq(workload_diffs("{\"tasks\":20,\"mode\":\"lock\"}", "{\"tasks\":20,\"mode\":\"lock\"}", &lines), 0);
    free(lines);
}

Test(workloads, embedded_server_urls_differ_by_port_only)
{
    char *lines;
    cr_assert_eq(workload_diffs("{\"url\":\"http://h:1/delay/50\",\"embedded_server\":true}",
                                "{\"url\":\"http://h:2/delay/50\",\"embedded_server\":true}", &lines), 0,
                 "%s", lines);
    free(lines);
    cr_assert_eq(workload_diffs("{\"url\":\"http://h:1/delay/50\",\"embedded_server\":true}",
                                "{\"url\":\"http://h:2/delay/50\",\"embedded_server\":false}", &lines), 1,
                 "an external server against the embedded one");
    free(lines);
}

Test(workloads, strings_from_the_file_stay_on_one_line)
{
    char *lines;
    cr_assert_eq(workload_diffs("{\"url\":\"http://a/\\nx\"}", "{\"url\":\"http://b/\"}", &lines), 1);
    cr_assert_eq(strchr(lines, '\n'), lines + strlen(lines) - 1, "%s", lines);
    free(lines);
}
