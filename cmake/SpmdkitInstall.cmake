include_guard(GLOBAL)
# Install rules and the package config: after `cmake --install build --prefix P`, a downstream
# project does find_package(spmdkit) with CMAKE_PREFIX_PATH=P and links spmdkit::spmdkit.
include(CMakePackageConfigHelpers)
set(SPMD_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/spmdkit")

install(TARGETS spmdkit EXPORT spmdkitTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILE_SET generated_headers DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT spmdkitTargets NAMESPACE spmdkit:: DESTINATION ${SPMD_CMAKE_DIR})

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/spmdkitConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/spmdkitConfig.cmake" INSTALL_DESTINATION ${SPMD_CMAKE_DIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/spmdkitConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/spmdkitConfig.cmake"
              "${PROJECT_BINARY_DIR}/spmdkitConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/SpmdkitDependencies.cmake"
        DESTINATION ${SPMD_CMAKE_DIR})
