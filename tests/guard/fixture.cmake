# Shared by the projects in tests/guard/good/ and tests/guard/bad/, which
# tests/guard/selftest.sh configures, builds and tests to prove that the
# checks of issue 23 (cmake/check_outputs.cmake, scripts/test_guard.py)
# fail when they should, and only then.
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
get_filename_component(KMQTT_ROOT ${CMAKE_CURRENT_LIST_DIR}/../.. ABSOLUTE)
include(${KMQTT_ROOT}/cmake/check_outputs.cmake)
find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
find_library(CMOCKA_LIBRARY cmocka REQUIRED)
enable_testing()
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

function(fixture_program name src)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${CMOCKA_INCLUDE_DIR})
  target_link_libraries(${name} PRIVATE ${CMOCKA_LIBRARY})
  target_compile_definitions(${name} PRIVATE ${ARGN})
endfunction()
