include_guard(GLOBAL)
# Precompiled headers: Boost.MPI, nlohmann/json, fmt and GoogleTest take 1-3 s each to parse in
# most of spmdkit's ~100 translation units; compiled once per kind of target and reused, that
# time goes (CI builds the tree twice: release and sanitizers).
#
# They are force-included, so a header that uses them without including them would compile here;
# the downstream test (tests/downstream: a project built against the installed package, with no
# precompiled headers) compiles the public headers the way a user does.
option(SPMD_PRECOMPILE_HEADERS "Precompile the heavy third-party headers (faster builds)" ON)

# Only headers that are slow to parse but put no code into the object file: a precompiled header
# is included in every translation unit of the target, so one with code (CLI11's global
# validators, MPI's C++ bindings) would cost more than it saves. CLI11 is kept out of the
# library's headers instead (runtime/command_line.hpp).
set(SPMD_PRECOMPILED_HEADERS
    <boost/mpi/communicator.hpp> <nlohmann/json.hpp> <fmt/format.h> <mpi.h> <hdf5.h>
    <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional> <span> <string>
    <string_view> <vector>)

# spmd_precompile_headers(target KIND library|program|test)
#  library: the shared library, with its own (position-independent) precompiled headers;
#  program: apps and benchmarks, test: GoogleTest programs -- each kind shares one precompiled
#  header, built once by an empty object library with the same flags (REUSE_FROM needs them equal;
#  GCC refuses a mismatching one with -Winvalid-pch, an error under -Werror, not silently).
function(spmd_precompile_headers target)
  cmake_parse_arguments(ARG "" "KIND" "" ${ARGN})
  if(NOT SPMD_PRECOMPILE_HEADERS)
    return()
  endif()
  if(ARG_KIND STREQUAL "library")
    target_precompile_headers(${target} PRIVATE ${SPMD_PRECOMPILED_HEADERS})
    return()
  endif()
  set(anchor spmd_precompiled_${ARG_KIND})
  if(NOT TARGET ${anchor})
    set(anchor_source "${PROJECT_BINARY_DIR}/${anchor}.cpp")
    if(NOT EXISTS "${anchor_source}")
      file(WRITE "${anchor_source}" "// Builds the precompiled headers of spmdkit's ${ARG_KIND}s.\n")
    endif()
    add_library(${anchor} OBJECT "${anchor_source}")
    target_link_libraries(${anchor} PRIVATE spmdkit::spmdkit)
    set(headers ${SPMD_PRECOMPILED_HEADERS})
    if(ARG_KIND STREQUAL "test")
      target_link_libraries(${anchor} PRIVATE GTest::gtest)
      list(APPEND headers <gtest/gtest.h>)
    endif()
    spmd_set_warnings(${anchor})
    target_precompile_headers(${anchor} PRIVATE ${headers})
  endif()
  target_precompile_headers(${target} REUSE_FROM ${anchor})
endfunction()
