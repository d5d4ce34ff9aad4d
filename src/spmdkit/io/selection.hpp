#pragma once
// What a collective transfer moves: the box of a global array a rank owns, where it sits in the
// rank's memory, and how the transfer really went (collective or not, and why).
#include <hdf5.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace spmd::io {

using Extents = std::vector<hsize_t>;

/// The part of a dataset one rank transfers (HDF5's hyperslab): offset and count per dimension,
/// C order, any number of dimensions. Not to be confused with decomp::Box<D>, a box of cells in
/// a grid's index space (signed: ghost cells may lie outside the grid); decomp::io_selection
/// turns a subdomain's owned box into a Selection, the one place the two meet.
struct Selection {
  Extents offset;
  Extents count;
  [[nodiscard]] std::size_t rank() const noexcept { return count.size(); }
  [[nodiscard]] hsize_t elements() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return elements() == 0; }
  friend bool operator==(const Selection&, const Selection&) = default;
};

/// Throws unless `values` == selection.elements() (and offset and count agree in length).
void check_selection_size(const Selection& box, std::size_t values);

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

}  // namespace spmd::io
