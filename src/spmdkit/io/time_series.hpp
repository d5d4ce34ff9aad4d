#pragma once
// A time series of distributed N-D frames: one extendible dataset (time, frame...) plus its time
// coordinate, so a solver appends one snapshot per call. Chunked by frame (extendible datasets
// must be chunked); collective writes, empty boxes allowed.
#include <span>
#include <string>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::io {

struct TimeSeriesOptions {
  std::string units;
  std::string long_name;
  std::string time_path;          ///< default: "time" next to the series ("fields/time")
  std::string time_units = "s";
  CollectivePolicy policy = CollectivePolicy::require;
};

class TimeSeries {
 public:
  /// Collective: creates the series (and its time coordinate unless another series made it).
  [[nodiscard]] static TimeSeries create(const File& file, std::string path, hid_t type,
                                         Extents frame_shape, const TimeSeriesOptions& options = {});
  template <H5Scalar T>
  [[nodiscard]] static TimeSeries create(const File& file, std::string path, Extents frame_shape,
                                         const TimeSeriesOptions& options = {}) {
    return create(file, std::move(path), h5_type<T>(), std::move(frame_shape), options);
  }

  /// Collective: appends the frame at `time`; each rank writes its `box` of the frame.
  TransferReport append_bytes(double time, const Box& box, const void* data);
  template <H5Scalar T>
  TransferReport append(double time, const Box& box, std::span<const T> data) {
    if (h5_type<T>() != type_) {
      throw Error("TimeSeries::append: the element type differs from the series'");
    }
    check_box_size(box, data.size());
    return append_bytes(time, box, data.data());
  }

  [[nodiscard]] hsize_t frames() const noexcept { return frames_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& time_path() const noexcept { return time_path_; }
  [[nodiscard]] const Extents& frame_shape() const noexcept { return frame_shape_; }

 private:
  TimeSeries(const File& file, std::string path, std::string time_path, hid_t type,
             Extents frame_shape, CollectivePolicy policy)
      : file_(&file), path_(std::move(path)), time_path_(std::move(time_path)), type_(type),
        frame_shape_(std::move(frame_shape)), policy_(policy) {}
  const File* file_;
  std::string path_;
  std::string time_path_;
  hid_t type_;
  Extents frame_shape_;
  CollectivePolicy policy_;
  hsize_t frames_ = 0;
};

/// The times of an existing series' coordinate (every rank reads all of them).
[[nodiscard]] std::vector<double> read_times(const File& file, const std::string& time_path);

}  // namespace spmd::io
