# TLS transports (src/transport/tls_*.c), one per backend whose Debian
# package is found: kmqtt_tls_<backend>_obj (its objects, which the installed
# library takes for the backend KMQTT_TLS selects) and kmqtt_tls_<backend>
# (a static library of them over kmqtt_base, which the tests of that backend
# link, so both backends stay tested whichever one is installed). kmqtt_tls is
# the selected one for tests that want "the" TLS.
# KMQTT_TLS_LINK_<backend> is what a program linking that backend needs too.
find_package(OpenSSL 3 QUIET)
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
find_library(MBEDTLS_TLS_LIBRARY mbedtls)
find_library(MBEDTLS_X509_LIBRARY mbedx509)
find_library(MBEDTLS_CRYPTO_LIBRARY mbedcrypto)

set(KMQTT_TLS_BACKENDS "")
set(_tls_common ${PROJECT_SOURCE_DIR}/src/transport/tls_common.c)

function(kmqtt_tls_lib backend)
  set(obj kmqtt_tls_${backend}_obj)
  add_library(${obj} OBJECT ${_tls_common} ${PROJECT_SOURCE_DIR}/src/transport/tls_${backend}.c)
  target_include_directories(${obj} PUBLIC ${PROJECT_SOURCE_DIR}/include
                             PRIVATE ${PROJECT_SOURCE_DIR}/src/transport ${ARGN})
  target_compile_options(${obj} PRIVATE ${KMQTT_WARNINGS})
  target_compile_definitions(${obj} PRIVATE _POSIX_C_SOURCE=200809L)
  set_target_properties(${obj} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  add_library(kmqtt_tls_${backend} STATIC $<TARGET_OBJECTS:${obj}>)
  target_link_libraries(kmqtt_tls_${backend} PUBLIC kmqtt_base ${KMQTT_TLS_LINK_${backend}})
endfunction()

if(OpenSSL_FOUND)
  set(KMQTT_TLS_LINK_openssl OpenSSL::SSL OpenSSL::Crypto)
  # For kmqtt.pc: the Debian package libssl-dev ships libssl.pc and libcrypto.pc.
  set(KMQTT_TLS_PC_REQUIRES_openssl "libssl libcrypto")
  set(KMQTT_TLS_PC_LIBS_openssl "")
  kmqtt_tls_lib(openssl)
  list(APPEND KMQTT_TLS_BACKENDS openssl)
endif()
if(MBEDTLS_INCLUDE_DIR AND MBEDTLS_TLS_LIBRARY AND MBEDTLS_X509_LIBRARY AND MBEDTLS_CRYPTO_LIBRARY)
  set(KMQTT_TLS_LINK_mbedtls ${MBEDTLS_TLS_LIBRARY} ${MBEDTLS_X509_LIBRARY}
      ${MBEDTLS_CRYPTO_LIBRARY})
  # mbedTLS 2.28 (Debian 12) ships no .pc files.
  set(KMQTT_TLS_PC_REQUIRES_mbedtls "")
  set(KMQTT_TLS_PC_LIBS_mbedtls "-lmbedtls -lmbedx509 -lmbedcrypto")
  kmqtt_tls_lib(mbedtls ${MBEDTLS_INCLUDE_DIR})
  list(APPEND KMQTT_TLS_BACKENDS mbedtls)
endif()

if(openssl IN_LIST KMQTT_TLS_BACKENDS)
  set(_tls_default openssl)
elseif(mbedtls IN_LIST KMQTT_TLS_BACKENDS)
  set(_tls_default mbedtls)
else()
  set(_tls_default none)
endif()
set(KMQTT_TLS ${_tls_default} CACHE STRING
    "TLS backend built into libkmqtt (and kmqtt_tls): openssl, mbedtls or none")
set_property(CACHE KMQTT_TLS PROPERTY STRINGS openssl mbedtls none)

if(NOT KMQTT_TLS STREQUAL "none")
  if(NOT KMQTT_TLS IN_LIST KMQTT_TLS_BACKENDS)
    message(FATAL_ERROR "KMQTT_TLS=${KMQTT_TLS}: its library was not found (have: ${KMQTT_TLS_BACKENDS})")
  endif()
  add_library(kmqtt_tls INTERFACE)
  target_link_libraries(kmqtt_tls INTERFACE kmqtt_tls_${KMQTT_TLS})
  target_compile_definitions(kmqtt_tls INTERFACE KMQTT_HAVE_TLS)
endif()
message(STATUS "kmqtt TLS: ${KMQTT_TLS} (available: ${KMQTT_TLS_BACKENDS})")

if(KMQTT_BUILD_TESTS AND KMQTT_TLS_BACKENDS)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/tls ${CMAKE_BINARY_DIR}/tests/tls)
endif()

# The handshake benchmark, once per backend: <build>/bin/kmqtt-tlsbench-<backend>.
if(NOT KMQTT_BUILD_TOOLS)
  return()
endif()
foreach(backend ${KMQTT_TLS_BACKENDS})
  add_executable(kmqtt-tlsbench-${backend} ${PROJECT_SOURCE_DIR}/bench/tls_handshake.c)
  target_link_libraries(kmqtt-tlsbench-${backend} PRIVATE kmqtt_tls_${backend} kmqtt_base)
  target_compile_options(kmqtt-tlsbench-${backend} PRIVATE ${KMQTT_WARNINGS})
  target_compile_definitions(kmqtt-tlsbench-${backend} PRIVATE _POSIX_C_SOURCE=200809L)
endforeach()
