#pragma once
// The run's provenance as attributes on an HDF5 object (usually the file root), CF-style:
// Conventions, title, history, source, plus every field of spmd::Provenance and the full JSON.
// Collective: every rank passes the same value (Provenance::collect makes it so).
#include <hdf5.h>

#include <string_view>

#include "spmdkit/io/file.hpp"
#include "spmdkit/runtime/provenance.hpp"

namespace spmd::io {

void write_provenance(const Object& object, const Provenance& provenance, std::string_view title);

}  // namespace spmd::io
