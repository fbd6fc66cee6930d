# The no-malloc proof (docs/no-malloc.md): the library's objects built again
# with KMQTT_NO_MALLOC and the POSIX port, linked into a client program with
# the allocator wrapped to symbols that do not exist, so any reference to
# malloc/calloc/realloc/free from our objects fails the link; then run
# against a private mosquitto. Plus an nm check of the objects (strdup and
# friends too) and a control that the wrap really does catch a malloc.
if(NOT KMQTT_BUILD_TESTS OR KMQTT_CORE_ONLY)
  return()
endif()

set(KMQTT_NOMALLOC_WRAP -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=free)
file(GLOB KMQTT_NOMALLOC_PORT CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/port/posix/*.c)

add_library(kmqtt_nomalloc_obj OBJECT ${KMQTT_CORE_SOURCES} ${KMQTT_MEM_SOURCES}
                                      ${KMQTT_NOMALLOC_PORT})
target_include_directories(kmqtt_nomalloc_obj PUBLIC ${PROJECT_SOURCE_DIR}/include
                           PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(kmqtt_nomalloc_obj PRIVATE ${KMQTT_WARNINGS})
target_compile_definitions(kmqtt_nomalloc_obj PRIVATE KMQTT_NO_MALLOC)
set_source_files_properties(${KMQTT_NOMALLOC_PORT} TARGET_DIRECTORY kmqtt_nomalloc_obj
                            PROPERTIES COMPILE_DEFINITIONS _POSIX_C_SOURCE=200809L)

# The broker harness allocates; as a shared library its references are bound
# at run time, outside what --wrap rewrites.
add_library(kmqtt_nomalloc_broker SHARED ${PROJECT_SOURCE_DIR}/tests/integration/support/broker.c)
target_include_directories(kmqtt_nomalloc_broker PUBLIC ${PROJECT_SOURCE_DIR}/tests/integration/support)
target_compile_definitions(kmqtt_nomalloc_broker PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
target_link_libraries(kmqtt_nomalloc_broker PRIVATE Threads::Threads)
set_target_properties(kmqtt_nomalloc_broker PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# The link itself is the proof, so it happens at test time: a reference to
# the allocator fails that test, not the whole build.
add_library(kmqtt_nomalloc_main OBJECT ${PROJECT_SOURCE_DIR}/tests/nomalloc/nomalloc_client.c)
target_include_directories(kmqtt_nomalloc_main PRIVATE ${PROJECT_SOURCE_DIR}/include
                           ${PROJECT_SOURCE_DIR}/tests/integration/support)
target_compile_options(kmqtt_nomalloc_main PRIVATE ${KMQTT_WARNINGS})
target_compile_definitions(kmqtt_nomalloc_main PRIVATE _POSIX_C_SOURCE=200809L KMQTT_NO_MALLOC)
add_library(kmqtt_nomalloc_control OBJECT ${PROJECT_SOURCE_DIR}/tests/nomalloc/wrap_control.c)

# The test links as CMake links the build's programs: the build's C flags
# (the objects were compiled with them: --coverage needs gcov's runtime at
# link time), its link options (add_link_options: the sanitizer runtimes)
# and its linker flags. The wrap goes to the script apart: it applies it to
# our objects alone. One argument each: the flags joined by spaces.
string(TOUPPER "${CMAKE_BUILD_TYPE}" _nomalloc_cfg)
get_property(_nomalloc_link_options DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY LINK_OPTIONS)
set(_nomalloc_options "")
foreach(opt ${_nomalloc_link_options})
  if(opt MATCHES "\\$<")
    message(FATAL_ERROR "kmqtt: nomalloc.link cannot pass the link option ${opt} (a generator "
            "expression) to scripts/nomalloc_link.sh")
  endif()
  string(REGEX REPLACE "^SHELL:" "" opt "${opt}")
  if(opt MATCHES "^LINKER:")
    string(REGEX REPLACE "^LINKER:" "-Wl," opt "${opt}")
  endif()
  list(APPEND _nomalloc_options "${opt}")
endforeach()
string(JOIN " " KMQTT_NOMALLOC_LDFLAGS ${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${_nomalloc_cfg}}
       ${_nomalloc_options} ${CMAKE_EXE_LINKER_FLAGS} ${CMAKE_EXE_LINKER_FLAGS_${_nomalloc_cfg}})
string(JOIN " " KMQTT_NOMALLOC_WRAP_FLAGS ${KMQTT_NOMALLOC_WRAP})
set(KMQTT_NOMALLOC_EXE ${CMAKE_BINARY_DIR}/tests/nomalloc_client)
kmqtt_register_output(${KMQTT_NOMALLOC_EXE} "the nomalloc.link test (scripts/nomalloc_link.sh)")
kmqtt_register_output(${KMQTT_NOMALLOC_EXE}.wrapped.o "the nomalloc.link test")
kmqtt_register_output(${CMAKE_BINARY_DIR}/tests/nomalloc_control
                      "the nomalloc.wrap_control test (scripts/nomalloc_link.sh)")
kmqtt_register_output(${CMAKE_BINARY_DIR}/tests/nomalloc_control.wrapped.o
                      "the nomalloc.wrap_control test")
add_custom_target(kmqtt_nomalloc_all ALL
  DEPENDS kmqtt_nomalloc_obj kmqtt_nomalloc_main kmqtt_nomalloc_broker kmqtt_nomalloc_control)

add_test(NAME nomalloc.link
  COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/nomalloc_link.sh ${CMAKE_C_COMPILER}
          ${KMQTT_NOMALLOC_EXE} "${KMQTT_NOMALLOC_LDFLAGS}" "${KMQTT_NOMALLOC_WRAP_FLAGS}"
          $<TARGET_FILE:kmqtt_nomalloc_broker>
          $<TARGET_OBJECTS:kmqtt_nomalloc_main> $<TARGET_OBJECTS:kmqtt_nomalloc_obj>
  COMMAND_EXPAND_LISTS)
add_test(NAME nomalloc.symbols
  COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/check_nomalloc_syms.sh ${CMAKE_NM}
          $<TARGET_OBJECTS:kmqtt_nomalloc_obj>
  COMMAND_EXPAND_LISTS)
# Passes only if the link fails for exactly the reason the proof relies on
# (the same command as nomalloc.link, harness library included).
add_test(NAME nomalloc.wrap_control
  COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/nomalloc_link.sh ${CMAKE_C_COMPILER}
          ${CMAKE_BINARY_DIR}/tests/nomalloc_control "${KMQTT_NOMALLOC_LDFLAGS}"
          "${KMQTT_NOMALLOC_WRAP_FLAGS}"
          $<TARGET_FILE:kmqtt_nomalloc_broker> $<TARGET_OBJECTS:kmqtt_nomalloc_control>
  COMMAND_EXPAND_LISTS)
set_tests_properties(nomalloc.link nomalloc.symbols PROPERTIES LABELS nomalloc TIMEOUT 120)
set_tests_properties(nomalloc.wrap_control PROPERTIES LABELS nomalloc TIMEOUT 60
  PASS_REGULAR_EXPRESSION "undefined reference to [`']__wrap_malloc'")
