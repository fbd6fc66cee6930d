/* Fixture of tests/guard/selftest.sh: registers 3 cases (4 with FIXTURE_FOURTH). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void first(void **state)
{
    (void)state;
    assert_int_equal(1 + 1, 2);
}

static void second(void **state)
{
    (void)state;
    assert_true(sizeof(int) >= 2);
}

static void third(void **state)
{
    (void)state;
    assert_string_equal("guard", "guard");
}

#if FIXTURE_FOURTH
static void fourth(void **state)
{
    (void)state;
    assert_null(NULL);
}
#endif

#define T(f) cmocka_unit_test(f)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(first),
        T(second),
        cmocka_unit_test(third),
#if FIXTURE_FOURTH
        cmocka_unit_test(fourth),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
