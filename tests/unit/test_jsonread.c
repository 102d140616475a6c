/* The report reader behind `compare`: what it skips, what it refuses, and
 * how little of a file it reads before refusing. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonread.h"

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
    /* Found by the fuzzer: values shorter than the "null" replacing them.
     * Once a heap overflow of the copy; now also a duplicate. */
    const char *short_values = "{\"tasks\":1,\"tasks\":1,\"threads\":2,\"tasks\":3,\"tasks\":4}";
    cr_assert_null(jsonread_report(short_values, strlen(short_values), err, sizeof(err)));
    cr_assert_str_eq(err, "duplicate key \"tasks\"");
    const char *short_once = "{\"tasks\":1,\"threads\":2}";
    cJSON *sv = jsonread_report(short_once, strlen(short_once), err, sizeof(err));
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

/* The reason jsonread_report gives for doc, or "" when it accepts it. */
static const char *refusal(const char *doc)
{
    static char err[256];
    err[0] = '\0';
    cJSON *j = jsonread_report(doc, strlen(doc), err, sizeof(err));
    if (j != NULL) {
        cJSON_Delete(j);
        return "";
    }
    cr_assert_neq(err[0], '\0', "refused '%s' without a reason", doc);
    return err;
}

Test(jsonread, duplicate_keys_are_refused_with_their_path)
{
    cr_assert_str_eq(refusal("{\"schema\":\"fetchbench/1\",\"schema\":\"fetchbench/1\"}"),
                     "duplicate key \"schema\"");
    cr_assert_str_eq(refusal("{\"summary\":{\"wall_us\":1,\"cache_hits\":2,\"wall_us\":3}}"),
                     "duplicate key \"summary.wall_us\"");
    cr_assert_str_eq(refusal("{\"summary\":{\"errors\":{\"total\":0,\"tls\":0,\"tls\":1}}}"),
                     "duplicate key \"summary.errors.tls\"");
    cr_assert_str_eq(refusal("{\"config\":{\"tasks\":1},\"config\":{\"tasks\":2}}"),
                     "duplicate key \"config\"");
    cr_assert_str_eq(refusal("{\"repeats\":{\"runs\":[{\"wall_us\":1},{\"wall_us\":1,\"wall_us\":2}]}}"),
                     "duplicate key \"repeats.runs[1].wall_us\"");
    /* The skipped arrays are replaced by null: a second "tasks" is still a
     * second member of the top level. */
    cr_assert_str_eq(refusal("{\"tasks\":[],\"summary\":{},\"tasks\":[{\"id\":1}]}"), "duplicate key \"tasks\"");
    cr_assert_str_eq(refusal("{\"threads\":{},\"threads\":null}"), "duplicate key \"threads\"");
    /* cJSON decodes escapes before comparing, as Python does. */
    cr_assert_str_eq(refusal("{\"a\":1,\"\\u0061\":2}"), "duplicate key \"a\"");
    /* Of several, the first repeated in the document is named. */
    cr_assert_str_eq(refusal("{\"b\":1,\"a\":1,\"a\":2,\"b\":2}"), "duplicate key \"a\"");
    /* A name with a control character cannot break the one-line message. */
    const char *why = refusal("{\"x\\ny\":1,\"x\\ny\":2}");
    cr_assert_str_eq(why, "duplicate key \"x?y\"");
}

Test(jsonread, the_same_name_in_different_objects_is_no_duplicate)
{
    cr_assert_str_eq(refusal("{\"summary\":{\"total\":1,\"errors\":{\"total\":0}},\"total\":2,"
                             "\"repeats\":{\"runs\":[{\"wall_us\":1},{\"wall_us\":2}]}}"),
                     "");
    /* Inside the skipped arrays duplicates are not looked for: never built. */
    cr_assert_str_eq(refusal("{\"tasks\":[{\"id\":1,\"id\":2}]}"), "");
}

