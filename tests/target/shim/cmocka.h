/*
 * Target-side stand-in for <cmocka.h>: the subset of cmocka's API the core's
 * unit tests use, for running them on an emulated Cortex-M where cmocka is
 * not packaged. Semantics follow cmocka where the tests depend on them: a
 * failed assertion ends the current test (longjmp back to the runner), the
 * group runs on, and cmocka_run_group_tests returns the number of failed
 * tests, so main's return value becomes the run's exit code.
 */
#ifndef KMQTT_TARGET_CMOCKA_SHIM_H
#define KMQTT_TARGET_CMOCKA_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
    const char *name;
    CMUnitTestFunction test_func;
    CMFixtureFunction setup_func;
    CMFixtureFunction teardown_func;
    void *initial_state;
};

#define cmocka_unit_test(f)                                                                        \
    {                                                                                              \
#f, f, NULL, NULL, NULL                                                                    \
    }
#define cmocka_unit_test_setup(f, setup)                                                           \
    {                                                                                              \
#f, f, setup, NULL, NULL                                                                   \
    }
#define cmocka_unit_test_teardown(f, teardown)                                                     \
    {                                                                                              \
#f, f, NULL, teardown, NULL                                                                \
    }
#define cmocka_unit_test_setup_teardown(f, setup, teardown)                                        \
    {                                                                                              \
#f, f, setup, teardown, NULL                                                               \
    }

int kmqtt_shim_run_group(const char *group, const struct CMUnitTest *tests, size_t count,
                         CMFixtureFunction setup, CMFixtureFunction teardown);
#define cmocka_run_group_tests(tests, setup, teardown)                                             \
    kmqtt_shim_run_group(#tests, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)
#define cmocka_run_group_tests_name(name, tests, setup, teardown)                                  \
    kmqtt_shim_run_group(name, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)

/* Every check funnels here; a failure prints file:line and never returns. */
void kmqtt_shim_fail(const char *file, int line, const char *fmt, ...);
void kmqtt_shim_int_eq(uintmax_t a, uintmax_t b, int want_equal, const char *ea, const char *eb,
                       const char *file, int line);
void kmqtt_shim_mem_eq(const void *a, const void *b, size_t n, const char *ea, const char *eb,
                       const char *file, int line);
void kmqtt_shim_str_eq(const char *a, const char *b, const char *ea, const char *eb,
                       const char *file, int line);
void print_message(const char *fmt, ...);
void print_error(const char *fmt, ...);

#define assert_true(c)  ((c) ? (void)0 : kmqtt_shim_fail(__FILE__, __LINE__, "%s is false", #c))
#define assert_false(c) (!(c) ? (void)0 : kmqtt_shim_fail(__FILE__, __LINE__, "%s is true", #c))
#define assert_non_null(p)                                                                         \
    ((p) != NULL ? (void)0 : kmqtt_shim_fail(__FILE__, __LINE__, "%s is NULL", #p))
#define assert_null(p)                                                                             \
    ((p) == NULL ? (void)0 : kmqtt_shim_fail(__FILE__, __LINE__, "%s is not NULL", #p))
#define assert_int_equal(a, b)                                                                     \
    kmqtt_shim_int_eq((uintmax_t)(a), (uintmax_t)(b), 1, #a, #b, __FILE__, __LINE__)
#define assert_int_not_equal(a, b)                                                                 \
    kmqtt_shim_int_eq((uintmax_t)(a), (uintmax_t)(b), 0, #a, #b, __FILE__, __LINE__)
#define assert_ptr_equal(a, b)                                                                     \
    kmqtt_shim_int_eq((uintmax_t)(uintptr_t)(a), (uintmax_t)(uintptr_t)(b), 1, #a, #b, __FILE__,   \
                      __LINE__)
#define assert_memory_equal(a, b, n) kmqtt_shim_mem_eq(a, b, n, #a, #b, __FILE__, __LINE__)
#define assert_string_equal(a, b)    kmqtt_shim_str_eq(a, b, #a, #b, __FILE__, __LINE__)
#define fail()                       kmqtt_shim_fail(__FILE__, __LINE__, "fail()")
#define fail_msg(...)                kmqtt_shim_fail(__FILE__, __LINE__, __VA_ARGS__)

#endif
