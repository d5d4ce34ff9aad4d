# Finds every library spmdkit builds on. Kept in one file so that the installed package config
# (spmdkitConfig.cmake) repeats exactly the same searches for downstream projects.
include_guard(GLOBAL)

# MPI's and HDF5's C interfaces are found with the C compiler: a downstream project that enabled
# only C++ (project(... LANGUAGES CXX)) gets C enabled here rather than a failed search.
get_property(spmd_enabled_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if(NOT "C" IN_LIST spmd_enabled_languages)
  enable_language(C)
endif()
# MPI's C++ bindings (removed in MPI-3, unused here) are skipped: in Open MPI they put code into
# every translation unit that includes mpi.h (1.5 s of compile time each).
set(MPI_CXX_SKIP_MPICXX ON)
find_package(MPI 3.1 REQUIRED COMPONENTS C CXX)

# With the serial libhdf5-dev also installed, FindHDF5 picks it silently unless told otherwise.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 1.10 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "spmdkit needs the parallel (MPI) build of HDF5, but CMake found a serial one "
    "(${HDF5_C_LIBRARIES}). On Debian install libhdf5-openmpi-dev (bash scripts/setup), "
    "and remove CMakeCache.txt if a serial HDF5 was cached.")
endif()

find_package(Boost 1.74 REQUIRED COMPONENTS mpi serialization)
find_package(CLI11 2.1 REQUIRED)
find_package(fmt 9 REQUIRED)
# nlohmann_json is used inside the library only (JSON summaries); header-only.
if(NOT SPMD_FINDING_INSTALLED_PACKAGE)
  find_package(nlohmann_json 3.10 REQUIRED)
endif()
