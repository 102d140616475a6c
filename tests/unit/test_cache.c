#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static char *dup_body(const char *s)
{
    return strdup(s);
}

Test(cache, miss_then_hit)
{
    struct fb_cache c;
    const char *b = NULL;
    size_t len = 0;
    cr_assert_eq(cache_init(&c), 0);
    cr_assert_eq(cache_get(&c, "http://a/", &b, &len), 0);
    cr_assert_eq(cache_put(&c, "http://a/", dup_body("body-a"), 6), 0);
    cr_assert_eq(cache_get(&c, "http://a/", &b, &len), 1);
    cr_assert_not_null(b);
    cr_assert_eq(len, 6);
    cr_assert_arr_eq(b, "body-a", 6);
    cr_assert_eq(cache_get(&c, "http://b/", &b, &len), 0, "other keys still miss");
    cache_free(&c);
}

/* A 204 or an empty 200 is an answer: caching it must make the next lookup
 * a hit, not a miss that fetches again. */
Test(cache, empty_body_is_a_hit)
{
    struct fb_cache c;
    const char *b = "unset";
    size_t len = 99;
    cache_init(&c);
    cr_assert_eq(cache_put(&c, "http://a/", NULL, 0), 0);
    cr_assert_eq(cache_get(&c, "http://a/", &b, &len), 1);
    cr_assert_eq(len, 0);
    cache_free(&c);
}

Test(cache, put_replaces_the_body)
{
    struct fb_cache c;
    size_t len;
    cache_init(&c);
    cache_put(&c, "k", dup_body("one"), 3);
    cache_put(&c, "k", dup_body("second"), 6);
    cr_assert_eq(c.count, 1);
    const char *b;
    cr_assert_eq(cache_get(&c, "k", &b, &len), 1);
    cr_assert_arr_eq(b, "second", 6);
    cr_assert_eq(len, 6);
    cache_free(&c);
}

Test(cache, many_keys_survive_growth)
{
    struct fb_cache c;
    char key[32], body[32];
    size_t len;
    cache_init(&c);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "http://h/%d", i);
        snprintf(body, sizeof(body), "b%d", i);
        cr_assert_eq(cache_put(&c, key, strdup(body), strlen(body)), 0);
    }
    cr_assert_eq(c.count, 5000);
    cr_assert_geq(c.nslots, 5000, "the table grew");
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "http://h/%d", i);
        snprintf(body, sizeof(body), "b%d", i);
        const char *b = NULL;
        cr_assert_eq(cache_get(&c, key, &b, &len), 1, "key %d lost", i);
        cr_assert_eq(len, strlen(body));
        cr_assert_arr_eq(b, body, len);
    }
    cache_free(&c);
}
