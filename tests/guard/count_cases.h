/*
 * Forced include (-include) of scripts/test_guard.py when it preprocesses a
 * test source with the program's own compile command: cmocka's header and
 * the target shim (tests/target/shim/cmocka.h) are skipped, and every case
 * registration becomes one marker the guard counts. So the count is what the
 * compiler sees for that program: #if blocks (KMQTT_CFG_V5=0 builds) and
 * macros that wrap a registration (#define T(f) cmocka_unit_test_...) are
 * resolved exactly as in the real build.
 */
#define CMOCKA_H_
#define KMQTT_TARGET_CMOCKA_SHIM_H

#define cmocka_unit_test(...)                         KMQTT_GUARD_CASE_MARKER
#define cmocka_unit_test_setup(...)                   KMQTT_GUARD_CASE_MARKER
#define cmocka_unit_test_teardown(...)                KMQTT_GUARD_CASE_MARKER
#define cmocka_unit_test_setup_teardown(...)          KMQTT_GUARD_CASE_MARKER
#define cmocka_unit_test_prestate(...)                KMQTT_GUARD_CASE_MARKER
#define cmocka_unit_test_prestate_setup_teardown(...) KMQTT_GUARD_CASE_MARKER
#define cmocka_run_group_tests(...)                   KMQTT_GUARD_GROUP_MARKER
#define cmocka_run_group_tests_name(...)              KMQTT_GUARD_GROUP_MARKER
