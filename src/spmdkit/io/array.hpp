#pragma once
// Distributed N-D arrays (rank 1-3, any arithmetic element type): a global array in one dataset,
// each rank owning a box of it. Collective transfer; ranks that own nothing still take part with an
// empty selection. After every transfer the layer knows whether MPI-IO really did it collectively
// (HDF5 silently falls back to independent I/O, e.g. on a type conversion) and acts by policy.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spmdkit/io/file.hpp"
#include "spmdkit/io/types.hpp"

namespace spmd::io {

using Extents = std::vector<hsize_t>;

/// The part of a global array one rank owns: offset and count per dimension (C order).
struct Box {
  Extents offset;
  Extents count;
  [[nodiscard]] std::size_t rank() const noexcept { return count.size(); }
  [[nodiscard]] hsize_t elements() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return elements() == 0; }
};

/// Throws unless `values` == box.elements().
void check_box_size(const Box& box, std::size_t values);

/// Where a box lives in the caller's memory when it is not packed: an array of `extents` (e.g. a
/// field with ghost layers) holding the box at `offset`. Lets a field be written or read in place.
struct MemoryLayout {
  Extents extents;
  Extents offset;
};

/// What to do when HDF5 did not transfer collectively.
enum class CollectivePolicy { require, warn, ignore };

struct ArrayOptions {
  std::string units;      ///< attribute "units" (UDUNITS style: "K", "m s-1", "1")
  std::string long_name;  ///< attribute "long_name"
  Extents chunk;          ///< empty: contiguous; else chunk extents (required for gzip)
  int gzip_level = 0;     ///< 0: no compression; 1-9 deflate (parallel filters, collective only)
  CollectivePolicy policy = CollectivePolicy::require;
  std::optional<MemoryLayout> memory;  ///< default: `data` holds exactly the box, packed
};

/// How a transfer was really done (H5Pget_mpio_actual_io_mode / no-collective cause).
struct TransferReport {
  bool collective = false;
  std::string mode;   ///< e.g. "contiguous collective", "chunk collective"
  std::string cause;  ///< why not collective ("" when it was)
};

/// Collective: creates dataset `path` (intermediate groups too) of `global_shape` and writes each
/// rank's `box` from `data` (box.elements() values, C order).
TransferReport write_array_bytes(const File& file, const std::string& path, hid_t type,
                                 const Extents& global_shape, const Box& box, const void* data,
                                 const ArrayOptions& options = {});
/// Collective: reads `box` of an existing dataset into `data` (box.elements() values).
TransferReport read_array_bytes(const File& file, const std::string& path, hid_t type,
                                const Box& box, void* data,
                                CollectivePolicy policy = CollectivePolicy::require,
                                const std::optional<MemoryLayout>& memory = std::nullopt);

template <H5Scalar T>
TransferReport write_array(const File& file, const std::string& path, const Extents& global_shape,
                           const Box& box, std::span<const T> data,
                           const ArrayOptions& options = {}) {
  if (!options.memory) check_box_size(box, data.size());
  return write_array_bytes(file, path, h5_type<T>(), global_shape, box, data.data(), options);
}

template <H5Scalar T>
[[nodiscard]] std::vector<T> read_array(const File& file, const std::string& path, const Box& box,
                                        TransferReport* report = nullptr) {
  std::vector<T> data(box.elements());
  TransferReport done = read_array_bytes(file, path, h5_type<T>(), box, data.data());
  if (report != nullptr) *report = std::move(done);
  return data;
}

/// The shape of an existing dataset.
[[nodiscard]] Extents dataset_shape(const File& file, const std::string& path);

/// The memory dataspace holding `box`: packed (no layout), or at layout.offset of an array of
/// layout.extents. An empty box selects nothing.
[[nodiscard]] Handle memory_selection(const Box& box, const std::optional<MemoryLayout>& layout);

/// A dataset transfer property list for collective MPI-IO.
[[nodiscard]] Handle collective_transfer();

/// Collective over `file`'s communicator: H5Dwrite of `data` through `dxpl`, the one place where
/// the io layer writes raw data. Where the MPI-IO layer may lose a write without an error
/// (verifying_writes()), the selection is read back and compared, and the ranks agree on the
/// result: a lost write is an Error on every rank ("is the disk or a quota full?").
void write_selection(const File& file, hid_t dataset, hid_t type, hid_t memory_space,
                     hid_t file_space, hid_t dxpl, const void* data, const std::string& what);

/// True when writes are read back: under Open MPI's OMPIO layer (OMPI_MCA_io names it), which
/// reports a write that hit a full disk as a success; SPMD_VERIFY_WRITES=1 or 0 overrides.
[[nodiscard]] bool verifying_writes();
/// Reads how the last transfer through `dxpl` was done, and applies `policy`.
TransferReport inspect_transfer(hid_t dxpl, const std::string& what, CollectivePolicy policy);

}  // namespace spmd::io
