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

Test(delaypath, leading_zeros_count_for_nothing)
{
    unsigned ms = 7;
    int capped = 1;
    cr_assert_eq(delaypath_parse("0001", &ms, &capped), 200);
    cr_assert_eq(ms, 1);
    cr_assert_eq(capped, 0);
    /* More than 23 characters: the old parser capped this to 600000. */
    cr_assert_eq(delaypath_parse("000000000000000000000000000000000000001", &ms, &capped), 200);
    cr_assert_eq(ms, 1);
    cr_assert_eq(capped, 0);
    cr_assert_eq(delaypath_parse("00000000000000000000000000000000600000/url/x", &ms, &capped), 200);
    cr_assert_eq(ms, DELAYPATH_MAX_MS);
    cr_assert_eq(capped, 0, "600000 itself is not capped");
    cr_assert_eq(delaypath_parse("00000000000000000000000000000000600001", &ms, &capped), 200);
    cr_assert_eq(capped, 1);
    cr_assert_eq(delaypath_parse("0000000000000000000000000000000000000", &ms, &capped), 200);
    cr_assert_eq(ms, 0);
    cr_assert_eq(capped, 0);
}

Test(delaypath, percent_encoded_digits_are_digits)
{
    unsigned ms = 7;
    int capped = 1;
    cr_assert_eq(delaypath_parse("%31", &ms, &capped), 200);
    cr_assert_eq(ms, 1);
    cr_assert_eq(delaypath_parse("%35%30%30", &ms, &capped), 200);
    cr_assert_eq(ms, 500);
    cr_assert_eq(delaypath_parse("1%30%300/url/y", &ms, &capped), 200);
    cr_assert_eq(ms, 1000);
    cr_assert_eq(delaypath_parse("%30%30%31", &ms, &capped), 200);
    cr_assert_eq(ms, 1);
    cr_assert_eq(capped, 0);
    cr_assert_eq(delaypath_parse("9%39%39%39%39%39%39%39%39%39%39%39%39%39%39%39%39%39%39%39%39", &ms,
                                 &capped), 200);
    cr_assert_eq(ms, DELAYPATH_MAX_MS);
    cr_assert_eq(capped, 1);
}

Test(delaypath, other_encodings_stay_bad)
{
    unsigned ms = 7;
    int capped = 0;
    /* %2D is '-', %2B '+', %20 ' ', %2531 a literal "%31", %3A ':' */
    const char *bad[] = {"%2D1", "%2B1", "%201", "%2531", "%3A", "%3", "%", "1%", "%31%",
                         "%3a", "%33x", "0x10", "1%2E5", "%00", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(delaypath_parse(bad[i], &ms, &capped), 400, "'%s'", bad[i]);
    cr_assert_eq(delaypath_parse("%31/x", &ms, &capped), 404);
    cr_assert_eq(ms, 7, "a refused path leaves *ms alone");
}
