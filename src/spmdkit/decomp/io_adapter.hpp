#pragma once
// Where decomposition meets HDF5: a Subdomain becomes the io layer's Box (and the layout of the
// local array with ghosts), so a distributed field is written or read with one call, in place --
// and a field written at P ranks reads back at Q ranks, each reading its own subdomain.
// (io knows nothing of decomp; this adapter is the only place the two rooms touch.)
#include <span>
#include <string>

#include "spmdkit/decomp/cart.hpp"
#include "spmdkit/decomp/index_map.hpp"
#include "spmdkit/io/array.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::decomp {

/// The owned box of `sub` as an io box (global offsets and counts).
template <std::size_t D>
[[nodiscard]] io::Selection io_selection(const Subdomain<D>& sub) {
  io::Selection box{io::Extents(D), io::Extents(D)};
  for (std::size_t a = 0; a < D; ++a) {
    box.offset[a] = static_cast<hsize_t>(sub.owned().lo[a]);
    box.count[a] = static_cast<hsize_t>(sub.owned().extent(a));
  }
  return box;
}

/// The local array with ghosts, holding the owned box past the low ghosts.
template <std::size_t D>
[[nodiscard]] io::MemoryLayout io_layout(const Subdomain<D>& sub) {
  io::MemoryLayout layout{io::Extents(D), io::Extents(D)};
  const auto extents = sub.local_extents();
  for (std::size_t a = 0; a < D; ++a) {
    layout.extents[a] = static_cast<hsize_t>(extents[a]);
    layout.offset[a] = static_cast<hsize_t>(sub.ghost()[a]);
  }
  return layout;
}

template <std::size_t D>
[[nodiscard]] io::Extents io_shape(const Subdomain<D>& sub) {
  return io::Extents(sub.global_cells().begin(), sub.global_cells().end());
}

/// The balanced block (BlockMap) of the leading dimension that `rank` of `ranks` owns, whole in
/// the other dimensions: the simplest decomposition of a dataset, for reading it at any rank
/// count.
[[nodiscard]] inline io::Selection leading_block(const io::Extents& global_shape, int rank,
                                                 int ranks) {
  io::Selection box{io::Extents(global_shape.size(), 0), global_shape};
  if (global_shape.empty()) return box;
  const BlockMap rows(static_cast<Index>(global_shape[0]), ranks);
  box.offset[0] = static_cast<hsize_t>(rows.offset(rank));
  box.count[0] = static_cast<hsize_t>(rows.local_size(rank));
  return box;
}

/// Collective: writes the owned part of `field` (local array with ghosts) as dataset `path` of
/// the global grid's shape.
template <io::H5Scalar T, std::size_t D>
io::TransferReport write_field(const io::File& file, const std::string& path,
                               const Subdomain<D>& sub, std::span<const T> field,
                               io::ArrayOptions options = {}) {
  if (static_cast<Index>(field.size()) != sub.local_cells()) {
    throw Error("write_field: the field does not match the subdomain with ghosts");
  }
  options.memory = io_layout(sub);
  return io::write_array<T>(file, path, io_shape(sub), io_selection(sub), field, options);
}

/// Collective: reads this rank's owned part of dataset `path` into `field` (ghosts untouched).
template <io::H5Scalar T, std::size_t D>
io::TransferReport read_field(const io::File& file, const std::string& path,
                              const Subdomain<D>& sub, std::span<T> field) {
  if (static_cast<Index>(field.size()) != sub.local_cells()) {
    throw Error("read_field: the field does not match the subdomain with ghosts");
  }
  if (file.dataset(path).shape() != io_shape(sub)) {
    throw Error("read_field: '" + path + "' has another shape than the grid");
  }
  return io::read_array_bytes(file, path, io::h5_type<T>(), io_selection(sub), field.data(),
                              io::CollectivePolicy::require, io_layout(sub));
}

}  // namespace spmd::decomp
