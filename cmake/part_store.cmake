# Store and forward: the crash test's publisher (a program the integration
# test kills and restarts), in <build>/bin.
if(KMQTT_BUILD_TESTS)
  add_executable(kmqtt-test-storepub
                 ${PROJECT_SOURCE_DIR}/tests/integration/store_bin/kmqtt-test-storepub.c)
  target_link_libraries(kmqtt-test-storepub PRIVATE kmqtt_base)
  target_compile_options(kmqtt-test-storepub PRIVATE ${KMQTT_WARNINGS})
  target_compile_definitions(kmqtt-test-storepub PRIVATE _POSIX_C_SOURCE=200809L
                             _DEFAULT_SOURCE)
endif()
