#include "spmdkit/io/array.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/transfer_log.hpp"
#include "spmdkit/runtime/check.hpp"

namespace spmd::io {

hsize_t Selection::elements() const noexcept {
  return std::accumulate(count.begin(), count.end(), hsize_t{1}, std::multiplies<>());
}

void check_selection_size(const Selection& box, std::size_t values) {
  if (box.offset.size() != box.count.size()) {
    throw Error(fmt::format("box offset has {} dimensions but count has {}", box.offset.size(),
                            box.count.size()));
  }
  if (box.elements() != values) {
    throw Error(fmt::format("box of {} elements given {} values", box.elements(), values));
  }
}

namespace {

// A dataset transfer property list for collective MPI-IO.
Handle collective_transfer() {
  Handle dxpl = owned(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate(transfer)");
  check_h5(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio");
  return dxpl;
}

std::string mode_name(H5D_mpio_actual_io_mode_t mode) {
  switch (mode) {
    case H5D_MPIO_NO_COLLECTIVE: return "independent";
    case H5D_MPIO_CHUNK_INDEPENDENT: return "chunk independent";
    case H5D_MPIO_CHUNK_COLLECTIVE: return "chunk collective";
    case H5D_MPIO_CHUNK_MIXED: return "chunk mixed";
    case H5D_MPIO_CONTIGUOUS_COLLECTIVE: return "contiguous collective";
  }
  return "unknown";
}

std::string cause_text(std::uint32_t cause) {
  std::vector<std::string> reasons;
  auto add = [&](std::uint32_t bit, const char* why) {
    if ((cause & bit) != 0) reasons.emplace_back(why);
  };
  add(H5D_MPIO_SET_INDEPENDENT, "independent I/O was requested");
  add(H5D_MPIO_DATATYPE_CONVERSION, "a datatype conversion was needed");
  add(H5D_MPIO_DATA_TRANSFORMS, "a data transform was applied");
  add(H5D_MPIO_NOT_SIMPLE_OR_SCALAR_DATASPACES, "a dataspace is neither simple nor scalar");
  add(H5D_MPIO_NOT_CONTIGUOUS_OR_CHUNKED_DATASET, "the dataset is neither contiguous nor chunked");
  add(H5D_MPIO_PARALLEL_FILTERED_WRITES_DISABLED, "parallel filtered writes are disabled");
  add(H5D_MPIO_ERROR_WHILE_CHECKING_COLLECTIVE_POSSIBLE, "HDF5 failed to check");
  if (reasons.empty() && cause != 0) reasons.push_back(fmt::format("cause bits {:#x}", cause));
  return fmt::format("{}", fmt::join(reasons, ", "));
}

// The file-space selection of `box` on `space` (an empty selection for an empty box).
void select_box(hid_t space, const Selection& box) {
  if (box.empty()) {
    check_h5(H5Sselect_none(space), "H5Sselect_none");
  } else {
    check_h5(H5Sselect_hyperslab(space, H5S_SELECT_SET, box.offset.data(), nullptr,
                                 box.count.data(), nullptr),
             "H5Sselect_hyperslab");
  }
}

void check_box_in_shape(const Selection& box, const Extents& shape, const std::string& path) {
  if (box.rank() != shape.size()) {
    throw Error(fmt::format("'{}' has {} dimensions, the box {}", path, shape.size(), box.rank()));
  }
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (box.count[d] > 0 && box.offset[d] + box.count[d] > shape[d]) {
      throw Error(fmt::format("box [{}, {}) of dimension {} lies outside '{}' (extent {})",
                              box.offset[d], box.offset[d] + box.count[d], d, path, shape[d]));
    }
  }
}

Extents extents_of(hid_t space) {
  const int rank = check_h5(H5Sget_simple_extent_ndims(space), "H5Sget_simple_extent_ndims");
  Extents shape(static_cast<std::size_t>(rank));
  check_h5(H5Sget_simple_extent_dims(space, shape.data(), nullptr), "H5Sget_simple_extent_dims");
  return shape;
}

TransferReport nothing_to_transfer() { return {true, "nothing to transfer", ""}; }

// The bytes spanned by a memory space: the whole buffer the caller passed, of which the space
// may select a part (a field without its ghosts).
std::size_t buffer_bytes(hid_t memory_space, hid_t type) {
  const hssize_t points = H5Sget_simple_extent_npoints(memory_space);
  const std::size_t size = H5Tget_size(type);
  if (points < 0 || size == 0) throw Error("cannot size the memory buffer of a write");
  return static_cast<std::size_t>(points) * size;
}

}  // namespace

Handle memory_selection(const Selection& box, const std::optional<MemoryLayout>& layout) {
  if (!layout) {
    const hsize_t elements = box.elements();
    Handle space = owned(H5Screate_simple(1, &elements, nullptr), "H5Screate_simple");
    if (elements == 0) check_h5(H5Sselect_none(space.get()), "H5Sselect_none");
    return space;
  }
  if (layout->extents.size() != box.rank() || layout->offset.size() != box.rank()) {
    throw Error("memory layout and box differ in dimensions");
  }
  for (std::size_t d = 0; d < box.rank(); ++d) {
    if (layout->offset[d] + box.count[d] > layout->extents[d]) {
      throw Error(fmt::format("the box does not fit the memory layout along dimension {}", d));
    }
  }
  Handle space = owned(
      H5Screate_simple(static_cast<int>(layout->extents.size()), layout->extents.data(), nullptr),
      "H5Screate_simple");
  if (box.empty()) {
    check_h5(H5Sselect_none(space.get()), "H5Sselect_none");
  } else {
    check_h5(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, layout->offset.data(), nullptr,
                                 box.count.data(), nullptr),
             "H5Sselect_hyperslab");
  }
  return space;
}

bool verifying_writes() {
  static const bool verify = [] {
    if (const char* forced = std::getenv("SPMD_VERIFY_WRITES"); forced != nullptr && *forced) {
      return std::string_view(forced) != "0";
    }
    const char* layer = std::getenv("OMPI_MCA_io");
    return layer != nullptr && std::string_view(layer).find("ompio") != std::string_view::npos;
  }();
  return verify;
}

namespace {

// How the transfer just done through `dxpl` was really done; applies `policy` (a warning is one
// line, from the communicator's rank 0: every rank reaches the same verdict).
TransferReport inspect_transfer(const Comm& comm, hid_t dxpl, const std::string& what,
                                CollectivePolicy policy) {
  H5D_mpio_actual_io_mode_t mode = H5D_MPIO_NO_COLLECTIVE;
  check_h5(H5Pget_mpio_actual_io_mode(dxpl, &mode), "H5Pget_mpio_actual_io_mode");
  std::uint32_t local_cause = 0;
  std::uint32_t global_cause = 0;
  check_h5(H5Pget_mpio_no_collective_cause(dxpl, &local_cause, &global_cause),
           "H5Pget_mpio_no_collective_cause");
  // The global cause is the same on every rank, so every rank reaches the same verdict.
  TransferReport report{global_cause == H5D_MPIO_COLLECTIVE, mode_name(mode),
                        cause_text(global_cause)};
  if (!report.collective) {
    const std::string message =
        fmt::format("{} was not collective ({}): {}", what, report.mode, report.cause);
    if (policy == CollectivePolicy::require) throw Error(message);
    if (policy == CollectivePolicy::warn && comm.rank() == 0) {
      std::fprintf(stderr, "warning: %s\n", message.c_str());
    }
  }
  return report;
}

// The bytes a memory space selects (H5S_ALL: the whole dataset).
std::uint64_t selected_bytes(hid_t dataset, hid_t memory_space, hid_t type) {
  hssize_t points = 0;
  if (memory_space == H5S_ALL) {
    const Handle space = owned(H5Dget_space(dataset), "H5Dget_space");
    points = H5Sget_select_npoints(space.get());
  } else {
    points = H5Sget_select_npoints(memory_space);
  }
  return points > 0 ? static_cast<std::uint64_t>(points) * H5Tget_size(type) : 0;
}

// A transfer just done, as the log and the caller see it.
struct TimedTransfer {
  TransferReport report;
  double seconds = 0;
};

// Runs one transfer (`call`: the H5Dwrite or H5Dread through `dxpl`), times it and inspects it
// right away: a transfer property list reports its last transfer.
template <class Call>
TimedTransfer timed_transfer(const Comm& comm, hid_t dxpl, const std::string& what,
                             CollectivePolicy policy, Call&& call) {
  const auto start = std::chrono::steady_clock::now();
  call();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {inspect_transfer(comm, dxpl, what, policy), seconds};
}

// Reads a selection just written back into a buffer shaped like the caller's and compares it;
// collective: a loss on any rank is an Error on every rank. Where the selection leaves parts of
// that buffer out (a field's ghosts), the buffer starts as a copy of the caller's, so that only
// the read elements can differ; where it selects everything, the read fills it whole and it is
// neither cleared nor copied first (the read-back is what this costs under OMPIO: two passes
// over the data, not four).
void verify_written(const Comm& comm, hid_t dataset, hid_t type, hid_t memory_space,
                    hid_t file_space, hid_t dxpl, const void* data, const std::string& what) {
  const std::size_t bytes = buffer_bytes(memory_space, type);
  const bool whole =
      H5Sget_select_npoints(memory_space) == H5Sget_simple_extent_npoints(memory_space);
  const auto copy = std::make_unique_for_overwrite<unsigned char[]>(bytes);
  if (!whole && bytes > 0) std::memcpy(copy.get(), data, bytes);
  check_h5(H5Dread(dataset, type, memory_space, file_space, dxpl, copy.get()), "H5Dread");
  const int lost_here = (bytes > 0 && std::memcmp(copy.get(), data, bytes) != 0) ? 1 : 0;
  if (comm.allreduce(lost_here, op::max{}) != 0) {
    throw Error(
        fmt::format("{}: the data did not read back as written, a write was lost (is the "
                    "disk or a quota full?)",
                    what));
  }
}

}  // namespace

TransferReport write_selection(const Comm& comm, hid_t dataset, hid_t type, hid_t memory_space,
                               hid_t file_space, const void* data, const std::string& what,
                               CollectivePolicy policy) {
  const Handle dxpl = collective_transfer();
  const TimedTransfer done = timed_transfer(comm, dxpl.get(), what, policy, [&] {
    check_h5(H5Dwrite(dataset, type, memory_space, file_space, dxpl.get(), data), "H5Dwrite");
  });
  if (verifying_writes()) {
    verify_written(comm, dataset, type, memory_space, file_space, dxpl.get(), data, what);
  }
  TransferLog::instance().record(comm, dataset, "write", done.report,
                                 selected_bytes(dataset, memory_space, type), done.seconds);
  return done.report;
}

TransferReport read_selection(const Comm& comm, hid_t dataset, hid_t type, hid_t memory_space,
                              hid_t file_space, void* data, const std::string& what,
                              CollectivePolicy policy) {
  const Handle dxpl = collective_transfer();
  const TimedTransfer done = timed_transfer(comm, dxpl.get(), what, policy, [&] {
    check_h5(H5Dread(dataset, type, memory_space, file_space, dxpl.get(), data), "H5Dread");
  });
  TransferLog::instance().record(comm, dataset, "read", done.report,
                                 selected_bytes(dataset, memory_space, type), done.seconds);
  return done.report;
}

Dataset Location::create_dataset(const std::string& path, hid_t type, const Extents& shape,
                                 const ArrayOptions& options) const {
  if (shape.empty() || shape.size() > 32) {
    throw Error(fmt::format("'{}': arrays need 1 to 32 dimensions", path));
  }
  const Handle file_space = owned(
      H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), "H5Screate_simple");
  const Handle dcpl = owned(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate(dataset create)");
  // Every element is written: skip the fill pass (it would cost a full extra write).
  check_h5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
  if (!options.chunk.empty()) {
    if (options.chunk.size() != shape.size()) {
      throw Error(fmt::format("'{}': chunk has {} dimensions, the array {}", path,
                              options.chunk.size(), shape.size()));
    }
    check_h5(H5Pset_chunk(dcpl.get(), static_cast<int>(options.chunk.size()), options.chunk.data()),
             "H5Pset_chunk");
    if (options.gzip_level > 0) {
      check_h5(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options.gzip_level)),
               "H5Pset_deflate");
    }
  } else if (options.gzip_level > 0) {
    throw Error(fmt::format("'{}': gzip needs a chunked layout (ArrayOptions::chunk)", path));
  }
  const Handle lcpl = intermediate_groups_lcpl();
  auto handle = file_->adopt(owned(
      H5Dcreate2(id(), path.c_str(), type, file_space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
      "H5Dcreate2"));
  Dataset dataset(file_, std::move(handle), absolute_path(path));
  if (!options.units.empty()) dataset.set_attribute("units", options.units);
  if (!options.long_name.empty()) dataset.set_attribute("long_name", options.long_name);
  return dataset;
}

