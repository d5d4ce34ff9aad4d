#pragma once
// Statistics of one numeric HDF5 dataset, computed in parallel: the leading dimension is
// block-decomposed over the ranks and read collectively in slabs. Every figure is identical to
// the bit for any rank count: min/max and counts are order-free, sums are exact (spmd::ExactSum),
// and the histogram counts integers.
#include <cstdint>
#include <string>
#include <vector>

#include <spmdkit/io.hpp>

namespace h5stats {

struct DatasetStats {
  std::string path;
  std::vector<unsigned long long> shape;
  std::string type;         ///< e.g. "float64", "int32"
  std::uint64_t count = 0;  ///< elements
  std::uint64_t nan_count = 0;
  double min = 0, max = 0;               ///< over non-NaN values
  double mean = 0, stddev = 0;           ///< over non-NaN values; stddev with n - 1
  std::vector<std::uint64_t> histogram;  ///< over finite values, numpy's binning
  std::vector<double> bin_edges;
};

/// The numeric datasets in the file (paths from the root), in HDF5's name order.
[[nodiscard]] std::vector<std::string> numeric_datasets(const spmd::io::File& file);

/// Collective. Throws spmd::Error for a missing or non-numeric dataset.
[[nodiscard]] DatasetStats analyse(const spmd::io::File& file, const std::string& path, int bins,
                                   std::size_t slab_bytes);

}  // namespace h5stats
