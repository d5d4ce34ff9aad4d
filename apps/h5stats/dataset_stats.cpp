#include "dataset_stats.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include <spmdkit/io/array.hpp>
#include <spmdkit/io/handle.hpp>
#include <spmdkit/patterns/exact_sum.hpp>
#include <spmdkit/runtime/check.hpp>
#include <spmdkit/runtime/error.hpp>

namespace h5stats {

namespace {

using spmd::check_h5;
using spmd::check_mpi;
using spmd::io::Box;
using spmd::io::Extents;
using spmd::io::Handle;
using spmd::io::owned;

// Calls fn(T{}) with the C++ type of a native numeric HDF5 type; false if it is not numeric.
template <class Fn>
bool with_numeric_type(hid_t native, Fn&& fn, std::string& name) {
  auto is = [native](hid_t candidate) { return H5Tequal(native, candidate) > 0; };
  if (is(H5T_NATIVE_DOUBLE)) { name = "float64"; fn(double{}); return true; }
  if (is(H5T_NATIVE_FLOAT)) { name = "float32"; fn(float{}); return true; }
  if (is(H5T_NATIVE_INT8)) { name = "int8"; fn(std::int8_t{}); return true; }
  if (is(H5T_NATIVE_UINT8)) { name = "uint8"; fn(std::uint8_t{}); return true; }
  if (is(H5T_NATIVE_INT16)) { name = "int16"; fn(std::int16_t{}); return true; }
  if (is(H5T_NATIVE_UINT16)) { name = "uint16"; fn(std::uint16_t{}); return true; }
  if (is(H5T_NATIVE_INT32)) { name = "int32"; fn(std::int32_t{}); return true; }
  if (is(H5T_NATIVE_UINT32)) { name = "uint32"; fn(std::uint32_t{}); return true; }
  if (is(H5T_NATIVE_INT64)) { name = "int64"; fn(std::int64_t{}); return true; }
  if (is(H5T_NATIVE_UINT64)) { name = "uint64"; fn(std::uint64_t{}); return true; }
  return false;
}

std::string class_name(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "non-numeric";
  }
}

// Reads this rank's block slab by slab (the same number of collective rounds on every rank) and
// hands each slab, converted to double, to `consume`.
void for_each_slab(const spmd::io::File& file, const std::string& path, const Extents& shape,
                   hid_t native, std::size_t slab_bytes,
                   const std::function<void(const std::vector<double>&)>& consume) {
  int rank = 0;
  int ranks = 1;
  check_mpi(MPI_Comm_rank(file.comm(), &rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(file.comm(), &ranks), "MPI_Comm_size");
  const hsize_t row_elements = std::accumulate(shape.begin() + 1, shape.end(), hsize_t{1}, std::multiplies<>());
  if (shape[0] == 0 || row_elements == 0) return;
  const Box block = spmd::io::leading_block(shape, rank, ranks);
  const std::size_t element_size = H5Tget_size(native);
  const hsize_t rows_per_slab = std::max<hsize_t>(1, slab_bytes / (row_elements * element_size));
  const hsize_t most_rows = (shape[0] + static_cast<hsize_t>(ranks) - 1) / static_cast<hsize_t>(ranks);
  const hsize_t rounds = (most_rows + rows_per_slab - 1) / rows_per_slab;
  std::string ignored;
  for (hsize_t round = 0; round < rounds; ++round) {
    Box slab = block;
    const hsize_t first = std::min(block.count[0], round * rows_per_slab);
    slab.offset[0] = block.offset[0] + first;
    slab.count[0] = std::min(rows_per_slab, block.count[0] - first);
    with_numeric_type(native, [&](auto zero) {
      using T = decltype(zero);
      std::vector<T> raw(slab.elements());
      // Reading in the file's own (native) type keeps the transfer collective; the conversion
      // to double happens here, in memory.
      spmd::io::read_array_bytes(file, path, native, slab, raw.data(),
                                 spmd::io::CollectivePolicy::ignore);
      consume(std::vector<double>(raw.begin(), raw.end()));
    }, ignored);
  }
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
  // A C callback: no exceptions may cross it, so failures return -1 (H5Ovisit2 then fails).
  auto visit = [](hid_t location, const char* name, const H5O_info_t* info, void* data) -> herr_t {
    if (info->type != H5O_TYPE_DATASET) return 0;
    const Handle dataset(H5Dopen2(location, name, H5P_DEFAULT));
    if (!dataset) return -1;
    const Handle type(H5Dget_type(dataset.get()));
    const Handle space(H5Dget_space(dataset.get()));
    if (!type || !space) return -1;
    const H5T_class_t type_class = H5Tget_class(type.get());
    if ((type_class == H5T_INTEGER || type_class == H5T_FLOAT) &&
        H5Sget_simple_extent_ndims(space.get()) >= 1) {
      static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
    }
    return 0;
  };
  check_h5(H5Ovisit2(file.id(), H5_INDEX_NAME, H5_ITER_INC, visit, &paths, H5O_INFO_BASIC),
           "H5Ovisit2");
  return paths;
}

DatasetStats analyse(const spmd::io::File& file, const std::string& path, int bins,
                     std::size_t slab_bytes) {
  if (!spmd::io::exists(file.id(), path)) {
    throw spmd::UsageError(fmt::format("no dataset '{}' in {}", path, file.path()));
  }
  DatasetStats stats;
  stats.path = path;
  Handle native;
  {
    const Handle dataset = owned(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
    const Handle type = owned(H5Dget_type(dataset.get()), "H5Dget_type");
    const H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
      throw spmd::UsageError(fmt::format("'{}' in {} is not numeric ({})", path, file.path(),
                                    class_name(type_class)));
    }
    native = owned(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), "H5Tget_native_type");
    if (!with_numeric_type(native.get(), [](auto) {}, stats.type)) {
      throw spmd::UsageError(fmt::format("'{}' has a numeric type this tool cannot read", path));
    }
  }
  const Extents shape = spmd::io::dataset_shape(file, path);
  if (shape.empty()) throw spmd::UsageError(fmt::format("'{}' is a scalar, not an array", path));
  stats.shape.assign(shape.begin(), shape.end());
  stats.count = std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());