Extents Dataset::shape() const {
  const Handle space = owned(H5Dget_space(id()), "H5Dget_space");
  return extents_of(space.get());
}

TransferReport Dataset::write_bytes(hid_t type, const Selection& box, const void* data,
                                    CollectivePolicy policy,
                                    const std::optional<MemoryLayout>& memory) const {
  if (!memory) check_selection_size(box, box.elements());
  const Handle file_space = owned(H5Dget_space(id()), "H5Dget_space");
  const Extents extents = extents_of(file_space.get());
  check_box_in_shape(box, extents, path_);
  if (std::accumulate(extents.begin(), extents.end(), hsize_t{1}, std::multiplies<>()) == 0) {
    return nothing_to_transfer();  // no storage to write into; every rank knows (same shape)
  }
  select_box(file_space.get(), box);
  const Handle memory_space = memory_selection(box, memory);
  return write_selection(comm(), id(), type, memory_space.get(), file_space.get(), data,
                         "writing '" + path_ + "'", policy);
}

TransferReport Dataset::read_bytes(hid_t type, const Selection& box, void* data,
                                   CollectivePolicy policy,
                                   const std::optional<MemoryLayout>& memory) const {
  const Handle file_space = owned(H5Dget_space(id()), "H5Dget_space");
  const Extents extents = extents_of(file_space.get());
  check_box_in_shape(box, extents, path_);
  if (std::accumulate(extents.begin(), extents.end(), hsize_t{1}, std::multiplies<>()) == 0) {
    return nothing_to_transfer();
  }
  select_box(file_space.get(), box);
  const Handle memory_space = memory_selection(box, memory);
  return read_selection(comm(), id(), type, memory_space.get(), file_space.get(), data,
                        "reading '" + path_ + "'", policy);
}

