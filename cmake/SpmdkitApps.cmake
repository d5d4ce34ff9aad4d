include_guard(GLOBAL)
# `cmake --build <dir> --target apps` builds every app and nothing else (scripts/demo uses it).
if(NOT TARGET apps)
  add_custom_target(apps)
endif()

# spmd_add_app(NAME name SOURCES ...): an application installed as bin/spmd-<name>.
function(spmd_add_app)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBRARIES" ${ARGN})
  set(target spmd-${ARG_NAME})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE spmdkit::spmdkit ${ARG_LIBRARIES})
  spmd_set_warnings(${target})
  spmd_precompile_headers(${target} KIND program)
  install(TARGETS ${target} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  add_dependencies(apps ${target})
endfunction()
