# Issue 23: every test that is written runs. cmake/check_outputs.cmake stops
# the configure step when two targets write one file; after each CTest pass
# `make test` runs scripts/test_guard.py, which fails when a cmocka program
# did not run and pass exactly the cases its source registers, or a shell
# test the checks it plans (kt_plan). These two tests prove both checks fail
# when they should, on the small projects in tests/guard/. They do not
# depend on the host build's sanitizers: registered in the plain build only.
if(KMQTT_BUILD_TESTS AND NOT KMQTT_CORE_ONLY AND NOT KMQTT_SANITIZE AND NOT KMQTT_SANITIZE_THREAD)
  foreach(mode outputs counts)
    add_test(NAME guard.${mode}
             COMMAND sh ${PROJECT_SOURCE_DIR}/tests/guard/selftest.sh ${mode}
                     ${CMAKE_BINARY_DIR}/test-guard/selftest-${mode} ${CMAKE_C_COMPILER})
    set_tests_properties(guard.${mode} PROPERTIES LABELS guard TIMEOUT 300)
  endforeach()
endif()
