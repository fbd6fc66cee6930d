# make docs: the HTML API reference from include/kmqtt/*.h, in
# <build>/docs/html. An undocumented public symbol fails it: doxygen's own
# warnings (docs/api/Doxyfile.in) and, for enum values, which doxygen lets
# pass, scripts/check_doc_xml.sh over its XML. The docs.api test runs it in
# make test.
find_program(KMQTT_DOXYGEN doxygen)
set(KMQTT_DOCS_DIR ${CMAKE_BINARY_DIR}/docs CACHE PATH "Where make docs writes html/ (and xml/)")
configure_file(${PROJECT_SOURCE_DIR}/docs/api/Doxyfile.in ${KMQTT_DOCS_DIR}/Doxyfile @ONLY)
if(KMQTT_DOXYGEN)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${KMQTT_DOCS_DIR}/html ${KMQTT_DOCS_DIR}/xml
    COMMAND ${KMQTT_DOXYGEN} ${KMQTT_DOCS_DIR}/Doxyfile
    COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/check_doc_xml.sh ${KMQTT_DOCS_DIR}/xml
    COMMAND ${CMAKE_COMMAND} -E echo "API reference: ${KMQTT_DOCS_DIR}/html/index.html"
    WORKING_DIRECTORY ${KMQTT_DOCS_DIR}
    COMMENT "doxygen: API reference from include/kmqtt/*.h"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "docs: doxygen not found (apt-get install doxygen)"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()