  // The shift for a stable variance: element 0, read by everyone (same value on every rank).
  double shift = 0;
  if (stats.count > 0) {
    Box first{Extents(shape.size(), 0), Extents(shape.size(), 1)};
    with_numeric_type(native.get(), [&](auto zero) {
      using T = decltype(zero);
      T value{};
      spmd::io::read_array_bytes(file, path, native.get(), first, &value,
                                 spmd::io::CollectivePolicy::ignore);
      shift = std::isfinite(static_cast<double>(value)) ? static_cast<double>(value) : 0.0;
    }, stats.type);
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
  for_each_slab(file, path, shape, native.get(), slab_bytes, [&](const std::vector<double>& values) {
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
  const MPI_Comm comm = file.comm();
  std::uint64_t counts[2] = {nan_count, finite_count};
  std::uint64_t total_counts[2] = {0, 0};
  check_mpi(MPI_Allreduce(counts, total_counts, 2, MPI_UINT64_T, MPI_SUM, comm), "MPI_Allreduce");
  double extremes[4] = {-lo, hi, -finite_lo, finite_hi};
  double total_extremes[4] = {};
  check_mpi(MPI_Allreduce(extremes, total_extremes, 4, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
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
    for_each_slab(file, path, shape, native.get(), slab_bytes, [&](const std::vector<double>& values) {
      for (double x : values) {
        if (std::isfinite(x)) ++local[static_cast<std::size_t>(binning.index(x))];
      }
    });
    stats.histogram.assign(local.size(), 0);
    check_mpi(MPI_Allreduce(local.data(), stats.histogram.data(), bins, MPI_UINT64_T, MPI_SUM, comm),
              "MPI_Allreduce");
    stats.bin_edges = binning.edges;
  }
  return stats;
}

}  // namespace h5stats
