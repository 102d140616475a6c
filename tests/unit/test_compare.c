/* The statistics and readers behind `compare` and --expect, and the report
 * reader compare shares with `report` (reportload). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "compare.h"
#include "expect.h"
#include "reportload.h"
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
    /* The modes are not a workload key: compare pairs them itself. */
    cr_assert_eq(n, 4, "%s", lines);
    cr_assert_str_eq(lines, "> workloads differ: config.tasks 20 vs 200\n"
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

/* `compare` itself, on hand-written reports. A fetchbench/2 report with two
 * modes, one run each, as docs/report-v2.md lays it out (tasks arrays cut
 * short: compare skips them). */
static const char v2_report[] =
    "{\"schema\": \"fetchbench/2\",\n"
    " \"tool\": {\"name\": \"fetchbench\", \"version\": \"0.2.0\"},\n"
    " \"config\": {\"tasks\": 20, \"modes\": [\"lock\", \"nolock\"], \"repeat\": 1,\n"
    "   \"url\": \"http://127.0.0.1:41234/delay/4600/url/{key}\", \"delay_ms\": 4600, \"capacity\": 8,\n"
    "   \"timeout_ms\": 60000, \"max_body\": 16777216, \"max_connections\": 0, \"fetch_cap\": 341,\n"
    "   \"fd_limit\": 1024, \"host\": \"127.0.0.1\", \"host_resolved\": false, \"embedded_server\": true,\n"
    "   \"workload\": {\"seed\": 1, \"keys\": 1, \"zipf\": null, \"arrival\": \"gather\",\n"
    "                \"rate_per_s\": null, \"duration_ms\": null, \"ttl_ms\": null}},\n"
    " \"vocabulary\": {\"states\": [],\n"
    "   \"outcomes\": [{\"name\": \"fetched\", \"ok\": true}, {\"name\": \"cache_hit\", \"ok\": true},\n"
    "                {\"name\": \"error\", \"ok\": false}, {\"name\": \"cancelled\", \"ok\": false}],\n"
    "   \"counters\": [{\"name\": \"lock_handoffs\", \"mode\": \"lock\"}], \"stages\": []},\n"
    " \"runs\": [\n"
    "  {\"mode\": \"lock\", \"repeat\": 0, \"client\": 0, \"start_monotonic_us\": 81234567890,\n"
    "   \"summary\": {\"tasks\": 20, \"wall_us\": 4603120, \"upstream_requests\": 1, \"server_requests\": 1,\n"
    "     \"cache_hits\": 19, \"cache_misses\": 1, \"errors\": {\"total\": 0, \"timeout\": 0},\n"
    "     \"peak_threads\": 1, \"threads_created\": 0, \"threads_failed\": 0, \"peak_connections\": 1,\n"
    "     \"latency_us\": {\"p50\": 4602990, \"p90\": 4603001, \"p99\": 4603010, \"p99_9\": 4603010,\n"
    "                    \"max\": 4603010, \"mean\": 4602950},\n"
    "     \"wait_us\": {\"total\": 87455000, \"lock_wait\": 87454893},\n"
    "     \"outcomes\": {\"fetched\": 1, \"cache_hit\": 19, \"error\": 0, \"cancelled\": 0},\n"
    "     \"counters\": {\"lock_handoffs\": 19}},\n"
    "   \"keys\": {\"tasks\": [20], \"upstream_requests\": [1]},\n"
    "   \"load\": {\"source\": \"server\", \"interval_us\": 25000, \"max_in_service\": [1, 1]},\n"
    "   \"server\": null, \"threads\": {\"baseline\": 1, \"samples\": [[0, 1]], \"lifetimes\": []},\n"
    "   \"tasks\": [\n"
    "    {\"id\":0,\"key\":0,\"arrival_us\":0,\"outcome\":\"fetched\",\"start_us\":0,\"end_us\":4601500,\"spans\":[]}\n"
    "   ],\n"
    "   \"interrupted\": false},\n"
    "  {\"mode\": \"nolock\", \"repeat\": 0, \"client\": 0, \"start_monotonic_us\": 81239567890,\n"
    "   \"summary\": {\"tasks\": 20, \"wall_us\": 4610000, \"upstream_requests\": 20, \"server_requests\": 20,\n"
    "     \"cache_hits\": 0, \"cache_misses\": 20, \"errors\": {\"total\": 0, \"timeout\": 0},\n"
    "     \"peak_threads\": 1, \"threads_created\": 0, \"threads_failed\": 0, \"peak_connections\": 20,\n"
    "     \"latency_us\": {\"p50\": 4605000, \"p90\": 4606000, \"p99\": 4607000, \"p99_9\": 4607000,\n"
    "                    \"max\": 4607000, \"mean\": 4605100},\n"
    "     \"wait_us\": {\"total\": 2000},\n"
    "     \"outcomes\": {\"fetched\": 20, \"cache_hit\": 0, \"error\": 0, \"cancelled\": 0},\n"
    "     \"counters\": {}},\n"
    "   \"keys\": {\"tasks\": [20], \"upstream_requests\": [20]},\n"
    "   \"load\": {\"source\": \"server\", \"interval_us\": 25000, \"max_in_service\": [20]},\n"
    "   \"server\": null, \"threads\": {\"baseline\": 1, \"samples\": [[0, 1]], \"lifetimes\": []},\n"
    "   \"tasks\": [],\n"
    "   \"interrupted\": false}\n"
    " ],\n"
    " \"expectations\": [],\n"
    " \"interrupted\": false}\n";

/* The same lock experiment as fetchbench/1 wrote it (tests/baseline/lock.json). */
static const char v1_report[] =
    "{\"schema\": \"fetchbench/1\",\n"
    " \"tool\": {\"name\": \"fetchbench\", \"version\": \"0.1.0\"},\n"
    " \"config\": {\"tasks\":20,\"mode\":\"lock\",\"url\":\"http://vm:44241/delay/4600\",\"delay_ms\":4600,"
    "\"capacity\":8,\"timeout_ms\":60000,\"max_body\":16777216,\"max_connections\":0,\"host\":\"vm\","
    "\"host_resolved\":true,\"embedded_server\":true},\n"
    " \"interrupted\": false,\n"
    " \"summary\": {\"wall_us\":4603500,\"upstream_requests\":1,\"server_requests\":1,\"cache_hits\":19,"
    "\"cache_misses\":1,\"errors\":{\"total\":0,\"resolve\":0,\"connect\":0,\"timeout\":0,\"http_status\":0,"
    "\"read\":0,\"body_too_large\":0,\"other\":0},\"peak_threads\":1,\"threads_created\":0,\"peak_connections\":1},\n"
    " \"server\": {\"requests\": 1},\n"
    " \"threads\": {\"baseline\": 1, \"samples\": [[0,1]], \"lifetimes\": []},\n"
    " \"tasks\": []}\n";

/* text with the first occurrence of from (which must be there) replaced by
 * to; the result in a static buffer. */
static const char *edit(const char *text, const char *from, const char *to)
{
    static char out[2][16384];
    static int which;
    const char *at = strstr(text, from);
    cr_assert_not_null(at, "'%s' not in the document", from);
    which ^= 1;
    snprintf(out[which], sizeof(out[which]), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out[which];
}

static const char *write_temp(const char *text, const char *name)
{
    static char paths[2][4096];
    static int which;
    const char *dir = getenv("TMPDIR");
    which ^= 1;
    snprintf(paths[which], sizeof(paths[which]), "%s/fb-compare-%s-XXXXXX", dir && *dir ? dir : "/tmp", name);
    int fd = mkstemp(paths[which]);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return paths[which];
}

/* Reads and removes the file at path; the text in a static buffer. */
static const char *slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    return buf;
}

static char out_text[16384], err_text[4096];

/* Runs `compare [opt] BASE NEW` on the two texts; its exit code, with its
 * stdout and stderr in out_text and err_text. */
static int run_compare(const char *base, const char *cur, const char *opt)
{
    char bpath[4096], cpath[4096], opath[4096], epath[4096];
    snprintf(bpath, sizeof(bpath), "%s", write_temp(base, "base"));
    snprintf(cpath, sizeof(cpath), "%s", write_temp(cur, "new"));
    snprintf(opath, sizeof(opath), "%s", write_temp("", "out"));
    snprintf(epath, sizeof(epath), "%s", write_temp("", "err"));
    char name[] = "compare", *o = opt ? strdup(opt) : NULL;
    char *argv[] = {name, bpath, cpath, o, NULL};
    int argc = opt ? 4 : 3;
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int ofd = open(opath, O_WRONLY | O_TRUNC), efd = open(epath, O_WRONLY | O_TRUNC);
    cr_assert(saved_out >= 0 && saved_err >= 0 && ofd >= 0 && efd >= 0);
    dup2(ofd, 1);
    dup2(efd, 2);
    int code = compare_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(ofd);
    close(efd);
    free(o);
    unlink(bpath);
    unlink(cpath);
    slurp(opath, out_text, sizeof(out_text));
    slurp(epath, err_text, sizeof(err_text));
    return code;
}

/* The line of the table of mode that starts with metric, or NULL. */
static const char *row(const char *mode, const char *metric)
{
    static char line[256];
    char heading[64];
    snprintf(heading, sizeof(heading), "mode %s:\n", mode);
    const char *at = strstr(out_text, heading);
    if (at == NULL)
        return NULL;
    const char *end = strstr(at + 1, "\nmode ");
    for (const char *p = strchr(at, '\n') + 1; *p && (end == NULL || p < end); p = strchr(p, '\n') + 1) {
        size_t n = strcspn(p, "\n");
        if (strncmp(p, metric, strlen(metric)) == 0 && p[strlen(metric)] == ' ') {
            snprintf(line, sizeof(line), "%.*s", (int)n, p);
            return line;
        }
        if (p[n] == '\0')
            break;
    }
    return NULL;
}

static void assert_row(const char *mode, const char *metric, const char *verdict)
{
    const char *r = row(mode, metric);
    cr_assert_not_null(r, "no row %s in mode %s:\n%s", metric, mode, out_text);
    cr_assert(strstr(r, verdict) != NULL, "%s %s: '%s', expected '%s'\n%s", mode, metric, r, verdict, out_text);
}

/* v2_report with its lock run only; in a static buffer. */
static const char *lock_run_only(void)
{
    static char one[16384];
    const char *doc = edit(v2_report, "\"lock\", \"nolock\"]", "\"lock\"]");
    const char *start = strstr(doc, ",\n  {\"mode\": \"nolock\"");
    const char *end = strstr(doc, "\n ],\n \"expectations\"");
    cr_assert(start && end);
    snprintf(one, sizeof(one), "%.*s%s", (int)(start - doc), doc, end);
    return one;
}

Test(compare_reports, v2_against_itself_compares_each_mode)
{
    cr_assert_eq(run_compare(v2_report, v2_report, NULL), 0, "%s%s", err_text, out_text);
    cr_assert_str_eq(err_text, "");
    cr_assert_not_null(strstr(out_text, "mode lock:\n"), "%s", out_text);
    cr_assert_not_null(strstr(out_text, "mode nolock:\n"), "%s", out_text);
    for (int m = 0; m < 2; m++) {
        const char *mode = m ? "nolock" : "lock";
        assert_row(mode, "upstream_requests", "same");
        assert_row(mode, "p99_us", "same");
        assert_row(mode, "p50_us", "same");
        assert_row(mode, "tasks", "same");
        assert_row(mode, "outcomes.fetched", "same");
        assert_row(mode, "outcomes.error", "same");
    }
    assert_row("lock", "counters.lock_handoffs", "same");
    cr_assert_null(row("nolock", "counters.lock_handoffs"), "nolock has no such counter");
    cr_assert_null(row("lock", "wait_us"), "wait is not in the table");
    cr_assert(strstr(out_text, "lock: 1 base run, 1 new run: no regression\n") != NULL, "%s", out_text);
    const char *last = strrchr(out_text, '\n');
    while (last > out_text && last[-1] != '\n')
        last--;
    cr_assert_str_eq(last, "2 modes compared, threshold 10.0%: no regression\n");
}

Test(compare_reports, v2_a_count_changed_in_one_mode_is_a_regression)
{
    /* nolock's fetches: 20 -> 21. */
    const char *cur = edit(v2_report, "\"upstream_requests\": 20", "\"upstream_requests\": 21");
    cr_assert_eq(run_compare(v2_report, cur, NULL), 1, "%s%s", err_text, out_text);
    assert_row("nolock", "upstream_requests", "REGRESSION (counts must match)");
    assert_row("lock", "upstream_requests", "same");
    cr_assert(strstr(out_text, "nolock: 1 base run, 1 new run: REGRESSION\n") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "lock: 1 base run, 1 new run: no regression\n") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "2 modes compared, threshold 10.0%: REGRESSION in nolock\n") != NULL, "%s",
              out_text);
    /* And the other way round it is better, not a regression. */
    cr_assert_eq(run_compare(cur, v2_report, NULL), 0, "%s", out_text);
    assert_row("nolock", "upstream_requests", "better");
}

