/*
 * The runner behind shim/cmocka.h. Output goes through newlib's stdio to the
 * semihosting console, like cmocka's own "[ RUN ]" / "[ FAILED ]" lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmocka.h"
#include "target.h"

static jmp_buf g_abort;
static int g_in_test;

static void vreport(const char *fmt, va_list ap)
{
    vprintf(fmt, ap);
    fflush(stdout);
}

void print_message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

void print_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

void kmqtt_shim_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("%s:%d: error: ", file, line);
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    printf("\n");
    if (g_in_test)
        longjmp(g_abort, 1);
    /* An assertion outside a test (in a group fixture): nothing to unwind to. */
    printf("[  ERROR   ] assertion outside a test\n");
    fflush(stdout);
    kmqtt_target_exit(2);
}

void kmqtt_shim_int_eq(uintmax_t a, uintmax_t b, int want_equal, const char *ea, const char *eb,
                       const char *file, int line)
{
    if ((a == b) == (want_equal != 0))
        return;
    kmqtt_shim_fail(file, line, "%s (0x%llx) %s %s (0x%llx)", ea, (unsigned long long)a,
                    want_equal ? "!=" : "==", eb, (unsigned long long)b);
}

void kmqtt_shim_mem_eq(const void *a, const void *b, size_t n, const char *ea, const char *eb,
                       const char *file, int line)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            kmqtt_shim_fail(file, line, "%s and %s differ at byte %u: 0x%02x != 0x%02x", ea, eb,
                            (unsigned)i, x[i], y[i]);
}

void kmqtt_shim_str_eq(const char *a, const char *b, const char *ea, const char *eb,
                       const char *file, int line)
{
    if (a == NULL || b == NULL || strcmp(a, b) != 0)
        kmqtt_shim_fail(file, line, "%s (\"%s\") != %s (\"%s\")", ea, a ? a : "(null)", eb,
                        b ? b : "(null)");
}

/* Runs one test with its fixtures; 0 = passed. */
static int run_one(const struct CMUnitTest *t, void **group_state)
{
    void *volatile state = t->initial_state != NULL ? t->initial_state : *group_state;
    volatile int failed = 0;
    g_in_test = 1;
    if (setjmp(g_abort) == 0) {
        if (t->setup_func != NULL && t->setup_func((void **)&state) != 0) {
            printf("[  ERROR   ] %s: setup failed\n", t->name);
            failed = 1;
        } else {
            t->test_func((void **)&state);
        }
    } else {
        failed = 1;
    }
    if (!failed && t->teardown_func != NULL && setjmp(g_abort) == 0 &&
        t->teardown_func((void **)&state) != 0) {
        printf("[  ERROR   ] %s: teardown failed\n", t->name);
        failed = 1;
    }
    g_in_test = 0;
    return failed;
}

int kmqtt_shim_run_group(const char *group, const struct CMUnitTest *tests, size_t count,
                         CMFixtureFunction setup, CMFixtureFunction teardown)
{
    void *state = NULL;
    int failed = 0;
    printf("[==========] %s: Running %u test(s).\n", group, (unsigned)count);
    if (setup != NULL && setup(&state) != 0) {
        printf("[  ERROR   ] %s: group setup failed\n", group);
        return (int)count;
    }
    for (size_t i = 0; i < count; i++) {
        printf("[ RUN      ] %s\n", tests[i].name);
        if (run_one(&tests[i], &state) != 0) {
            printf("[  FAILED  ] %s\n", tests[i].name);
            failed++;
        } else {
            printf("[       OK ] %s\n", tests[i].name);
        }
    }
    if (teardown != NULL && teardown(&state) != 0) {
        printf("[  ERROR   ] %s: group teardown failed\n", group);
        failed++;
    }
    printf("[==========] %s: %u test(s) run.\n", group, (unsigned)count);
    printf("[  PASSED  ] %u test(s).\n", (unsigned)(count - (size_t)failed));
    if (failed)
        printf("[  FAILED  ] %d test(s).\n", failed);
    fflush(stdout);
    return failed;
}
