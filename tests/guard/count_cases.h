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

#define cmocka_unit_test(...) __kmqtt_guard_case__
#define cmocka_unit_test_setup(...) __kmqtt_guard_case__
#define cmocka_unit_test_teardown(...) __kmqtt_guard_case__
#define cmocka_unit_test_setup_teardown(...) __kmqtt_guard_case__
#define cmocka_unit_test_prestate(...) __kmqtt_guard_case__
#define cmocka_unit_test_prestate_setup_teardown(...) __kmqtt_guard_case__
#define cmocka_run_group_tests(...) __kmqtt_guard_group__
#define cmocka_run_group_tests_name(...) __kmqtt_guard_group__