Test(jsonread, report_prefix_decides_early)
{
    struct {
        const char *text;
        int want;
    } cases[] = {
        {"{\"schema\": \"fetchbench/1\",", 1},
        {" \r\n\t{ \"schema\" :\n \"fetchbench/9\"", 1},
        {"{\"schema\":\"fetchbench/", 1},
        {"", -1},
        {"   ", -1},
        {"{", -1},
        {"{\"sch", -1},
        {"{\"schema\":\"fetch", -1},
        {"[", 0},
        {"y\ny\n", 0},
        {"{\"tool\":{},\"schema\":\"fetchbench/1\"}", 0},
        {"{\"schema\":\"other/1\"}", 0},
        {"{\"schema\":1}", 0},
        {"\xef\xbb\xbf{\"schema\":\"fetchbench/1\"}", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(jsonread_report_prefix(cases[i].text, strlen(cases[i].text)), cases[i].want,
                     "'%s'", cases[i].text);
    /* A NUL is a byte like any other, not the end of the text. */
    cr_assert_eq(jsonread_report_prefix("\0\0\0", 3), 0);
}

/* A temporary file holding len bytes of text (or of what seek skips: a
 * sparse file); its path in a static buffer. */
static const char *temp_file(const char *text, size_t len, off_t sparse)
{
    static char path[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/fb-jsonread-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    if (sparse)
        cr_assert_eq(ftruncate(fd, sparse), 0);
    close(fd);
    return path;
}

Test(jsonread, file_that_is_not_a_report_is_refused_unread)
{
    char err[256];
    size_t len;
    /* 3 GiB of zeros, below the 4 GiB cap: only the prefix decides. */
    const char *path = temp_file("", 0, (off_t)3 << 30);
    cr_assert_null(jsonread_report_file(path, (size_t)4 << 30, &len, err, sizeof(err)));
    cr_assert(strstr(err, "not a fetchbench report") != NULL, "%s", err);
    unlink(path);
    /* Whitespace that never ends is undecided until the prefix limit. */
    static char spaces[JSONREAD_PREFIX_MAX + 10];
    memset(spaces, ' ', sizeof(spaces));
    spaces[0] = '{';
    path = temp_file(spaces, sizeof(spaces), 0);
    cr_assert_null(jsonread_report_file(path, (size_t)4 << 30, &len, err, sizeof(err)));
    cr_assert(strstr(err, "not a fetchbench report") != NULL, "%s", err);
    unlink(path);
    /* Over the cap with a good beginning: refused by its size, unread. */
    const char *head = "{\"schema\": \"fetchbench/1\"";
    path = temp_file(head, strlen(head), 1 << 20);
    cr_assert_null(jsonread_report_file(path, 1 << 16, &len, err, sizeof(err)));
    cr_assert(strstr(err, "larger than 65536 bytes") != NULL, "%s", err);
    unlink(path);
}

Test(jsonread, report_file_is_read_whole)
{
    char err[256];
    size_t len;
    /* Longer than the first read and than the prefix limit. */
    size_t n = 3 * JSONREAD_PREFIX_MAX;
    char *doc = malloc(n);
    const char *head = "{\"schema\": \"fetchbench/1\", \"pad\": \"";
    memset(doc, 'x', n);
    memcpy(doc, head, strlen(head));
    memcpy(doc + n - 2, "\"}", 2);
    const char *path = temp_file(doc, n, 0);
    char *text = jsonread_report_file(path, (size_t)4 << 30, &len, err, sizeof(err));
    cr_assert_not_null(text, "%s", err);
    cr_assert_eq(len, n);
    cr_assert_eq(memcmp(text, doc, n), 0);
    free(text);
    unlink(path);
    free(doc);
    /* Short files: the parser says what is wrong with them. */
    path = temp_file("{\"sch", 5, 0);
    text = jsonread_report_file(path, 100, &len, err, sizeof(err));
    cr_assert_not_null(text, "%s", err);
    cr_assert_eq(len, 5);
    free(text);
    unlink(path);
}

Test(jsonread, reasons_stay_on_one_line)
{
    /* cJSON's error position quotes the text that follows it. */
    const char *why = refusal("{\"summary\":{\"a\":\n\n1 2\n\n}}");
    cr_assert_null(strchr(why, '\n'), "%s", why);
    cr_assert(strstr(why, "not JSON") != NULL, "%s", why);
}

/* fetchbench/2: each run carries its own task array and samples. */
Test(jsonread, v2_runs_keep_their_summaries_and_skip_their_arrays)
{
    const char *doc = "{\"schema\":\"fetchbench/2\",\"config\":{\"modes\":[\"lock\"]},"
                      "\"runs\":[ {\"mode\":\"lock\",\"repeat\":0,\"summary\":{\"wall_us\":5},"
                      "\"keys\":{\"tasks\":[20]},\"load\":{\"max_in_service\":[1]},"
                      "\"server\":{\"in_service_samples\":[[1,0]]},\"threads\":{\"samples\":[[0,1]]},"
                      "\"tasks\":[{\"id\":0,\"spans\":[[\"x}]\",0,1]]}],\"interrupted\":false} ,"
                      "{\"mode\":\"nolock\",\"summary\":{\"wall_us\":6}}, 7, [\"not a run\"] ],"
                      "\"interrupted\":false}";
    char err[256];
    cJSON *j = jsonread_report(doc, strlen(doc), err, sizeof(err));
    cr_assert_not_null(j, "%s", err);
    cJSON *runs = cJSON_GetObjectItem(j, "runs");
    cr_assert_eq(cJSON_GetArraySize(runs), 4);
    cJSON *run = cJSON_GetArrayItem(runs, 0);
    const char *skipped[] = {"tasks", "threads", "keys", "load", "server"};
    for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(run, skipped[i])), "runs[0].%s kept", skipped[i]);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "summary"), "wall_us")->valueint, 5);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(run, "interrupted")));
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 1), "mode")->valuestring, "nolock");
    cr_assert_eq(cJSON_GetArrayItem(runs, 2)->valueint, 7, "what is not a run is kept as it is");
    /* Only a run's members are skipped, not the document's "keys". */
    cJSON_Delete(j);
    doc = "{\"keys\":[1],\"runs\":[]}";
    j = jsonread_report(doc, strlen(doc), err, sizeof(err));
    cr_assert_not_null(j, "%s", err);
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "keys")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "runs")), 0);
    cJSON_Delete(j);
}

