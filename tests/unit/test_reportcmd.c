/* The pieces of `fetchbench report`: the histogram's buckets, durations in
 * a unit per value, and the task walk over a report's text. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#include "histo.h"
#include "humanfmt.h"
#include "taskwalk.h"

Test(histo, every_value_in_one_bucket_and_marks_log_spaced)
{
    /* Cache hits in µs beside waits of a second: the log scale keeps both. */
    uint64_t v[] = {0, 3, 40, 900, 15000, 200000, 1000000, 1000000, 7};
    struct fb_histo h;
    histo_build(v, sizeof(v) / sizeof(v[0]), &h);
    uint64_t sum = 0;
    for (size_t b = 0; b < h.nbuckets; b++) {
        sum += h.count[b];
        if (b)
            cr_assert_gt(h.mark[b], h.mark[b - 1], "marks increase");
    }
    cr_assert_eq(sum, 9);
    cr_assert_eq(h.total, 9);
    cr_assert_eq(h.nbuckets, HISTO_MARKS);
    cr_assert_eq(h.mark[0], 0);
    cr_assert_eq(h.mark[HISTO_MARKS - 1], 1000000);
    cr_assert_eq(h.count[0], 1, "only the 0 is at the fastest mark");
    cr_assert_eq(h.count[HISTO_MARKS - 1], 2);
    /* log-spaced from 1 µs: the fifth mark is 10^(6*5/10) = 1000 µs. */
    cr_assert_eq(h.mark[5], 1000);
}

Test(histo, equal_values_make_one_bucket)
{
    uint64_t v[] = {5, 5, 5};
    struct fb_histo h;
    histo_build(v, 3, &h);
    cr_assert_eq(h.nbuckets, 1);
    cr_assert_eq(h.count[0], 3);
    histo_build(v, 0, &h);
    cr_assert_eq(h.nbuckets, 0);
}

Test(humanfmt, unit_per_value_and_ascii)
{
    char b[32];
    cr_assert_str_eq(humanfmt_duration(b, sizeof(b), 850, humanfmt_glyphs(0)), "850 us");
    cr_assert_str_eq(humanfmt_duration(b, sizeof(b), 850, humanfmt_glyphs(1)), "850 \xc2\xb5s");
    cr_assert_str_eq(humanfmt_duration(b, sizeof(b), 12345, humanfmt_glyphs(0)), "12.345 ms");
    cr_assert_str_eq(humanfmt_duration(b, sizeof(b), 4603120, humanfmt_glyphs(0)), "4.603 s");
    cr_assert_str_eq(humanfmt_duration_as(b, sizeof(b), 2000, 4603120, humanfmt_glyphs(0)), "0.002 s");
    cr_assert_str_eq(humanfmt_ratio(b, sizeof(b), 20), "20");
    cr_assert_str_eq(humanfmt_ratio(b, sizeof(b), 20.0 / 3), "6.67");
    cr_assert_str_eq(humanfmt_ratio(b, sizeof(b), 12345), "12345");
}

struct seen {
    char ids[64];
};

static int note(void *ctx, size_t run, cJSON *task)
{
    struct seen *s = ctx;
    size_t n = strlen(s->ids);
    snprintf(s->ids + n, sizeof(s->ids) - n, "%zu:%d ", run,
             (int)cJSON_GetObjectItemCaseSensitive(task, "id")->valuedouble);
    return 0;
}

Test(taskwalk, visits_each_runs_tasks_in_order_and_nothing_else)
{
    /* "tasks" elsewhere (a config key, inside a string) is not a run's. */
    const char *text = "{\"schema\": \"fetchbench/2\", \"config\": {\"tasks\": 3},\n"
                       " \"runs\": [{\"mode\": \"a\", \"keys\": {\"tasks\": [2]}, \"tasks\": [{\"id\":0},\n{\"id\":1}]},"
                       " {\"mode\": \"b \\\"tasks\\\"\", \"tasks\": []}, {\"tasks\": [ {\"id\": 7} ] }],"
                       " \"interrupted\": false}";
    struct seen s = {""};
    char err[128];
    cr_assert_eq(taskwalk_report(text, strlen(text), note, &s, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(s.ids, "0:0 0:1 2:7 ");
}

Test(taskwalk, a_cut_report_is_an_error)
{
    const char *text = "{\"schema\": \"fetchbench/2\", \"runs\": [{\"tasks\": [{\"id\":0},";
    struct seen s = {""};
    char err[128] = "";
    cr_assert_eq(taskwalk_report(text, strlen(text), note, &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, "tasks: ") != NULL, "%s", err);
}
