#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

static struct fb_jsonw w;

/* Writes through jw into memory and parses the result back with cJSON. */
Test(jsonw, integers_round_trip)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    const int64_t values[] = {0, 1, 9, 10, 4600000, -1, -9007199254740991LL, 9007199254740991LL};

    jw_init(&w, f);
    jw_str(&w, "[");
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        if (i)
            jw_str(&w, ",");
        jw_i64(&w, values[i]);
    }
    jw_str(&w, "]");
    cr_assert_eq(jw_flush(&w), 0);
    fclose(f);

    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "not JSON: %s", out);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        cr_assert_eq((int64_t)cJSON_GetArrayItem(doc, (int)i)->valuedouble, values[i]);
    cJSON_Delete(doc);
    free(out);
}

Test(jsonw, u64_max_and_large_documents)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);

    jw_init(&w, f);
    jw_u64(&w, UINT64_MAX);
    /* Far beyond the 64 KiB buffer, and one piece larger than it. */
    for (int i = 0; i < 100000; i++)
        jw_str(&w, " 1234567");
    char *big = malloc(200000);
    memset(big, 'x', 200000);
    jw_raw(&w, big, 200000);
    free(big);
    cr_assert_eq(jw_flush(&w), 0);
    fclose(f);
    cr_assert_eq(n, 20 + 800000 + 200000);
    cr_assert_eq(strncmp(out, "18446744073709551615 1234567", 28), 0);
    cr_assert_eq(out[n - 1], 'x');
    free(out);
}

Test(jsonw, cjson_strings_are_escaped)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", "Failed \"to\" connect\n\tport 1");

    jw_init(&w, f);
    cr_assert_eq(jw_cjson(&w, o), 0);
    cr_assert_eq(jw_flush(&w), 0);
    fclose(f);
    cJSON *back = cJSON_Parse(out);
    cr_assert_str_eq(cJSON_GetObjectItem(back, "message")->valuestring, "Failed \"to\" connect\n\tport 1");
    cJSON_Delete(back);
    cJSON_Delete(o);
    free(out);
}

Test(jsonw, write_failure_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    cr_assert_not_null(f);
    jw_init(&w, f);
    for (int i = 0; i < 100000; i++)
        jw_str(&w, "0123456789");
    cr_assert_eq(jw_flush(&w), -1);
    fclose(f);
}
