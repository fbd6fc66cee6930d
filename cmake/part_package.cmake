# kmqtt as users get it: installed, packaged and documented.
#   package.install   install into a temporary prefix, build programs with
#                     pkg-config, find_package and add_subdirectory, run them
#                     against mosquitto (one over TLS, one over WebSocket)
#   package.abi       libkmqtt.so's SONAME and exports against include/kmqtt/
#   package.version   version.h, CHANGELOG.md, debian/, the man pages agree
#   man.<tool>        each tool's man page against the tool
#   docs.api          every public symbol of include/kmqtt/ is documented
#                     (doxygen, the check of make docs)
if(KMQTT_FUZZ OR NOT KMQTT_BUILD_TOOLS)
  return()
endif()

# package.install runs in every pass (the test guard wants every
# tests/**/test_*.sh run in each): in a sanitizer build the installed library
# is instrumented, so the programs built against it get the same flags, and
# run under the sanitizer too. It builds the library once more (as a
# subdirectory): about 10-30 s here.
set(KMQTT_PACKAGE_TEST_CFLAGS "")
if(KMQTT_SANITIZE)
  set(KMQTT_PACKAGE_TEST_CFLAGS "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer")
elseif(KMQTT_SANITIZE_THREAD)
  set(KMQTT_PACKAGE_TEST_CFLAGS "-fsanitize=thread -fno-omit-frame-pointer")
endif()
add_test(NAME package.install
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/install/test_install.sh ${CMAKE_BINARY_DIR}
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(package.install PROPERTIES LABELS "package;integration" TIMEOUT 900
  ENVIRONMENT "CC=${CMAKE_C_COMPILER};KMQTT_TEST_CFLAGS=${KMQTT_PACKAGE_TEST_CFLAGS}")

# The rest test what is written (exports, versions, pages), not code paths
# the sanitizers watch: the plain build only, like the cross-compile checks.
if(KMQTT_SANITIZE OR KMQTT_SANITIZE_THREAD)
  return()
endif()

# -aux-info (the declarations as the compiler sees them) is gcc's.
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  add_test(NAME package.abi
           COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/check_abi.sh ${CMAKE_C_COMPILER}
                   $<TARGET_FILE:kmqtt_shared> ${PROJECT_SOURCE_DIR}/include ${KMQTT_ABI}
                   ${PROJECT_SOURCE_DIR}/debian/libkmqtt${KMQTT_ABI}.symbols)
  set_tests_properties(package.abi PROPERTIES LABELS package TIMEOUT 60)
endif()

add_test(NAME package.version
         COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/check_version.sh ${PROJECT_SOURCE_DIR}
                 ${PROJECT_VERSION} ${KMQTT_ABI})
set_tests_properties(package.version PROPERTIES LABELS package TIMEOUT 60)

foreach(tool ${KMQTT_TOOL_TARGETS})
  add_test(NAME man.${tool}
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/docs/check_man.sh $<TARGET_FILE:${tool}>
                   ${PROJECT_SOURCE_DIR}/docs/man/${tool}.1)
  set_tests_properties(man.${tool} PROPERTIES LABELS "docs;package" TIMEOUT 120)
endforeach()

add_test(NAME docs.api COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target docs)
set_tests_properties(docs.api PROPERTIES LABELS "docs;package" TIMEOUT 300)
