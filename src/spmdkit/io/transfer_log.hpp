#pragma once
// What the io layer's transfers really did, for --io-report: every collective read and write of
// raw data (arrays, time-series frames, table rows) with the bytes moved over all ranks, the
// slowest rank's time, whether MPI-IO did it collectively and if not why (HDF5's own answer,
// H5Pget_mpio_actual_io_mode / H5Pget_mpio_no_collective_cause), the dataset's layout and
// where it starts in the file against the file's alignment. Summed per dataset and direction.
// Only under --io-report (runtime/run_report.hpp): logging takes two small collectives per
// transfer over the file's communicator. The report lists the transfers rank 0 took part in.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "spmdkit/io/selection.hpp"
#include "spmdkit/runtime/comm.hpp"
#include "spmdkit/runtime/run_report.hpp"

namespace spmd::io {

/// One dataset's transfers in one direction, summed.
struct TransferSummary {
  std::string direction;  ///< "write" or "read"
  std::string file;       ///< the file's name as opened
  std::string dataset;    ///< absolute path in the file
  std::uint64_t transfers = 0;
  std::uint64_t bytes = 0;              ///< over all ranks
  double seconds = 0;                   ///< per transfer the slowest rank's time, summed
  std::uint64_t independent = 0;        ///< transfers MPI-IO did not do collectively
  std::set<std::string> modes;          ///< "contiguous collective", "no collective", ...
  std::set<std::string> causes;         ///< why not collective
  std::string layout;                   ///< "contiguous", "chunked", "compact"
  Extents chunk;                        ///< chunk extents (chunked)
  std::optional<std::uint64_t> offset;  ///< file offset of a contiguous dataset's data
  std::uint64_t alignment = 1;          ///< the file's alignment (H5Pset_alignment)
  /// A contiguous dataset whose data starts on a multiple of the file's alignment (true for
  /// others: the alignment applies to each chunk, which HDF5 places itself).
  [[nodiscard]] bool aligned() const noexcept {
    return !offset || alignment <= 1 || *offset % alignment == 0;
  }
};

/// The process's log of transfers (main thread only: the io layer is not thread-safe anyway).
class TransferLog {
 public:
  static TransferLog& instance();
  /// Collective over `comm` when --io-report was given (else nothing happens): adds one
  /// transfer through `dataset`; `bytes` and `seconds` are this rank's.
  void record(const Comm& comm, hid_t dataset, const char* direction, const TransferReport& report,
              std::uint64_t bytes, double seconds);
  [[nodiscard]] const std::vector<TransferSummary>& summaries() const noexcept {
    return summaries_;
  }
  /// The report as text lines and as JSON (an array of objects, one per summary).
  [[nodiscard]] run_report::Section section() const;
  void clear() { summaries_.clear(); }

 private:
  TransferLog() = default;
  std::vector<TransferSummary> summaries_;
};

}  // namespace spmd::io