Test(jsonread, v2_run_task_arrays_are_only_scanned)
{
    /* Nesting cJSON refuses, inside a run's tasks: scanned, never built. */
    static char deep[200001];
    char err[256];
    memset(deep, '[', 100000);
    memset(deep + 100000, ']', 100000);
    char *doc = malloc(200100);
    snprintf(doc, 200100, "{\"runs\":[{\"tasks\":%s}]}", deep);
    cJSON *j = jsonread_report(doc, strlen(doc), err, sizeof(err));
    cr_assert_not_null(j, "%s", err);
    cJSON_Delete(j);
    snprintf(doc, 200100, "{\"runs\":[{\"summary\":%s}]}", deep);
    cr_assert_null(jsonread_report(doc, strlen(doc), err, sizeof(err)));
    free(doc);
    /* Values shorter than the "null" replacing them, many times over: the
     * copy must not outgrow its buffer (ASan watches). */
    size_t cap = 64 + 9 * 20000, n = 0;
    char *many = malloc(cap);
    n += (size_t)snprintf(many + n, cap - n, "{\"runs\":[{");
    for (int i = 0; i < 20000; i++)
        n += (size_t)snprintf(many + n, cap - n, "%s\"keys\":1", i ? "," : "");
    n += (size_t)snprintf(many + n, cap - n, "}]}");
    cr_assert_str_eq(refusal(many), "duplicate key \"runs[0].keys\"");
    free(many);
}

Test(jsonread, v2_bad_runs_get_a_reason)
{
    const char *bad[] = {"{\"runs\":[", "{\"runs\":[{\"tasks\":[}]}", "{\"runs\":[{}", "{\"runs\":[{},]}",
                         "{\"runs\":[{} {}]}", "{\"runs\":[{\"a\" 1}]}", "{\"runs\":[{\"a\":1,}]}",
                         "{\"runs\":[1 2]}", "{\"runs\":[{\"tasks\":1]}", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_neq(refusal(bad[i])[0], '\0', "accepted '%s'", bad[i]);
    cr_assert_str_eq(refusal("{\"runs\":[{\"mode\":\"a\"},{\"summary\":{\"wall_us\":1,\"wall_us\":2}}]}"),
                     "duplicate key \"runs[1].summary.wall_us\"");
    cr_assert_str_eq(refusal("{\"runs\":[{\"tasks\":[],\"tasks\":[]}]}"), "duplicate key \"runs[0].tasks\"");
}
