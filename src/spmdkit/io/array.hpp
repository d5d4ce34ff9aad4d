#pragma once
// Distributed N-D arrays (any rank, any arithmetic element type): a global array in one dataset,
// each rank owning a box of it. One-call forms of File::create_dataset + Dataset::write and
// Location::dataset + Dataset::read (file.hpp). Collective transfer; ranks that own nothing still
// take part with an empty selection. After every transfer the layer knows whether MPI-IO really did
// it collectively (HDF5 silently falls back to independent I/O, e.g. on a type conversion) and acts
// by policy.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spmdkit/io/file.hpp"
#include "spmdkit/io/selection.hpp"
#include "spmdkit/io/types.hpp"

namespace spmd::io {

/// Collective: creates dataset `path` (intermediate groups too) of `global_shape` and writes each
/// rank's `box` from `data` (box.elements() values, C order).
TransferReport write_array_bytes(const File& file, const std::string& path, hid_t type,
                                 const Extents& global_shape, const Selection& box,
                                 const void* data, const ArrayOptions& options = {});
/// Collective: reads `box` of an existing dataset into `data` (box.elements() values).
TransferReport read_array_bytes(const File& file, const std::string& path, hid_t type,
                                const Selection& box, void* data,
                                CollectivePolicy policy = CollectivePolicy::require,
                                const std::optional<MemoryLayout>& memory = std::nullopt);

template <H5Scalar T>
TransferReport write_array(const File& file, const std::string& path, const Extents& global_shape,
                           const Selection& box, std::span<const T> data,
                           const ArrayOptions& options = {}) {
  if (!options.memory) check_selection_size(box, data.size());
  return write_array_bytes(file, path, h5_type<T>(), global_shape, box, data.data(), options);
}

template <H5Scalar T>
[[nodiscard]] std::vector<T> read_array(const File& file, const std::string& path,
                                        const Selection& box, TransferReport* report = nullptr) {
  std::vector<T> data(box.elements());
  TransferReport done = read_array_bytes(file, path, h5_type<T>(), box, data.data());
  if (report != nullptr) *report = std::move(done);
  return data;
}

/// The memory dataspace holding `box`: packed (no layout), or at layout.offset of an array of
/// layout.extents. An empty box selects nothing.
[[nodiscard]] Handle memory_selection(const Selection& box,
                                      const std::optional<MemoryLayout>& layout);

/// Collective over `comm` (the file's communicator): H5Dwrite of `data` through a collective
/// transfer property list, the one place where the io layer writes raw data. Where the MPI-IO
/// layer may lose a write without an error (verifying_writes()), the selection is read back and
/// compared, and the ranks agree on the result: a lost write is an Error on every rank ("is the
/// disk or a quota full?"). Then how MPI-IO really did it is read back from HDF5 and `policy`
/// applied (require: an Error if not collective; warn: one warning line naming the cause), and
/// under --io-report the transfer is logged (TransferLog).
TransferReport write_selection(const Comm& comm, hid_t dataset, hid_t type, hid_t memory_space,
                               hid_t file_space, const void* data, const std::string& what,
                               CollectivePolicy policy);
/// The same for reading (H5Dread), the one place where the io layer reads raw data collectively.
TransferReport read_selection(const Comm& comm, hid_t dataset, hid_t type, hid_t memory_space,
                              hid_t file_space, void* data, const std::string& what,
                              CollectivePolicy policy);

/// True when writes are read back: under Open MPI's OMPIO layer (OMPI_MCA_io names it), which
/// reports a write that hit a full disk as a success; SPMD_VERIFY_WRITES=1 or 0 overrides.
[[nodiscard]] bool verifying_writes();

}  // namespace spmd::io
