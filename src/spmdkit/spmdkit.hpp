#pragma once
// spmdkit: SPMD batch applications on MPI and parallel HDF5. One include for everything.
//
// The rooms (one umbrella header each):
//   runtime  MPI environment, errors, the app entry point spmd::run, CLI, provenance
//   io       parallel HDF5: files, atomic outputs, attributes, distributed arrays
//   patterns master-worker, reductions, pipelines (so far: the exact, reproducible sum)
//   decomp   index maps, Cartesian decompositions with ghosts, split-phase halo exchange
#include "spmdkit/decomp.hpp"
#include "spmdkit/io.hpp"
#include "spmdkit/patterns.hpp"
#include "spmdkit/runtime.hpp"
#include "spmdkit/version.hpp"
