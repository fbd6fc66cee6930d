/*
 * Keeps the cmocka shim honest: one passing test, one failing assertion.
 * scripts/test-target.sh requires this program to exit 1 and name the
 * failure; a shim that swallowed failures would make every run green.
 */
#include <cmocka.h>

static void passes(void **state)
{
    (void)state;
    assert_int_equal(2 + 2, 4);
}

static void must_fail(void **state)
{
    (void)state;
    assert_memory_equal("ab", "ac", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(passes), cmocka_unit_test(must_fail)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