hsize_t Dataset::slab_rows(const Selection& block, std::size_t element_size,
                           std::size_t slab_bytes) {
  if (block.rank() == 0) throw Error("for_each_slab: a scalar dataset has no rows");
  const hsize_t row_bytes = std::accumulate(block.count.begin() + 1, block.count.end(),
                                            hsize_t{element_size}, std::multiplies<>());
  return std::max<hsize_t>(1, slab_bytes / std::max<hsize_t>(row_bytes, 1));
}

hsize_t Dataset::slab_rounds(const Selection& block, hsize_t rows_per_slab) const {
  const std::uint64_t rounds =
      block.empty() ? 0 : (block.count[0] + rows_per_slab - 1) / rows_per_slab;
  return comm().allreduce(rounds, op::max{});
}

Selection Dataset::nth_slab(const Selection& block, hsize_t rows_per_slab, hsize_t round) {
  Selection slab = block;
  const hsize_t first = block.empty() ? 0 : std::min(block.count[0], round * rows_per_slab);
  slab.offset[0] = block.offset[0] + first;
  slab.count[0] = block.empty() ? 0 : std::min(rows_per_slab, block.count[0] - first);
  return slab;
}

TransferReport write_array_bytes(const File& file, const std::string& path, hid_t type,
                                 const Extents& global_shape, const Selection& box,
                                 const void* data, const ArrayOptions& options) {
  check_box_in_shape(box, global_shape, path);
  return file.create_dataset(path, type, global_shape, options)
      .write_bytes(type, box, data, options.policy, options.memory);
}

TransferReport read_array_bytes(const File& file, const std::string& path, hid_t type,
                                const Selection& box, void* data, CollectivePolicy policy,
                                const std::optional<MemoryLayout>& layout) {
  return file.dataset(path).read_bytes(type, box, data, policy, layout);
}

}  // namespace spmd::io
