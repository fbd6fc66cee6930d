# WebSocket transport (RFC 6455 client framing, written for kmqtt: no
# allocation after create, nothing but string.h): objects kmqtt_ws_obj, part
# of kmqtt_base (what the tests link) and of the installed library.
file(GLOB KMQTT_WS_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/transport/ws*.c)
add_library(kmqtt_ws_obj OBJECT ${KMQTT_WS_SOURCES})
target_include_directories(kmqtt_ws_obj PUBLIC ${PROJECT_SOURCE_DIR}/include
                           PRIVATE ${PROJECT_SOURCE_DIR}/src/transport)
target_compile_options(kmqtt_ws_obj PRIVATE ${KMQTT_WARNINGS})
set_target_properties(kmqtt_ws_obj PROPERTIES POSITION_INDEPENDENT_CODE ON)

if(KMQTT_BUILD_TESTS)
  find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
  find_library(CMOCKA_LIBRARY cmocka REQUIRED)

  # Unit tests (a scripted fake lower transport): tests/unit/ws/test_*.c. They
  # live in a subfolder because they need src/transport's private headers.
  # Programs <build>/tests/unit_ws_<name> and integration_ws_<name> (folder prefix).
  # send_contract.c: the gate that checks the send contract from below.
  file(GLOB KMQTT_WS_UNIT CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/ws/test_*.c)
  foreach(src ${KMQTT_WS_UNIT})
    get_filename_component(name ${src} NAME_WE)
    set(target unit_ws_${name})
    add_executable(${target} ${src} ${PROJECT_SOURCE_DIR}/tests/unit/support/send_contract.c)
    target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/src
                               ${PROJECT_SOURCE_DIR}/src/transport
                               ${PROJECT_SOURCE_DIR}/tests/unit/support)
    target_link_libraries(${target} PRIVATE kmqtt_base ${CMOCKA_LIBRARY})
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
    set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME unit.${name} COMMAND ${target})
    set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 120)
  endforeach()

  # Integration tests against mosquitto's websockets listener:
  # tests/integration/ws/test_*.c; the wss ones (test_wss*.c) need kmqtt_tls.
  file(GLOB KMQTT_WS_IT CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/integration/ws/test_*.c)
  file(GLOB KMQTT_WS_IT_SUPPORT CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/tests/integration/support/*.c)
  foreach(src ${KMQTT_WS_IT})
    get_filename_component(name ${src} NAME_WE)
    if(name MATCHES "^test_wss" AND NOT TARGET kmqtt_tls)
      continue()
    endif()
    set(target integration_ws_${name})
    add_executable(${target} ${src} ${KMQTT_WS_IT_SUPPORT})
    target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/src
                               ${PROJECT_SOURCE_DIR}/tests/integration/support
                               ${PROJECT_SOURCE_DIR}/tests/integration/ws)
    target_link_libraries(${target} PRIVATE $<TARGET_NAME_IF_EXISTS:kmqtt_tls>
                          kmqtt_base ${CMOCKA_LIBRARY} Threads::Threads)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
    target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE
                               KMQTT_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
    set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME integration.${name} COMMAND ${target})
    set_tests_properties(integration.${name} PROPERTIES LABELS integration TIMEOUT 600)
  endforeach()
endif()

# Measurement program (not a test): QoS 0 throughput over ws vs tcp.
if(KMQTT_BUILD_TOOLS)
  add_executable(kmqtt-ws-bench ${PROJECT_SOURCE_DIR}/bench/ws_bench.c)
  target_link_libraries(kmqtt-ws-bench PRIVATE kmqtt_base)
  target_compile_options(kmqtt-ws-bench PRIVATE ${KMQTT_WARNINGS})
  target_compile_definitions(kmqtt-ws-bench PRIVATE _POSIX_C_SOURCE=200809L)
endif()

if(KMQTT_BUILD_TESTS)
  # The WebSocket transport runs on every port (lwIP, RTOS): it may include
  # only the C99 headers the core uses, plus kmqtt's own.
  add_test(NAME ws.headers COMMAND sh -c
    "! grep -hE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' ${PROJECT_SOURCE_DIR}/src/transport/ws*.[ch] | grep -vE '<(string|stdint|stddef|stdbool)\\.h>'")
endif()
