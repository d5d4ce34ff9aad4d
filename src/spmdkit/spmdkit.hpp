#pragma once
// spmdkit: SPMD batch applications on MPI and parallel HDF5. One include for everything.
//
// The rooms (one umbrella header each):
//   runtime  MPI environment, errors, the app entry point spmd::run, CLI, provenance
//   io       parallel HDF5: files, atomic outputs, attributes, distributed arrays
//   (decomp and patterns arrive with their issues)
#include "spmdkit/io.hpp"
#include "spmdkit/runtime.hpp"
#include "spmdkit/version.hpp"
