# TLS transports (src/transport/tls_*.c): kmqtt_tls_openssl and
# kmqtt_tls_mbedtls, each a static library built when its Debian package is
# found; kmqtt_tls is the one KMQTT_TLS selects (what the tools link).
find_package(OpenSSL 3 QUIET)
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
find_library(MBEDTLS_TLS_LIBRARY mbedtls)
find_library(MBEDTLS_X509_LIBRARY mbedx509)
find_library(MBEDTLS_CRYPTO_LIBRARY mbedcrypto)

set(KMQTT_TLS_BACKENDS "")
set(_tls_common ${PROJECT_SOURCE_DIR}/src/transport/tls_common.c)

function(kmqtt_tls_lib name src)
  add_library(${name} STATIC ${_tls_common} ${PROJECT_SOURCE_DIR}/src/transport/${src})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                             PRIVATE ${PROJECT_SOURCE_DIR}/src/transport)
  target_compile_options(${name} PRIVATE ${KMQTT_WARNINGS})
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L)
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

if(OpenSSL_FOUND)
  kmqtt_tls_lib(kmqtt_tls_openssl tls_openssl.c)
  target_link_libraries(kmqtt_tls_openssl PUBLIC kmqtt_static OpenSSL::SSL OpenSSL::Crypto)
  list(APPEND KMQTT_TLS_BACKENDS openssl)
endif()
if(MBEDTLS_INCLUDE_DIR AND MBEDTLS_TLS_LIBRARY AND MBEDTLS_X509_LIBRARY AND MBEDTLS_CRYPTO_LIBRARY)
  kmqtt_tls_lib(kmqtt_tls_mbedtls tls_mbedtls.c)
  target_include_directories(kmqtt_tls_mbedtls PRIVATE ${MBEDTLS_INCLUDE_DIR})
  target_link_libraries(kmqtt_tls_mbedtls PUBLIC kmqtt_static ${MBEDTLS_TLS_LIBRARY}
                        ${MBEDTLS_X509_LIBRARY} ${MBEDTLS_CRYPTO_LIBRARY})
  list(APPEND KMQTT_TLS_BACKENDS mbedtls)
endif()

if(openssl IN_LIST KMQTT_TLS_BACKENDS)
  set(_tls_default openssl)
elseif(mbedtls IN_LIST KMQTT_TLS_BACKENDS)
  set(_tls_default mbedtls)
else()
  set(_tls_default none)
endif()
set(KMQTT_TLS ${_tls_default} CACHE STRING "TLS backend for kmqtt_tls and the tools: openssl, mbedtls or none")
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
foreach(backend ${KMQTT_TLS_BACKENDS})
  add_executable(kmqtt-tlsbench-${backend} ${PROJECT_SOURCE_DIR}/bench/tls_handshake.c)
  target_link_libraries(kmqtt-tlsbench-${backend} PRIVATE kmqtt_tls_${backend} kmqtt_static)
  target_compile_options(kmqtt-tlsbench-${backend} PRIVATE ${KMQTT_WARNINGS})
  target_compile_definitions(kmqtt-tlsbench-${backend} PRIVATE _POSIX_C_SOURCE=200809L)
endforeach()