Test(compare_reports, v2_failing_outcomes_may_not_grow)
{
    /* The vocabulary says error is not ok: more is a regression. */
    const char *cur = edit(v2_report, "\"fetched\": 1, \"cache_hit\": 19, \"error\": 0",
                           "\"fetched\": 1, \"cache_hit\": 18, \"error\": 1");
    cr_assert_eq(run_compare(v2_report, cur, "--counts-only"), 1, "%s", out_text);
    assert_row("lock", "outcomes.error", "REGRESSION (counts must match)");
    /* cache_hit is ok and has no better direction of its own: changed. */
    assert_row("lock", "outcomes.cache_hit", "changed (no better direction)");
    cr_assert_eq(run_compare(cur, v2_report, "--counts-only"), 0, "%s", out_text);
    assert_row("lock", "outcomes.error", "better");
    /* A counter that changes, all else equal: shown, not a regression. */
    cur = edit(v2_report, "\"lock_handoffs\": 19", "\"lock_handoffs\": 18");
    cr_assert_eq(run_compare(v2_report, cur, "--counts-only"), 0, "%s", out_text);
    assert_row("lock", "counters.lock_handoffs", "changed");
    /* A counter only one side has is listed, not judged. */
    cur = edit(v2_report, "\"counters\": {}", "\"counters\": {\"retries\": 3}");
    cr_assert_eq(run_compare(v2_report, cur, "--counts-only"), 0, "%s", out_text);
    assert_row("nolock", "counters.retries", "n/a (only in new)");
}

