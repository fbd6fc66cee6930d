/* Fixture of tests/guard/selftest.sh: registers 3 cases in two groups and
 * runs only the first group, so one written case never runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void runs(void **state)
{
    (void)state;
    assert_true(1);
}

static void never_runs(void **state)
{
    (void)state;
    assert_true(1);
}

int main(void)
{
    const struct CMUnitTest first[] = {cmocka_unit_test(runs), cmocka_unit_test(runs)};
    const struct CMUnitTest second[] = {cmocka_unit_test(never_runs)};
    (void)second;
    return cmocka_run_group_tests(first, NULL, NULL);
}
