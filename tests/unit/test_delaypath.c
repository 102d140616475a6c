#include <criterion/criterion.h>

#include "delaypath.h"

Test(delaypath, both_path_forms)
{
    unsigned ms = 1;
    int capped = 1;
    cr_assert_eq(delaypath_parse("4600", &ms, &capped), 200);
    cr_assert_eq(ms, 4600);
    cr_assert_eq(capped, 0);
    cr_assert_eq(delaypath_parse("0/url/http://example/x?y", &ms, &capped), 200);
    cr_assert_eq(ms, 0);
}

Test(delaypath, huge_delays_are_capped)
{
    unsigned ms = 0;
    int capped = 0;
    cr_assert_eq(delaypath_parse("600001", &ms, &capped), 200);
    cr_assert_eq(ms, DELAYPATH_MAX_MS);
    cr_assert_eq(capped, 1);
    cr_assert_eq(delaypath_parse("99999999999999999999999999999", &ms, &capped), 200);
    cr_assert_eq(ms, DELAYPATH_MAX_MS);
}

Test(delaypath, bad_delays_and_shapes)
{
    unsigned ms = 7;
    int capped = 0;
    const char *bad[] = {"", "-1", "abc", "1.5", " 1", "+1", "1e3", "/url/x", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(delaypath_parse(bad[i], &ms, &capped), 400, "'%s'", bad[i]);
    cr_assert_eq(delaypath_parse("5/other", &ms, &capped), 404);
    cr_assert_eq(delaypath_parse("5/", &ms, &capped), 404);
    cr_assert_eq(ms, 7, "a refused path leaves *ms alone");
}
