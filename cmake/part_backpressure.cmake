# The backpressure matrix (tests/backpressure/): every transport stack x both
# clients against a scripted peer that stalls or reads a byte at a time. It
# needs the WebSocket transport, a TLS backend, and OpenSSL for the peer's
# server side.
if(KMQTT_BUILD_TESTS AND TARGET kmqtt_ws_obj AND OpenSSL_FOUND AND KMQTT_TLS_BACKENDS)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/backpressure
                   ${CMAKE_BINARY_DIR}/tests/backpressure)
endif()
