#include <criterion/criterion.h>
#include <limits.h>

#include "parse.h"

Test(parse, accepts_numbers_in_range)
{
    uint64_t v;
    int i;
    cr_assert_eq(parse_u64("0", 0, 10, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(parse_int("-5", -10, 10, &i), 0);
    cr_assert_eq(i, -5);
    cr_assert_eq(parse_int("-2147483648", INT_MIN, INT_MAX, &i), 0);
    cr_assert_eq(i, INT_MIN);
}

Test(parse, rejects_what_strtol_would_let_through)
{
    uint64_t v = 42;
    int i = 42;
    const char *bad[] = {"", " 1", "1 ", "+1", "-1", "1x", "0x10", "1e3", "99999999999999999999999", NULL};
    for (int k = 0; bad[k]; k++)
        cr_assert_eq(parse_u64(bad[k], 0, UINT64_MAX, &v), -1, "accepted '%s'", bad[k]);
    cr_assert_eq(v, 42, "a failed parse leaves the output alone");
    cr_assert_eq(parse_u64(NULL, 0, 1, &v), -1);
    cr_assert_eq(parse_u64("11", 0, 10, &v), -1, "above max");
    cr_assert_eq(parse_u64("0", 1, 10, &v), -1, "below min");
    cr_assert_eq(parse_int("2147483648", INT_MIN, INT_MAX, &i), -1);
    cr_assert_eq(parse_int("-2147483649", INT_MIN, INT_MAX, &i), -1);
    cr_assert_eq(parse_int("-", -1, 1, &i), -1);
    cr_assert_eq(parse_int("--1", -1, 1, &i), -1);
}
