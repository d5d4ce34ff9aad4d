#include "spmdkit/io/time_series.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

#include <fmt/format.h>

#include "spmdkit/io/attributes.hpp"
#include "spmdkit/runtime/check.hpp"

namespace spmd::io {

namespace {

// One frame per chunk, halved along its largest dimension while over 64 MiB (HDF5 caps chunks at
// 4 GiB, and big chunks make partial reads expensive).
Extents frame_chunk(const Extents& frame_shape, std::size_t element_size) {
  Extents chunk{1};
  for (hsize_t extent : frame_shape) chunk.push_back(std::max<hsize_t>(extent, 1));
  auto bytes = [&] {
    hsize_t total = element_size;
    for (hsize_t c : chunk) total *= c;
    return total;
  };
  while (bytes() > (hsize_t{64} << 20)) {
    auto largest = std::max_element(chunk.begin() + 1, chunk.end());
    *largest = (*largest + 1) / 2;
  }
  return chunk;
}

Handle create_extendible(const File& file, const std::string& path, hid_t type,
                         const Extents& initial, const Extents& chunk) {
  Extents maximum = initial;
  maximum[0] = H5S_UNLIMITED;
  const Handle space =
      owned(H5Screate_simple(static_cast<int>(initial.size()), initial.data(), maximum.data()),
            "H5Screate_simple");
  const Handle dcpl = owned(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate(dataset create)");
  check_h5(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk");
  check_h5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
  const Handle lcpl = intermediate_groups_lcpl();
  return owned(
      H5Dcreate2(file.id(), path.c_str(), type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
      "H5Dcreate2");
}

std::string sibling(const std::string& path, const std::string& name) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? name : path.substr(0, slash + 1) + name;
}

}  // namespace

TimeSeries TimeSeries::create(const File& file, std::string path, hid_t type, Extents frame_shape,
                              const TimeSeriesOptions& options) {
  Extents initial{0};
  initial.insert(initial.end(), frame_shape.begin(), frame_shape.end());
  {
    const Handle dataset =
        create_extendible(file, path, type, initial, frame_chunk(frame_shape, H5Tget_size(type)));
    if (!options.units.empty()) set_attribute(dataset.get(), "units", options.units);
    if (!options.long_name.empty()) set_attribute(dataset.get(), "long_name", options.long_name);
    if (!options.grid_origin.empty())
      set_attribute(dataset.get(), "grid_origin", options.grid_origin);
    if (!options.grid_spacing.empty())
      set_attribute(dataset.get(), "grid_spacing", options.grid_spacing);
    if (!options.axes.empty()) set_attribute(dataset.get(), "axes", options.axes);
  }
  std::string time_path = options.time_path.empty() ? sibling(path, "time") : options.time_path;
  {
    const Handle dataset = owned(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
    set_attribute(dataset.get(), "time_coordinate", time_path);
  }
  if (!exists(file.id(), time_path)) {
    const Handle time = create_extendible(file, time_path, H5T_NATIVE_DOUBLE, {0}, {1024});
    set_attribute(time.get(), "units", options.time_units);
    set_attribute(time.get(), "long_name", "time");
    set_attribute(time.get(), "axis", "T");
  }
  return TimeSeries(file, std::move(path), std::move(time_path), type, std::move(frame_shape),
                    options.policy);
}

TimeSeries TimeSeries::open(const File& file, std::string path, hid_t type,
                            CollectivePolicy policy) {
  if (!exists(file.id(), path)) {
    throw Error(fmt::format("{}: there is no time series '{}'", file.path(), path));
  }
  const Handle dataset = owned(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
  const Handle stored = owned(H5Dget_type(dataset.get()), "H5Dget_type");
  if (check_h5(H5Tequal(stored.get(), type), "H5Tequal") <= 0) {
    throw Error(
        fmt::format("{}: the time series '{}' holds another element type", file.path(), path));
  }
  Extents shape = file.dataset(path).shape();
  if (shape.empty()) throw Error(fmt::format("{}: '{}' is not a time series", file.path(), path));
  std::string time_path = has_attribute(dataset.get(), "time_coordinate")
                              ? string_attribute(dataset.get(), "time_coordinate")
                              : sibling(path, "time");
  TimeSeries series(file, std::move(path), std::move(time_path), type,
                    Extents(shape.begin() + 1, shape.end()), policy);
  series.frames_ = shape[0];
  series.times_ = read_times(file, series.time_path_);
  if (series.times_.size() < series.frames_) {
    throw Error(fmt::format("{}: '{}' has {} frames but {} times", file.path(), series.path_,
                            series.frames_, series.times_.size()));
  }
  series.times_.resize(series.frames_);
  return series;
}

TransferReport TimeSeries::append_bytes(double time, const Selection& box, const void* data,
                                        const std::optional<MemoryLayout>& memory_layout) {
  if (box.rank() != frame_shape_.size()) {
    throw Error(fmt::format("'{}': frames have {} dimensions, the box {}", path_,
                            frame_shape_.size(), box.rank()));
  }
  const hsize_t index = frames_;
  TransferReport report;
  {
    const Handle dataset = owned(H5Dopen2(file_.id(), path_.c_str(), H5P_DEFAULT), "H5Dopen2");
    Extents extent{index + 1};
    extent.insert(extent.end(), frame_shape_.begin(), frame_shape_.end());
    check_h5(H5Dset_extent(dataset.get(), extent.data()), "H5Dset_extent");
    const Handle file_space = owned(H5Dget_space(dataset.get()), "H5Dget_space");
    const Handle memory = memory_selection(box, memory_layout);
    if (box.empty()) {
      check_h5(H5Sselect_none(file_space.get()), "H5Sselect_none");
    } else {
      Extents offset{index};
      offset.insert(offset.end(), box.offset.begin(), box.offset.end());
      Extents count{1};
      count.insert(count.end(), box.count.begin(), box.count.end());
      check_h5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr,
                                   count.data(), nullptr),
               "H5Sselect_hyperslab");
    }
    report =
        write_selection(file_.comm(), dataset.get(), type_, memory.get(), file_space.get(), data,
                        fmt::format("appending frame {} to '{}'", index, path_), policy_);
  }
  {
    // The time coordinate: rank 0 writes the value, the others take part with nothing. Another
    // series sharing this coordinate may have written it already.
    const Handle dataset = owned(H5Dopen2(file_.id(), time_path_.c_str(), H5P_DEFAULT), "H5Dopen2");
    const Handle current = owned(H5Dget_space(dataset.get()), "H5Dget_space");
    hsize_t written = 0;
    check_h5(H5Sget_simple_extent_dims(current.get(), &written, nullptr),
             "H5Sget_simple_extent_dims");
    if (written <= index) {
      const hsize_t extent = index + 1;
      check_h5(H5Dset_extent(dataset.get(), &extent), "H5Dset_extent");
      const int rank = file_.rank();
      const Handle file_space = owned(H5Dget_space(dataset.get()), "H5Dget_space");
      const hsize_t one = rank == 0 ? 1 : 0;
      const Handle memory = owned(H5Screate_simple(1, &one, nullptr), "H5Screate_simple");
      if (rank == 0) {
        check_h5(
            H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &index, nullptr, &one, nullptr),
            "H5Sselect_hyperslab");
      } else {
        check_h5(H5Sselect_none(file_space.get()), "H5Sselect_none");
        check_h5(H5Sselect_none(memory.get()), "H5Sselect_none");
      }
      // One value from rank 0: however MPI-IO does it is fine (logged, not checked).
      write_selection(
          file_.comm(), dataset.get(), H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), &time,
          fmt::format("appending time {} to '{}'", index, time_path_), CollectivePolicy::ignore);
    }
  }
  frames_ = index + 1;
  times_.push_back(time);
  return report;
}

TransferReport TimeSeries::read_frame_bytes(hsize_t frame, const Selection& box, void* data,
                                            const std::optional<MemoryLayout>& memory) const {
  if (frame >= frames_) {
    throw Error(fmt::format("'{}' has {} frames, not {}", path_, frames_, frame + 1));
  }
  if (box.rank() != frame_shape_.size()) {
    throw Error(fmt::format("'{}': frames have {} dimensions, the box {}", path_,
                            frame_shape_.size(), box.rank()));
  }
  Selection in_series{{frame}, {1}};
  in_series.offset.insert(in_series.offset.end(), box.offset.begin(), box.offset.end());
  in_series.count.insert(in_series.count.end(), box.count.begin(), box.count.end());
  std::optional<MemoryLayout> layout;
  if (memory) {
    layout = MemoryLayout{{1}, {0}};
    layout->extents.insert(layout->extents.end(), memory->extents.begin(), memory->extents.end());
    layout->offset.insert(layout->offset.end(), memory->offset.begin(), memory->offset.end());
  }
  return read_array_bytes(file_, path_, type_, in_series, data, policy_, layout);
}

void TimeSeries::append_copy(const TimeSeries& source, hsize_t frame, const Selection& box) {
  if (check_h5(H5Tequal(source.type_, type_), "H5Tequal") <= 0 ||
      source.frame_shape_ != frame_shape_) {
    throw Error(fmt::format("cannot copy frames of '{}' to '{}': other type or shape", source.path_,
                            path_));
  }
  std::vector<std::byte> buffer(box.elements() * H5Tget_size(type_));
  source.read_frame_bytes(frame, box, buffer.data());
  append_bytes(source.times_.at(frame), box, buffer.data());
}

void TimeSeries::truncate(hsize_t frames) {
  if (frames > frames_) {
    throw Error(fmt::format("'{}' has {} frames, cannot keep {}", path_, frames_, frames));
  }
  for (const std::string& path : {path_, time_path_}) {
    const Handle dataset = owned(H5Dopen2(file_.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
    Extents extent = file_.dataset(path).shape();
    extent[0] = frames;
    check_h5(H5Dset_extent(dataset.get(), extent.data()), "H5Dset_extent");
  }
  frames_ = frames;
  times_.resize(frames);
}

XdmfField TimeSeries::xdmf_field(std::string name) const {
  const bool integer = H5Tget_class(type_) == H5T_INTEGER;
  return {std::move(name), path_, static_cast<int>(H5Tget_size(type_)), integer,
          integer && H5Tget_sign(type_) == H5T_SGN_NONE};
}

std::vector<double> read_times(const File& file, const std::string& time_path) {
  const Extents shape = file.dataset(time_path).shape();
  return read_array<double>(file, time_path, Selection{{0}, shape});
}

}  // namespace spmd::io