Test(compare_reports, v2_percentiles_are_measures)
{
    /* lock's p99 10x slower: beyond the threshold, a regression. */
    const char *cur = edit(v2_report, "\"p99\": 4603010", "\"p99\": 46030100");
    cr_assert_eq(run_compare(v2_report, cur, NULL), 1, "%s", out_text);
    assert_row("lock", "p99_us", "REGRESSION (beyond the threshold)");
    cr_assert_eq(run_compare(v2_report, cur, "--counts-only"), 0, "%s", out_text);
    assert_row("lock", "p99_us", "not judged (--counts-only)");
}

Test(compare_reports, modes_that_differ_are_refused)
{
    /* A report with lock only, against one with lock and nolock. */
    const char *lock_only = lock_run_only();
    cr_assert_eq(run_compare(v2_report, lock_only, NULL), 2, "%s", out_text);
    cr_assert_str_eq(err_text, "fetchbench compare: modes differ: base [\"lock\",\"nolock\"] vs new [\"lock\"]\n");
    cr_assert_str_eq(out_text, "", "nothing on stdout");
    /* Allowed: the common mode is compared, the other listed. */
    cr_assert_eq(run_compare(v2_report, lock_only, "--allow-different"), 0, "%s%s", err_text, out_text);
    cr_assert(strstr(err_text, "WARNING: modes differ") != NULL, "%s", err_text);
    assert_row("lock", "upstream_requests", "same");
    cr_assert(strstr(out_text, "mode nolock: only in base, not compared\n") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "1 mode compared, threshold 10.0%: no regression (UNRELIABLE: the modes differ; "
                               "compared anyway)\n") != NULL,
              "%s", out_text);
    /* No mode in common: nothing to compare, even when allowed. */
    const char *other = edit(lock_only, "{\"mode\": \"lock\", \"repeat\"", "{\"mode\": \"other\", \"repeat\"");
    cr_assert_eq(run_compare(v2_report, other, "--allow-different"), 2, "%s", out_text);
    cr_assert(strstr(err_text, "fetchbench compare: no mode in common: nothing to compare\n") != NULL, "%s",
              err_text);
}

