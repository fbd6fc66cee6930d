# make docs: the HTML API reference from include/kmqtt/*.h, in
# <build>/docs/html. An undocumented public symbol fails it: doxygen's own
# warnings (docs/api/Doxyfile.in) and, for enum values, which doxygen lets
# pass, scripts/check_doc_xml.sh over its XML. The docs.api test runs it in
# make test.
find_program(KMQTT_DOXYGEN doxygen)
configure_file(${PROJECT_SOURCE_DIR}/docs/api/Doxyfile.in ${CMAKE_BINARY_DIR}/docs/Doxyfile @ONLY)
if(KMQTT_DOXYGEN)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${CMAKE_BINARY_DIR}/docs/html ${CMAKE_BINARY_DIR}/docs/xml
    COMMAND ${KMQTT_DOXYGEN} ${CMAKE_BINARY_DIR}/docs/Doxyfile
    COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/check_doc_xml.sh ${CMAKE_BINARY_DIR}/docs/xml
    COMMAND ${CMAKE_COMMAND} -E echo "API reference: ${CMAKE_BINARY_DIR}/docs/html/index.html"
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/docs
    COMMENT "doxygen: API reference from include/kmqtt/*.h"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "docs: doxygen not found (apt-get install doxygen)"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()
