#pragma once
// spmdkit: SPMD batch applications on MPI and parallel HDF5. One include for everything, the
// command-line parser (CLI11) included.
//
// The rooms (one umbrella header each; an app includes only umbrella headers -- a house rule,
// checked by the house.rules test). The room umbrellas leave out CLI11, which costs seconds of
// compile time in every unit that includes it: a source that declares options includes this one.
//   runtime  MPI environment, Comm (the one MPI layer), errors, spmd::run, provenance
//   io       parallel HDF5: files, groups, datasets, tables, atomic outputs, distributed arrays
//   patterns master-worker farm, pipelines, keyed and tree reductions, the exact sum
//   decomp   index maps, Cartesian decompositions with ghosts, split-phase halo exchange
#include "spmdkit/decomp.hpp"
#include "spmdkit/io.hpp"
#include "spmdkit/patterns.hpp"
#include "spmdkit/runtime.hpp"
#include "spmdkit/runtime/cli.hpp"
#include "spmdkit/version.hpp"
