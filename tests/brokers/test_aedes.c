/*
 * The broker suite's core against aedes (npm), a Node.js broker of 3.1.1 only;
 * support/aedes_broker.mjs starts it (in-memory persistence).
 * One node. See support/bk_core.h.
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
    return bk_group_setup(BK_AEDES, 1);
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
