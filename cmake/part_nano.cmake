# The nano client (include/kmqtt/nano.h, src/nano/ over the engine in
# src/session/): nano.cross compiles both
# for Cortex-M0+ and Cortex-M4 with arm-none-eabi-gcc -Werror -pedantic in the
# 3.1.1, 3.1.1 QoS 0/1 and 5.0 configurations and links it into
# tests/target/size/nano_app.c with codec + common alone
# (scripts/nano_cross_check.sh). Sizes are measured by make size, never
# asserted. Without arm-none-eabi-gcc the test reports SKIPPED (not passed).
# The cross-compile does not depend on the host build's sanitizers, so it is
# registered in the plain build only, like port.*.compile.
if(KMQTT_BUILD_TESTS AND NOT KMQTT_CORE_ONLY AND NOT KMQTT_SANITIZE AND NOT KMQTT_SANITIZE_THREAD)
  add_test(NAME nano.cross
           COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/nano_cross_check.sh ${PROJECT_SOURCE_DIR})
  set_tests_properties(nano.cross PROPERTIES LABELS "nano;port" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()

# The RT-Thread package's SConscript, run with a stand-in for RT-Thread's
# `building` module for the full and the nano choice of Kconfig: the sources
# it lists exist and are the right ones for each client.
if(KMQTT_BUILD_TESTS AND NOT KMQTT_CORE_ONLY AND NOT KMQTT_SANITIZE AND NOT KMQTT_SANITIZE_THREAD)
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    add_test(NAME port.rtthread.sconscript
             COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/rtthread_sconscript_check.py
                     ${PROJECT_SOURCE_DIR})
    # (it compiles every file of both choices, the engine in each: minutes on a loaded machine)
    set_tests_properties(port.rtthread.sconscript PROPERTIES LABELS port TIMEOUT 300)
  endif()
  # Every option of the package's Kconfig changes the built package
  # (Kconfiglib from Debian's python3-kconfiglib, hence the system python).
  add_test(NAME port.rtthread.kconfig
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/scripts/rtthread_kconfig_check.py
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(port.rtthread.kconfig PROPERTIES LABELS port TIMEOUT 300)
endif()

# The 3.1.1-only nano (KMQTT_CFG_V5=0, the kmqtt_core_nov5 library of
# part_target.cmake): the nano unit tests that need no 5.0 (those parts of
# them sit under #if KMQTT_CFG_V5) run against it too, so the code the
# 3.1.1 build leaves in is exercised on the host. Programs
# <build>/tests/config_nov5_<name>.
if(KMQTT_BUILD_TESTS AND TARGET kmqtt_core_nov5)
  file(GLOB KMQTT_NANO_UNIT_SUPPORT CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/tests/unit/support/*.c)
  foreach(t test_nano_connect test_nano_publish test_nano_inbound test_nano_session test_engine
            test_engine_flow)
    set(target config_nov5_${t})
    add_executable(${target} ${PROJECT_SOURCE_DIR}/tests/unit/${t}.c ${KMQTT_NANO_UNIT_SUPPORT})
    target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/src
                               ${PROJECT_SOURCE_DIR}/tests/unit/support)
    target_link_libraries(${target} PRIVATE kmqtt_core_nov5 ${CMOCKA_LIBRARY})
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
    set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME config.nov5.${t} COMMAND ${target})
    set_tests_properties(config.nov5.${t} PROPERTIES LABELS "config;nano" TIMEOUT 120)
  endforeach()
endif()

# The engine as nano's builds have it (make size, nano.cross, the RT-Thread
# nano package): without what only the threaded client asks of it (the 3.1.1
# bitmap, topic aliases, the 3.1.1 resend, store and forward). The engine's
# and nano's unit tests run against it too, so the code those builds keep is
# exercised on the host.
if(KMQTT_BUILD_TESTS AND TARGET kmqtt_core_nov5)
  file(GLOB KMQTT_ENGINE_LEAN_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/codec/*.c
       ${PROJECT_SOURCE_DIR}/src/common/*.c ${PROJECT_SOURCE_DIR}/src/session/*.c
       ${PROJECT_SOURCE_DIR}/src/nano/*.c)
  add_library(kmqtt_engine_lean STATIC ${KMQTT_ENGINE_LEAN_SOURCES})
  target_include_directories(kmqtt_engine_lean PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_include_directories(kmqtt_engine_lean PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(kmqtt_engine_lean PUBLIC KMQTT_CFG_INBOUND_BITS=0
                             KMQTT_CFG_TOPIC_ALIAS=0 KMQTT_CFG_RETRY=0 KMQTT_CFG_OFFLINE_QUEUE=0)
  target_compile_options(kmqtt_engine_lean PRIVATE ${KMQTT_WARNINGS})
  foreach(t test_engine test_engine_flow test_engine_v5 test_nano_session test_nano_v5)
    set(target config_lean_${t})
    add_executable(${target} ${PROJECT_SOURCE_DIR}/tests/unit/${t}.c ${KMQTT_NANO_UNIT_SUPPORT})
    target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/src
                               ${PROJECT_SOURCE_DIR}/tests/unit/support)
    target_link_libraries(${target} PRIVATE kmqtt_engine_lean ${CMOCKA_LIBRARY})
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
    set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME config.lean.${t} COMMAND ${target})
    set_tests_properties(config.lean.${t} PROPERTIES LABELS "config;nano" TIMEOUT 120)
  endforeach()
endif()
