# What `make install` / `cmake --install` puts under the prefix:
#   lib/        libkmqtt.so.N (N = KMQTT_ABI), libkmqtt.so, libkmqtt.a
#   lib/pkgconfig/kmqtt.pc
#   lib/cmake/kmqtt/ kmqttConfig.cmake, kmqttConfigVersion.cmake, kmqttTargets*.cmake
#   include/kmqtt/*.h
#   bin/        the tools (KMQTT_BUILD_TOOLS)
#   share/man/  kmqtt-*(1) (with the tools), kmqtt(3)
include(CMakePackageConfigHelpers)
set(KMQTT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kmqtt)

install(TARGETS kmqtt_static kmqtt_shared EXPORT kmqttTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kmqtt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# find_package(kmqtt CONFIG): kmqtt::kmqtt (shared), kmqtt::kmqtt_static, and
# the components tls and ws (REQUIRED COMPONENTS tls fails on a library built
# with KMQTT_TLS=none). Before 1.0 a minor release may break the API, so only
# the same MAJOR.MINOR satisfies a request; from 1.0 on, the same major.
install(EXPORT kmqttTargets NAMESPACE kmqtt:: DESTINATION ${KMQTT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kmqttConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/kmqttConfig.cmake
                              INSTALL_DESTINATION ${KMQTT_CMAKE_DIR})
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_kmqtt_compat SameMinorVersion)
else()
  set(_kmqtt_compat SameMajorVersion)
endif()
write_basic_package_version_file(${CMAKE_BINARY_DIR}/kmqttConfigVersion.cmake
                                 COMPATIBILITY ${_kmqtt_compat})
install(FILES ${CMAKE_BINARY_DIR}/kmqttConfig.cmake ${CMAKE_BINARY_DIR}/kmqttConfigVersion.cmake
        DESTINATION ${KMQTT_CMAKE_DIR})

# kmqtt.pc names the prefix given at install time (cmake --install --prefix,
# make install PREFIX=...), which may differ from the one configured, so the
# file is finished when it is installed.
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(KMQTT_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(KMQTT_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/kmqtt.pc.in ${CMAKE_BINARY_DIR}/kmqtt.pc.in @ONLY)
install(CODE "
  file(READ \"${CMAKE_BINARY_DIR}/kmqtt.pc.in\" _kmqtt_pc)
  string(REPLACE \"%PREFIX%\" \"\${CMAKE_INSTALL_PREFIX}\" _kmqtt_pc \"\${_kmqtt_pc}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/kmqtt.pc\" \"\${_kmqtt_pc}\")")
install(FILES ${CMAKE_BINARY_DIR}/kmqtt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/docs/man/kmqtt.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
if(KMQTT_BUILD_TOOLS)
  install(TARGETS ${KMQTT_TOOL_TARGETS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  foreach(_tool ${KMQTT_TOOL_TARGETS})
    install(FILES ${PROJECT_SOURCE_DIR}/docs/man/${_tool}.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  endforeach()
endif()
