# libkmqtt.a (kmqtt_static) and libkmqtt.so (kmqtt_shared): what applications
# link and what is installed. One library holds every part a Linux program
# needs: core, mem, the port, WebSocket and the TLS backend KMQTT_TLS selects
# (part_tls.cmake), so `-lkmqtt` gives mqtts:// and wss://. Why not one
# library per TLS backend: docs/versioning.md.
set(KMQTT_LIB_OBJECTS $<TARGET_OBJECTS:kmqtt_obj> $<TARGET_OBJECTS:kmqtt_ws_obj>)
set(KMQTT_LIB_TLS_LINK "")
set(KMQTT_PC_REQUIRES_PRIVATE "")
set(KMQTT_PC_LIBS_PRIVATE "")
if(NOT KMQTT_TLS STREQUAL "none")
  list(APPEND KMQTT_LIB_OBJECTS $<TARGET_OBJECTS:kmqtt_tls_${KMQTT_TLS}_obj>)
  set(KMQTT_LIB_TLS_LINK ${KMQTT_TLS_LINK_${KMQTT_TLS}})
  set(KMQTT_PC_REQUIRES_PRIVATE "${KMQTT_TLS_PC_REQUIRES_${KMQTT_TLS}}")
  set(KMQTT_PC_LIBS_PRIVATE "${KMQTT_TLS_PC_LIBS_${KMQTT_TLS}}")
endif()
string(STRIP "${KMQTT_PC_LIBS_PRIVATE} -pthread" KMQTT_PC_LIBS_PRIVATE)

add_library(kmqtt_static STATIC ${KMQTT_LIB_OBJECTS})
add_library(kmqtt_shared SHARED ${KMQTT_LIB_OBJECTS})
foreach(t kmqtt_static kmqtt_shared)
  target_include_directories(${t} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_target_properties(${t} PROPERTIES OUTPUT_NAME kmqtt)
endforeach()
# A static library's users link what it needs; a shared one carries it.
target_link_libraries(kmqtt_static PUBLIC Threads::Threads PRIVATE ${KMQTT_LIB_TLS_LINK})
target_link_libraries(kmqtt_shared PRIVATE Threads::Threads ${KMQTT_LIB_TLS_LINK})
set_target_properties(kmqtt_static PROPERTIES EXPORT_NAME kmqtt_static)
set_target_properties(kmqtt_shared PROPERTIES EXPORT_NAME kmqtt VERSION ${PROJECT_VERSION}
                                              SOVERSION ${KMQTT_ABI})

# Only the public API leaves libkmqtt.so: the functions of include/kmqtt/*.h.
# The internals (kc_*, ks_*, nano_*, the codec helpers nano shares) stay
# inside, so changing them is never an ABI change. The abi.exports test
# checks the exported set against the headers.
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang" AND NOT APPLE AND NOT WIN32)
  set(KMQTT_VERSION_SCRIPT ${PROJECT_SOURCE_DIR}/src/libkmqtt.map)
  target_link_options(kmqtt_shared PRIVATE "LINKER:--version-script=${KMQTT_VERSION_SCRIPT}")
  set_property(TARGET kmqtt_shared APPEND PROPERTY LINK_DEPENDS ${KMQTT_VERSION_SCRIPT})
  # Every symbol resolved at link time: a missing TLS or thread library is a
  # build error, not a user's runtime error. (A sanitizer runtime is
  # resolved by the program, so not with sanitizers.)
  if(NOT KMQTT_SANITIZE AND NOT KMQTT_SANITIZE_THREAD AND NOT KMQTT_FUZZ)
    target_link_options(kmqtt_shared PRIVATE "LINKER:--no-undefined")
  endif()
endif()

add_library(kmqtt::kmqtt_static ALIAS kmqtt_static)
if(BUILD_SHARED_LIBS)
  add_library(kmqtt::kmqtt ALIAS kmqtt_shared)
else()
  add_library(kmqtt::kmqtt ALIAS kmqtt_static)
endif()
