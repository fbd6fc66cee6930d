/* Fixture of tests/guard/selftest.sh: a cmocka program no CTest entry runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void lonely(void **state)
{
    (void)state;
    assert_true(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(lonely)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
