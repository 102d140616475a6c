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
    size_t len = 0;
    cr_assert_eq(cache_init(&c), 0);
    cr_assert_null(cache_get(&c, "http://a/", &len));
    cr_assert_eq(cache_put(&c, "http://a/", dup_body("body-a"), 6), 0);
    const char *b = cache_get(&c, "http://a/", &len);
    cr_assert_not_null(b);
    cr_assert_eq(len, 6);
    cr_assert_arr_eq(b, "body-a", 6);
    cr_assert_null(cache_get(&c, "http://b/", &len), "other keys still miss");
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
    cr_assert_arr_eq(cache_get(&c, "k", &len), "second", 6);
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
        const char *b = cache_get(&c, key, &len);
        cr_assert_not_null(b, "key %d lost", i);
        cr_assert_eq(len, strlen(body));
        cr_assert_arr_eq(b, body, len);
    }
    cache_free(&c);
}
