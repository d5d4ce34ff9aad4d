#pragma once
// A time series of distributed N-D frames: one extendible dataset (time, frame...) plus its time
// coordinate, so a solver appends one snapshot per call. Chunked by frame (extendible datasets
// must be chunked); collective writes, empty boxes allowed. A series can be reopened (a restart
// continues it), read back frame by frame, and described for ParaView (its XDMF sidecar).
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/io/xdmf.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::io {

struct TimeSeriesOptions {
  std::string units;
  std::string long_name;
  std::string time_path;  ///< default: "time" next to the series ("fields/time")
  std::string time_units = "s";
  CollectivePolicy policy = CollectivePolicy::require;
  /// Where the frame's cells sit (attributes grid_origin, grid_spacing: per axis, slowest
  /// first; axes, e.g. "time y x"). Empty: not written.
  std::vector<double> grid_origin;
  std::vector<double> grid_spacing;
  std::string axes;
};

class TimeSeries {
 public:
  /// Collective: creates the series (and its time coordinate unless another series made it).
  [[nodiscard]] static TimeSeries create(const File& file, std::string path, hid_t type,
                                         Extents frame_shape,
                                         const TimeSeriesOptions& options = {});
  template <H5Scalar T>
  [[nodiscard]] static TimeSeries create(const File& file, std::string path, Extents frame_shape,
                                         const TimeSeriesOptions& options = {}) {
    return create(file, std::move(path), h5_type<T>(), std::move(frame_shape), options);
  }

  /// Collective: opens an existing series (written by create()) to read it or append to it. A
  /// missing dataset or another element type is an Error naming it.
  [[nodiscard]] static TimeSeries open(const File& file, std::string path, hid_t type,
                                       CollectivePolicy policy = CollectivePolicy::require);
  template <H5Scalar T>
  [[nodiscard]] static TimeSeries open(const File& file, std::string path,
                                       CollectivePolicy policy = CollectivePolicy::require) {
    return open(file, std::move(path), h5_type<T>(), policy);
  }

  /// Collective: appends the frame at `time`; each rank writes its `box` of the frame, from
  /// `data` packed or, with `memory`, in place in a larger array (a field with ghosts).
  TransferReport append_bytes(double time, const Selection& box, const void* data,
                              const std::optional<MemoryLayout>& memory = std::nullopt);
  template <H5Scalar T>
  TransferReport append(double time, const Selection& box, std::span<const T> data) {
    if (h5_type<T>() != type_) {
      throw Error("TimeSeries::append: the element type differs from the series'");
    }
    check_selection_size(box, data.size());
    return append_bytes(time, box, data.data());
  }

  /// Collective: reads this rank's `box` of frame `frame` into `data` (packed, or in place).
  TransferReport read_frame_bytes(hsize_t frame, const Selection& box, void* data,
                                  const std::optional<MemoryLayout>& memory = std::nullopt) const;
  template <H5Scalar T>
  [[nodiscard]] std::vector<T> read_frame(hsize_t frame, const Selection& box) const {
    if (h5_type<T>() != type_) throw Error("TimeSeries::read_frame: another element type");
    std::vector<T> values(box.elements());
    read_frame_bytes(frame, box, values.data());
    return values;
  }
  /// Collective: appends frame `frame` of `source` (same type and frame shape), each rank
  /// copying its `box`; one frame in memory at a time.
  void append_copy(const TimeSeries& source, hsize_t frame, const Selection& box);
  /// Collective: drops the frames from `frames` on (a restart discards what came after its
  /// checkpoint).
  void truncate(hsize_t frames);

  /// The XDMF field that shows this series in ParaView.
  [[nodiscard]] XdmfField xdmf_field(std::string name) const;

  [[nodiscard]] hsize_t frames() const noexcept { return frames_; }
  [[nodiscard]] const std::vector<double>& times() const noexcept { return times_; }
  [[nodiscard]] hid_t type() const noexcept { return type_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& time_path() const noexcept { return time_path_; }
  [[nodiscard]] const Extents& frame_shape() const noexcept { return frame_shape_; }

 private:
  TimeSeries(const File& file, std::string path, std::string time_path, hid_t type,
             Extents frame_shape, CollectivePolicy policy)
      : file_(file),
        path_(std::move(path)),
        time_path_(std::move(time_path)),
        type_(type),
        frame_shape_(std::move(frame_shape)),
        policy_(policy) {}
  File file_;  // shared with the caller's File: never dangles
  std::string path_;
  std::string time_path_;
  hid_t type_;
  Extents frame_shape_;
  CollectivePolicy policy_;
  hsize_t frames_ = 0;
  std::vector<double> times_;  // one per frame, on every rank (small: what XDMF lists)
};

/// The times of an existing series' coordinate (every rank reads all of them).
[[nodiscard]] std::vector<double> read_times(const File& file, const std::string& time_path);

}  // namespace spmd::io
