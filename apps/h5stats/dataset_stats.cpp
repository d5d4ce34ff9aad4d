#include "dataset_stats.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <span>

#include <fmt/format.h>

#include <spmdkit/decomp.hpp>
#include <spmdkit/io.hpp>
#include <spmdkit/patterns.hpp>
#include <spmdkit/runtime.hpp>

namespace h5stats {

namespace {

using spmd::io::Extents;
using spmd::io::Selection;

// Reads this rank's block (of the leading axis) slab by slab, in the file's own element type
// (which keeps the transfer collective), and hands each slab, converted to double, to `consume`.
void for_each_slab(const spmd::io::Dataset& dataset, spmd::io::ElementKind element,
                   std::size_t slab_bytes,
                   const std::function<void(const std::vector<double>&)>& consume) {
  const Selection block =
      spmd::decomp::leading_block(dataset.shape(), dataset.rank(), dataset.ranks());
  spmd::io::with_element_type(element, [&](auto zero) {
    using T = decltype(zero);
    dataset.for_each_slab<T>(block, slab_bytes, [&](const Selection&, std::span<const T> values) {
      consume(std::vector<double>(values.begin(), values.end()));
    });
  });
}

// numpy.histogram's equal-width binning, mirrored so that counts match numpy exactly.
struct Binning {
  double first, last, norm;
  std::vector<double> edges;
  Binning(double lo, double hi, int bins) {
    if (lo == hi) {
      lo -= 0.5;
      hi += 0.5;
    }
    first = lo;
    last = hi;
    norm = bins / (hi - lo);
    const double step = (hi - lo) / bins;  // numpy.linspace: i * step + start, last = stop
    for (int i = 0; i <= bins; ++i) edges.push_back(i * step + lo);
    edges.back() = hi;
  }
  [[nodiscard]] long index(double x) const {
    const long bins = static_cast<long>(edges.size()) - 1;
    long i = static_cast<long>((x - first) * norm);
    if (i == bins) --i;
    if (x < edges[static_cast<std::size_t>(i)]) --i;
    if (x >= edges[static_cast<std::size_t>(i) + 1] && i != bins - 1) ++i;
    return i;
  }
};

}  // namespace

std::vector<std::string> numeric_datasets(const spmd::io::File& file) {
  std::vector<std::string> paths;
  const auto arrays = [](const spmd::io::DatasetInfo& d) {
    return d.numeric() && !d.shape.empty();
  };
  for (const auto& dataset : file.datasets(arrays)) paths.push_back(dataset.path);
  return paths;
}

DatasetStats analyse(const spmd::io::File& file, const std::string& path, int bins,
                     std::size_t slab_bytes) {
  if (!file.exists(path)) {
    throw spmd::UsageError(fmt::format("no dataset '{}' in {}", path, file.path()));
  }
  DatasetStats stats;
  stats.path = path;
  const spmd::io::Dataset dataset = file.dataset(path);
  const spmd::io::DatasetInfo info = dataset.info();
  if (info.type_name == "numeric") {
    throw spmd::UsageError(fmt::format("'{}' has a numeric type this tool cannot read", path));
  }
  if (!info.numeric()) {
    throw spmd::UsageError(
        fmt::format("'{}' in {} is not numeric ({})", path, file.path(), info.type_name));
  }
  stats.type = info.type_name;
  const Extents& shape = info.shape;
  if (shape.empty()) throw spmd::UsageError(fmt::format("'{}' is a scalar, not an array", path));
  stats.shape.assign(shape.begin(), shape.end());
  stats.count = std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());

  // The shift for a stable variance: element 0, read by everyone (same value on every rank).
  double shift = 0;
  if (stats.count > 0) {
    Selection first{Extents(shape.size(), 0), Extents(shape.size(), 1)};
    spmd::io::with_element_type(info.element, [&](auto zero) {
      const auto value = static_cast<double>(
          dataset.read<decltype(zero)>(first, spmd::io::CollectivePolicy::ignore)[0]);
      shift = std::isfinite(value) ? value : 0.0;
    });
  }

  // Pass 1: counts, extremes, exact shifted sums.
  std::uint64_t nan_count = 0;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  double finite_lo = lo;
  double finite_hi = hi;
  std::uint64_t finite_count = 0;
  spmd::ExactSum sum;
  spmd::ExactSum sum_squares;
  for_each_slab(dataset, info.element, slab_bytes, [&](const std::vector<double>& values) {
    for (double x : values) {
      if (std::isnan(x)) {
        ++nan_count;
        continue;
      }
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      if (std::isfinite(x)) {
        ++finite_count;
        finite_lo = std::min(finite_lo, x);
        finite_hi = std::max(finite_hi, x);
      }
      const double d = x - shift;
      sum.add(d);
      sum_squares.add(d * d);
    }
  });
  const spmd::Comm& comm = file.comm();
  const auto total_counts =
      comm.allreduce(std::vector<std::uint64_t>{nan_count, finite_count}, std::plus<>{});
  const auto total_extremes =
      comm.allreduce(std::vector<double>{-lo, hi, -finite_lo, finite_hi}, spmd::op::max{});
  sum.all_reduce(comm);
  sum_squares.all_reduce(comm);
  stats.nan_count = total_counts[0];
  finite_count = total_counts[1];
  const std::uint64_t valid = stats.count - stats.nan_count;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  stats.min = valid > 0 ? -total_extremes[0] : nan;
  stats.max = valid > 0 ? total_extremes[1] : nan;
  if (valid > 0) {
    const double n = static_cast<double>(valid);
    const double s1 = sum.value();
    const double s2 = sum_squares.value();
    stats.mean = shift + s1 / n;
    stats.stddev = valid > 1 ? std::sqrt(std::max(0.0, (s2 - s1 * s1 / n) / (n - 1))) : 0.0;
  } else {
    stats.mean = nan;
    stats.stddev = nan;
  }

  // Pass 2: the histogram of finite values over [finite min, finite max].
  if (bins > 0 && finite_count > 0) {
    const Binning binning(-total_extremes[2], total_extremes[3], bins);
    std::vector<std::uint64_t> local(static_cast<std::size_t>(bins), 0);
    for_each_slab(dataset, info.element, slab_bytes, [&](const std::vector<double>& values) {
      for (double x : values) {
        if (std::isfinite(x)) ++local[static_cast<std::size_t>(binning.index(x))];
      }
    });
    stats.histogram = comm.allreduce(local, std::plus<>{});
    stats.bin_edges = binning.edges;
  }
  return stats;
}

}  // namespace h5stats
