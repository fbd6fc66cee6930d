# Feature switches of include/kmqtt/config.h that live in the codec and
# common code, each built off (and all off together) with the project's
# warnings, so a switch cannot rot; tests/config/test_config.c checks what
# each build keeps and what answers KMQTT_EUNSUPPORTED. The codec unit tests
# that hold for a 3.1.1-only codec run against that build too.
# (make test-target and make size are scripts: scripts/test-target.sh,
# scripts/size.sh.)
# Programs: <build>/tests/config_<what> (the folder is the prefix, so no
# other folder's program can write the same file).
if(KMQTT_BUILD_TESTS AND NOT KMQTT_FUZZ)
  find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
  find_library(CMOCKA_LIBRARY cmocka REQUIRED)
  file(GLOB KMQTT_CFG_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/codec/*.c
       ${PROJECT_SOURCE_DIR}/src/common/*.c)
  set(KMQTT_CFG_BUILDS v311 noserver nostrerror client311)
  set(KMQTT_CFG_v311 KMQTT_CFG_V5=0)
  set(KMQTT_CFG_noserver KMQTT_CFG_SERVER_CODEC=0)
  set(KMQTT_CFG_nostrerror KMQTT_CFG_STRERROR=0)
  set(KMQTT_CFG_client311 KMQTT_CFG_V5=0 KMQTT_CFG_SERVER_CODEC=0 KMQTT_CFG_STRERROR=0)
  # Unit tests that use neither 5.0 nor the server direction (test_decode_frame
  # decodes CONNECT, SUBSCRIBE and 5.0 samples; the others test both versions).
  set(KMQTT_CFG_UNIT_client311 test_utf8 test_topic)

  foreach(cfg ${KMQTT_CFG_BUILDS})
    add_library(kmqtt_codec_${cfg} STATIC ${KMQTT_CFG_SOURCES})
    target_include_directories(kmqtt_codec_${cfg} PUBLIC ${PROJECT_SOURCE_DIR}/include)
    target_compile_definitions(kmqtt_codec_${cfg} PUBLIC ${KMQTT_CFG_${cfg}})
    target_compile_options(kmqtt_codec_${cfg} PRIVATE ${KMQTT_WARNINGS})

    set(target config_test_config_${cfg})
    add_executable(${target} ${PROJECT_SOURCE_DIR}/tests/config/test_config.c)
    target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR})
    target_link_libraries(${target} PRIVATE kmqtt_codec_${cfg} ${CMOCKA_LIBRARY})
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
    set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME config.${cfg} COMMAND ${target})
    set_tests_properties(config.${cfg} PROPERTIES LABELS config TIMEOUT 60)

    foreach(t ${KMQTT_CFG_UNIT_${cfg}})
      set(target config_${cfg}_${t})
      add_executable(${target} ${PROJECT_SOURCE_DIR}/tests/unit/${t}.c
                     ${PROJECT_SOURCE_DIR}/tests/unit/support/hex.c)
      target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/src
                                 ${PROJECT_SOURCE_DIR}/tests/unit/support)
      target_link_libraries(${target} PRIVATE kmqtt_codec_${cfg} ${CMOCKA_LIBRARY})
      target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
      set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
      add_test(NAME config.${cfg}.${t} COMMAND ${target})
      set_tests_properties(config.${cfg}.${t} PROPERTIES LABELS config TIMEOUT 60)
    endforeach()
  endforeach()

  # The whole core (codec, session, client) with the switches that reach the
  # session and the client, each off and all off together (the "min" client
  # of make size), with the library's warnings; tests/config/test_config_core.c
  # checks what each build answers. Linked with mem and the host's port.
  file(GLOB KMQTT_CFG_CORE_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/codec/*.c
       ${PROJECT_SOURCE_DIR}/src/common/*.c ${PROJECT_SOURCE_DIR}/src/session/*.c
       ${PROJECT_SOURCE_DIR}/src/client/*.c ${PROJECT_SOURCE_DIR}/src/nano/*.c
       ${PROJECT_SOURCE_DIR}/src/mem/*.c)
  set(KMQTT_CFG_CORE_BUILDS all nov5 noqueue noqos2 min)
  set(KMQTT_CFG_CORE_all "")
  set(KMQTT_CFG_CORE_nov5 KMQTT_CFG_V5=0)
  set(KMQTT_CFG_CORE_noqueue KMQTT_CFG_OFFLINE_QUEUE=0)
  set(KMQTT_CFG_CORE_noqos2 KMQTT_CFG_QOS2=0)
  set(KMQTT_CFG_CORE_min KMQTT_CFG_V5=0 KMQTT_CFG_OFFLINE_QUEUE=0 KMQTT_CFG_QOS2=0
      KMQTT_CFG_SERVER_CODEC=0 KMQTT_CFG_STRERROR=0 KMQTT_CFG_LOG=0
      KMQTT_CFG_DONE_RING=8 KMQTT_CFG_MAX_REQUESTS=2 KMQTT_MEM_MAX_TAGS=12)
  foreach(cfg ${KMQTT_CFG_CORE_BUILDS})
    add_library(kmqtt_core_${cfg} STATIC ${KMQTT_CFG_CORE_SOURCES} ${KMQTT_PORT_SOURCES})
    target_include_directories(kmqtt_core_${cfg} PUBLIC ${PROJECT_SOURCE_DIR}/include)
    target_include_directories(kmqtt_core_${cfg} PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_compile_definitions(kmqtt_core_${cfg} PUBLIC ${KMQTT_CFG_CORE_${cfg}})
    target_compile_options(kmqtt_core_${cfg} PRIVATE ${KMQTT_WARNINGS})
    target_link_libraries(kmqtt_core_${cfg} PUBLIC Threads::Threads)

    set(target config_test_config_core_${cfg})
    add_executable(${target} ${PROJECT_SOURCE_DIR}/tests/config/test_config_core.c)
    target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} PRIVATE kmqtt_core_${cfg} ${CMOCKA_LIBRARY})
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
    set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME config.core.${cfg} COMMAND ${target})
    set_tests_properties(config.core.${cfg} PROPERTIES LABELS config TIMEOUT 60)
  endforeach()

  # The min build against a real mosquitto (tests/integration/support).
  file(GLOB KMQTT_CFG_IT_SUPPORT CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/tests/integration/support/*.c)
  set(target config_it_config_min)
  add_executable(${target} ${PROJECT_SOURCE_DIR}/tests/config/it_config_min.c
                 ${KMQTT_CFG_IT_SUPPORT})
  target_include_directories(${target} PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/src
                             ${PROJECT_SOURCE_DIR}/tests/integration/support)
  target_link_libraries(${target} PRIVATE kmqtt_core_min ${CMOCKA_LIBRARY} Threads::Threads)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE
                             KMQTT_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.config_min COMMAND ${target})
  set_tests_properties(integration.config_min PROPERTIES LABELS "integration;config" TIMEOUT 300)
endif()