Test(compare_reports, v1_against_v2)
{
    const char *one = lock_run_only();
    cr_assert_eq(run_compare(v1_report, one, "--counts-only"), 0, "%s%s", err_text, out_text);
    cr_assert_str_eq(err_text, "", "workload keys v1 lacks are unknown, not different");
    assert_row("lock", "upstream_requests", "same");
    assert_row("lock", "cache_hits", "same");
    assert_row("lock", "wall_us", "not judged");
    cr_assert_null(row("lock", "p99_us"), "v1 has no percentiles: left out");
    cr_assert_null(row("lock", "tasks"), "v1 has no tasks: left out");
    assert_row("lock", "outcomes.fetched", "n/a (only in new)");
    /* And both ways, and v1 against itself. */
    cr_assert_eq(run_compare(one, v1_report, "--counts-only"), 0, "%s%s", err_text, out_text);
    assert_row("lock", "outcomes.fetched", "n/a (only in base)");
    cr_assert_eq(run_compare(v1_report, v1_report, NULL), 0, "%s%s", err_text, out_text);
    cr_assert(strstr(out_text, "1 mode compared, threshold 10.0%: no regression\n") != NULL, "%s", out_text);
    /* v1 against both modes: nolock is only in the new report. */
    cr_assert_eq(run_compare(v1_report, v2_report, NULL), 2, "%s", out_text);
    cr_assert_str_eq(err_text, "fetchbench compare: modes differ: base [\"lock\"] vs new [\"lock\",\"nolock\"]\n");
    /* A v1 report with --repeat: its runs are repeats.runs. */
    const char *rep = edit(v1_report, " \"server\":",
                           " \"repeats\": {\"count\": 2, \"runs\": [{\"wall_us\":1,\"upstream_requests\":1,"
                           "\"server_requests\":1,\"cache_hits\":19,\"cache_misses\":1,\"errors\":{\"total\":0},"
                           "\"peak_threads\":1,\"threads_created\":0,\"peak_connections\":1},{\"wall_us\":2,"
                           "\"upstream_requests\":2,\"server_requests\":1,\"cache_hits\":19,\"cache_misses\":1,"
                           "\"errors\":{\"total\":0},\"peak_threads\":1,\"threads_created\":0,"
                           "\"peak_connections\":1}]},\n \"server\":");
    cr_assert_eq(run_compare(rep, one, "--counts-only"), 0, "%s%s", err_text, out_text);
    cr_assert(strstr(out_text, "lock: 2 base runs, 1 new run: no regression\n") != NULL, "%s", out_text);
}

