#pragma once
// spmdkit: SPMD batch applications on MPI and parallel HDF5. One include for everything.
//
// The rooms (one umbrella header each):
//   runtime  MPI environment, errors, the app entry point spmd::run, CLI, provenance
//   (decomp, patterns and io arrive with their issues)
#include "spmdkit/runtime.hpp"
#include "spmdkit/version.hpp"
