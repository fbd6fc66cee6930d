# The lwIP port (src/port/lwip/), built against Debian's liblwip-dev (lwIP
# 2.1 with its Unix port: pthread sys_arch, tapif driver). kmqtt_lwip is the
# whole library on lwIP: the core, mem and the lwIP port instead of the POSIX
# one (the port functions are link-time symbols, so the two never meet in one
# binary). The board hooks for a Linux host come from src/port/lwip/host/.
#
# Test port.lwip_cortex_m compiles the port for a device (arm-none-eabi-gcc).
# Test port.lwip: tests/lwip/run_lwip_test.sh makes a network namespace with a
# tap device and a mosquitto reachable only through it, and runs the client
# over lwIP inside it; port.lwip_nano runs the nano client the same way.
# Needs root, ip(8) and /dev/net/tun; fails if missing.
#
# kmqtt_lwip exists for these tests (a firmware compiles src/port/lwip/ into
# its own image), so nothing here is built without them.
if(NOT KMQTT_BUILD_TESTS)
  return()
endif()

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LWIP QUIET lwip)
endif()
if(NOT LWIP_FOUND)
  find_path(LWIP_INCLUDE_DIRS lwipopts.h PATH_SUFFIXES lwip)
  find_library(LWIP_LINK_LIBRARIES lwip)
  if(LWIP_INCLUDE_DIRS AND LWIP_LINK_LIBRARIES)
    set(LWIP_FOUND TRUE)
  endif()
endif()
if(NOT LWIP_FOUND OR NOT EXISTS "${LWIP_INCLUDE_DIRS}/lwip/sockets.h")
  message(STATUS "kmqtt: liblwip-dev not found; the lwIP port and its test are not built")
  return()
endif()
if(NOT LWIP_LINK_LIBRARIES)
  find_library(LWIP_LINK_LIBRARIES NAMES ${LWIP_LIBRARIES} HINTS ${LWIP_LIBRARY_DIRS})
endif()
message(STATUS "kmqtt: lwIP port against ${LWIP_LINK_LIBRARIES} (${LWIP_INCLUDE_DIRS})")

file(GLOB KMQTT_LWIP_PORT_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/port/lwip/*.c)
add_library(kmqtt_lwip STATIC ${KMQTT_CORE_SOURCES} ${KMQTT_MEM_SOURCES} ${KMQTT_LWIP_PORT_SOURCES}
                              ${PROJECT_SOURCE_DIR}/src/port/lwip/host/unix_hooks.c)
target_include_directories(kmqtt_lwip PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_include_directories(kmqtt_lwip PRIVATE ${PROJECT_SOURCE_DIR}/src)
# lwIP's headers are not ours to keep warning-free.
target_include_directories(kmqtt_lwip SYSTEM PUBLIC ${LWIP_INCLUDE_DIRS})
target_compile_options(kmqtt_lwip PRIVATE ${KMQTT_WARNINGS})
# A wake() whose doorbell datagram is lost is caught at the next poll slice
# (1 s by default). On the host a 20 s slice makes port.lwip prove that wake()
# really rings the doorbell: a wait it ends must return long before that.
target_compile_definitions(kmqtt_lwip PRIVATE KMQTT_LWIP_WAKE_SLICE_MS=20000u)
target_link_libraries(kmqtt_lwip PUBLIC ${LWIP_LINK_LIBRARIES} Threads::Threads)
# The Unix port's headers want the C library's socket and pthread names.
set_source_files_properties(${KMQTT_LWIP_PORT_SOURCES}
                            ${PROJECT_SOURCE_DIR}/src/port/lwip/host/unix_hooks.c
                            PROPERTIES COMPILE_DEFINITIONS _DEFAULT_SOURCE)

if(KMQTT_BUILD_TESTS)
  find_path(KMQTT_LWIP_CMOCKA_INCLUDE cmocka.h)
  find_library(KMQTT_LWIP_CMOCKA_LIBRARY cmocka)
  add_executable(lwip_test_lwip_client ${PROJECT_SOURCE_DIR}/tests/lwip/test_lwip_client.c
                                  ${PROJECT_SOURCE_DIR}/tests/lwip/lwip_env.c
                                  ${PROJECT_SOURCE_DIR}/tests/lwip/tapnetif.c)
  target_include_directories(lwip_test_lwip_client PRIVATE ${KMQTT_LWIP_CMOCKA_INCLUDE}
                             ${PROJECT_SOURCE_DIR}/tests/lwip)
  target_link_libraries(lwip_test_lwip_client PRIVATE kmqtt_lwip ${KMQTT_LWIP_CMOCKA_LIBRARY})
  target_compile_options(lwip_test_lwip_client PRIVATE -Wall -Wextra -Werror)
  target_compile_definitions(lwip_test_lwip_client PRIVATE _DEFAULT_SOURCE)
  set_target_properties(lwip_test_lwip_client PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                        ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME port.lwip COMMAND sh ${PROJECT_SOURCE_DIR}/tests/lwip/run_lwip_test.sh
                                  $<TARGET_FILE:lwip_test_lwip_client>)
  set_tests_properties(port.lwip PROPERTIES LABELS "integration;lwip" TIMEOUT 300)
  # The nano client (src/nano, in KMQTT_CORE_SOURCES) over the same stage.
  add_executable(lwip_test_lwip_nano ${PROJECT_SOURCE_DIR}/tests/lwip/test_lwip_nano.c
                                ${PROJECT_SOURCE_DIR}/tests/lwip/lwip_env.c
                                ${PROJECT_SOURCE_DIR}/tests/lwip/tapnetif.c)
  target_include_directories(lwip_test_lwip_nano PRIVATE ${KMQTT_LWIP_CMOCKA_INCLUDE}
                             ${PROJECT_SOURCE_DIR}/tests/lwip)
  target_link_libraries(lwip_test_lwip_nano PRIVATE kmqtt_lwip ${KMQTT_LWIP_CMOCKA_LIBRARY})
  target_compile_options(lwip_test_lwip_nano PRIVATE -Wall -Wextra -Werror)
  target_compile_definitions(lwip_test_lwip_nano PRIVATE _DEFAULT_SOURCE)
  set_target_properties(lwip_test_lwip_nano PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                        ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME port.lwip_nano COMMAND sh ${PROJECT_SOURCE_DIR}/tests/lwip/run_lwip_test.sh
                                       $<TARGET_FILE:lwip_test_lwip_nano>)
  set_tests_properties(port.lwip_nano PROPERTIES LABELS "integration;lwip" TIMEOUT 300)
  # The same port sources for a Cortex-M4 against lwIP's own socket headers
  # (a device's lwipopts.h), compile only.
  add_test(NAME port.lwip_cortex_m COMMAND sh ${PROJECT_SOURCE_DIR}/tests/lwip/device_compile.sh
                                           ${LWIP_INCLUDE_DIRS})
  set_tests_properties(port.lwip_cortex_m PROPERTIES LABELS lwip TIMEOUT 120)
endif()