Test(compare_reports, v1_modes_that_differ_pair_their_one_mode)
{
    /* The broken-lock stand-in: lock against nolock, one mode each. */
    const char *nolock = edit(edit(v1_report, "\"mode\":\"lock\"", "\"mode\":\"nolock\""),
                              "\"upstream_requests\":1", "\"upstream_requests\":20");
    cr_assert_eq(run_compare(v1_report, nolock, NULL), 2);
    cr_assert_str_eq(err_text, "fetchbench compare: modes differ: base [\"lock\"] vs new [\"nolock\"]\n");
    cr_assert_eq(run_compare(v1_report, nolock, "--allow-different"), 1, "%s", out_text);
    cr_assert(strstr(out_text, "mode lock vs nolock:\n") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "\nupstream_requests ") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "REGRESSION in nolock (UNRELIABLE: the modes differ; compared anyway)\n") != NULL,
              "%s", out_text);
}

Test(compare_reports, workload_difference_refused)
{
    const char *cur = edit(v2_report, "\"seed\": 1", "\"seed\": 2");
    cr_assert_eq(run_compare(v2_report, cur, NULL), 2);
    cr_assert_str_eq(err_text, "fetchbench compare: workloads differ: config.workload.seed 1 vs 2\n");
    cr_assert_str_eq(out_text, "");
    cur = edit(edit(v2_report, "\"zipf\": null", "\"zipf\": 1.1"), "\"tasks\": 20, \"modes\"", "\"tasks\": 30, \"modes\"");
    cr_assert_eq(run_compare(v2_report, cur, NULL), 2);
    cr_assert_str_eq(err_text, "fetchbench compare: workloads differ: config.tasks 20 vs 30\n"
                               "fetchbench compare: workloads differ: config.workload.zipf null vs 1.1\n");
    cr_assert_eq(run_compare(v2_report, cur, "--allow-different"), 0, "%s", out_text);
    cr_assert(strstr(err_text, "fetchbench compare: WARNING: workloads differ: config.tasks 20 vs 30\n") != NULL,
              "%s", err_text);
    /* A workload key one report lacks is unknown, not a difference. */
    cur = edit(v2_report, "\"ttl_ms\": null", "\"extra\": 5");
    cr_assert_eq(run_compare(v2_report, cur, NULL), 0, "%s", err_text);
}

