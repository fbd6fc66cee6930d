/*
 * The broker suite's core against mosquitto (Debian), the broker of every
 * other integration test: the reference the other brokers' runs are read
 * against. One node; 3.1.1 and 5.0, QoS 0/1/2. See support/bk_core.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bk_core.h"
#include "bk_target.h"

static int group_setup(void **state)
{
    (void)state;
    return bk_group_setup(BK_MOSQUITTO, 1);
}

static int group_teardown(void **state)
{
    (void)state;
    return bk_group_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {BK_CORE_CASES};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