Test(compare_reports, interrupted_runs_and_bad_runs)
{
    const char *cur = edit(v2_report, "\"interrupted\": false}\n ],", "\"interrupted\": true}\n ],");
    cr_assert_eq(run_compare(v2_report, cur, NULL), 2);
    cr_assert(strstr(err_text, ": an interrupted run, its numbers cover part of the workload") != NULL, "%s",
              err_text);
    cr_assert_eq(strchr(err_text, '\n'), err_text + strlen(err_text) - 1, "one line: %s", err_text);
    cr_assert_eq(run_compare(v2_report, cur, "--allow-interrupted"), 0, "%s", out_text);
    cr_assert(strstr(out_text, "(UNRELIABLE: the new run was interrupted; compared anyway)\n") != NULL, "%s",
              out_text);
    cur = edit(v2_report, "\n \"interrupted\": false}\n", "\n \"interrupted\": true}\n");
    cr_assert_eq(run_compare(cur, v2_report, NULL), 2, "the top-level mark too");
    const struct {
        const char *from, *to, *err;
    } bad[] = {
        {"\"mode\": \"nolock\"", "\"mode\": 3", "runs[1].mode: not a mode's name"},
        {"\"mode\": \"nolock\"", "\"mode\": \"no\\nlock\"", "runs[1].mode: not a mode's name"},
        {"\"interrupted\": false}\n ],", "\"interrupted\": 0}\n ],", "runs[1].interrupted: not true or false"},
        {"\"p99\": 4603010", "\"p99\": -1", "runs[0].summary.latency_us.p99: not a non-negative integer"},
        {"\"lock_handoffs\": 19", "\"lock\\u0007handoffs\": -19",
         "runs[0].summary.counters.lock?handoffs: not a non-negative integer"},
        {"\"runs\": [", "\"runs\": [], \"x\": [", "runs: no runs"},
        {"\"schema\": \"fetchbench/2\"", "\"schema\": \"fetchbench/3\"",
         "not a fetchbench/1 or fetchbench/2 report (schema: fetchbench/3)"},
        {"{\"name\": \"error\", \"ok\": false}", "{\"name\": \"error\", \"ok\": 0}",
         "vocabulary.outcomes[2]: expected {\"name\": string, \"ok\": true or false}"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cur = edit(v2_report, bad[i].from, bad[i].to);
        cr_assert_eq(run_compare(v2_report, cur, NULL), 2, "case %zu", i);
        cr_assert(strstr(err_text, bad[i].err) != NULL, "case %zu: %s", i, err_text);
        cr_assert_eq(strchr(err_text, '\n'), err_text + strlen(err_text) - 1, "one line: %s", err_text);
    }
}

/* reportload, the reader compare and `report` share, on the same texts. */
static int load(struct fb_loaded_report *r, const char *text, char *err, size_t errlen)
{
    const char *path = write_temp(text, "load");
    int rc = reportload_read(r, path, err, errlen);
    unlink(path);
    return rc;
}

Test(reportload, v1_empty_repeats_runs_is_the_summary)
{
    /* An empty list of repeats is no repeats: the summary is the one run
     * (report wrote before its runs array here). */
    const char *empty = edit(v1_report, " \"tasks\": []}", " \"repeats\": {\"runs\": []},\n \"tasks\": []}");
    struct fb_loaded_report r;
    char err[256] = "";
    cr_assert_eq(load(&r, empty, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(r.nruns, 1);
    cr_assert_eq(r.runs[0].summary.wall_us, 4603500);
    cr_assert_str_eq(r.runs[0].mode, "lock");
    reportload_free(&r);
    cr_assert_eq(run_compare(v1_report, empty, NULL), 0, "%s%s", err_text, out_text);
}

Test(reportload, what_compare_judges_by)
{
    struct fb_loaded_report r;
    char err[256] = "";
    cr_assert_eq(load(&r, v2_report, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(r.nruns, 2);
    cr_assert_eq(r.nmodes, 2);
    cr_assert_eq(r.runs[1].mode_index, 1);
    cr_assert_eq(r.noutcomes, 4);
    cr_assert_str_eq(r.outcomes[2], "error");
    cr_assert(r.outcome_ok[0] && r.outcome_ok[1] && !r.outcome_ok[2] && !r.outcome_ok[3], "ok: from the vocabulary");
    cr_assert(!r.interrupted && !r.runs[0].interrupted && !r.runs[1].interrupted);
    reportload_free(&r);
    const char *cur = edit(v2_report, "\n \"interrupted\": false}\n", "\n \"interrupted\": true}\n");
    cr_assert_eq(load(&r, cur, err, sizeof(err)), 0, "%s", err);
    cr_assert(r.interrupted && !r.runs[1].interrupted, "the report's mark, not a run's");
    reportload_free(&r);
    /* Refused with the words compare prints (one reader, one set of rules). */
    cur = edit(v2_report, "\n \"interrupted\": false}\n", "\n \"interrupted\": \"no\"}\n");
    cr_assert_eq(load(&r, cur, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "interrupted: not true or false");
    cur = edit(v2_report, "\"wall_us\": 4610000, ", "");
    cr_assert_eq(load(&r, cur, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "runs[1].summary.wall_us: missing");
    cur = edit(v2_report, "{\"name\": \"cancelled\", \"ok\": false}", "{\"name\": \"cancelled\"}");
    cr_assert_eq(load(&r, cur, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "vocabulary.outcomes[3]: expected {\"name\": string, \"ok\": true or false}");
    reportload_free(&r);
}
