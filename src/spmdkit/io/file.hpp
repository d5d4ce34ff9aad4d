#pragma once
// Parallel HDF5 as objects with one API (after HighFive): a File and its Groups hold groups and
// datasets (Location), and a File, a Group and a Dataset all carry attributes (Object).
//
// Every object holds the file it lives in, shared with the File it came from: moving or dropping
// the File never leaves a Group, Dataset, Table or TimeSeries dangling. File::close() closes the
// file and every group and dataset still open from it; using one afterwards is an Error saying
// so. Copies share one HDF5 object.
//
// The file is opened collectively on a communicator with the MPI-IO driver. Settings chosen for
// speed and safety: collective metadata reads and writes, large objects aligned to 1 MiB
// (file-system stripes), fill values never written (every element is written anyway, and a fill
// pass would cost a full extra write), and file locking that gives way on file systems without
// locks (network file systems); HDF5_USE_FILE_LOCKING=FALSE still switches it off.
//
// Collective or not: creating anything, writing data or attributes and closing are collective
// (every rank of the file's communicator, same arguments); opening and reading metadata give
// every rank the same answer; reading data is collective.
#include <concepts>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/handle.hpp"
#include "spmdkit/io/selection.hpp"
#include "spmdkit/io/types.hpp"
#include "spmdkit/runtime/comm.hpp"

namespace spmd::io {

enum class Access { read_only, read_write };

struct FileOptions {
  hsize_t alignment = hsize_t{1} << 20;            ///< objects at least `alignment_threshold`
  hsize_t alignment_threshold = hsize_t{1} << 18;  ///< bytes large start on this boundary
};

class Group;
class Dataset;

namespace detail {
/// The open file every object of it shares.
struct OpenFile {
  Handle handle;
  std::string path;
  Comm comm;
  /// The groups and datasets opened from it that are still alive: HDF5 refuses to close a
  /// parallel file with objects open, so close() closes them first.
  std::vector<std::weak_ptr<Handle>> objects;
  /// Takes an object's handle and keeps track of it.
  [[nodiscard]] std::shared_ptr<const Handle> adopt(Handle object);
  /// Closes every object still open, then the file.
  void close();
};
}  // namespace detail

/// What a dataset holds, without reading it.
struct DatasetInfo {
  std::string path;  ///< absolute ("/fields/T")
  Extents shape;     ///< empty for a scalar
  ElementKind element = ElementKind::other;
  /// "float64", "int32", ...; otherwise the type's class ("string", "compound", "enum", ...),
  /// or "numeric" for a number type with no C++ equivalent here.
  std::string type_name;
  [[nodiscard]] bool numeric() const noexcept { return element != ElementKind::other; }
};

/// Anything with attributes: a File (its root group), a Group, a Dataset. Setting an attribute
/// is collective (every rank, the same value); setting an existing one replaces it.
class Object {
 public:
  /// The HDF5 identifier (an Error once the file is closed).
  [[nodiscard]] hid_t id() const;
  /// The file's path and communicator.
  [[nodiscard]] const std::string& file_path() const noexcept { return file_->path; }
  [[nodiscard]] const Comm& comm() const noexcept { return file_->comm; }
  /// This rank and the number of ranks of the file's communicator.
  [[nodiscard]] int rank() const;
  [[nodiscard]] int ranks() const;

  void set_attribute(std::string_view name, std::string_view value) const {
    io::set_attribute(id(), name, value);
  }
  void set_attribute(std::string_view name, const char* value) const {
    io::set_attribute(id(), name, std::string_view(value));
  }
  template <H5Scalar T>
  void set_attribute(std::string_view name, T value) const {
    io::set_attribute(id(), name, value);
  }
  template <H5Scalar T>
  void set_attribute(std::string_view name, std::span<const T> values) const {
    io::set_attribute(id(), name, values);
  }
  template <H5Scalar T>
  void set_attribute(std::string_view name, const std::vector<T>& values) const {
    io::set_attribute(id(), name, std::span<const T>(values));
  }
  [[nodiscard]] bool has_attribute(std::string_view name) const {
    return io::has_attribute(id(), name);
  }
  /// The names of its attributes, in name order.
  [[nodiscard]] std::vector<std::string> attribute_names() const {
    return io::attribute_names(id());
  }
  /// A string attribute (fixed- or variable-length, as h5py or others wrote it).
  [[nodiscard]] std::string string_attribute(std::string_view name) const {
    return io::string_attribute(id(), name);
  }
  /// A numeric attribute's values, converted to T.
  template <H5Scalar T>
  [[nodiscard]] std::vector<T> attribute(std::string_view name) const {
    return io::attribute<T>(id(), name);
  }
  /// A numeric attribute holding exactly one value (an Error otherwise).
  template <H5Scalar T>
  [[nodiscard]] T scalar_attribute(std::string_view name) const {
    T value{};
    io::get_attribute_bytes(id(), name, h5_type<T>(), 1, &value);
    return value;
  }

 protected:
  Object(std::shared_ptr<detail::OpenFile> file, std::shared_ptr<const Handle> own)
      : file_(std::move(file)), own_(std::move(own)) {}
  /// The file identifier (an Error once closed).
  [[nodiscard]] hid_t file_id() const;
  std::shared_ptr<detail::OpenFile> file_;
  std::shared_ptr<const Handle> own_;  ///< the group or dataset; null for the file itself
};

/// A File or a Group: holds groups and datasets, by paths relative to it (or absolute).
class Location : public Object {
 public:
  /// True if `path` names an object here; intermediate groups may be missing.
  [[nodiscard]] bool exists(const std::string& path) const;
  /// An existing group or dataset (a missing one is an Error naming file and path).
  [[nodiscard]] Group group(const std::string& path) const;
  [[nodiscard]] Dataset dataset(const std::string& path) const;
  /// Collective: creates group `path`, with missing intermediate groups.
  [[nodiscard]] Group create_group(const std::string& path) const;
  /// Collective: creates dataset `path` (intermediate groups too) of `shape` and element `type`;
  /// options.units/long_name become attributes, options.chunk/gzip_level its layout.
  [[nodiscard]] Dataset create_dataset(const std::string& path, hid_t type, const Extents& shape,
                                       const ArrayOptions& options = {}) const;
  template <H5Scalar T>
  [[nodiscard]] Dataset create_dataset(const std::string& path, const Extents& shape,
                                       const ArrayOptions& options = {}) const;
  /// The datasets under `path` (its subgroups too when `recursive`), in name order; the same
  /// answer on every rank.
  [[nodiscard]] std::vector<DatasetInfo> datasets(const std::string& path = ".",
                                                  bool recursive = true) const;
  /// Those for which keep(info) is true, e.g. [](const DatasetInfo& d) { return d.numeric(); }.
  template <std::predicate<const DatasetInfo&> Keep>
  [[nodiscard]] std::vector<DatasetInfo> datasets(Keep keep, const std::string& path = ".",
                                                  bool recursive = true) const {
    std::vector<DatasetInfo> all = datasets(path, recursive);
    std::erase_if(all, [&](const DatasetInfo& info) { return !keep(info); });
    return all;
  }

 protected:
  Location(std::shared_ptr<detail::OpenFile> file, std::shared_ptr<const Handle> own,
           std::string path)
      : Object(std::move(file), std::move(own)), location_path_(std::move(path)) {}
  /// `path` (relative to this location, or absolute) as an absolute path in the file.
  [[nodiscard]] std::string absolute_path(const std::string& path) const;
  std::string location_path_;  ///< absolute path in the file ("/" for the file)
};

class File : public Location {
 public:
  /// Collective: creates (truncating) `path`.
  [[nodiscard]] static File create(const Comm& comm, const std::string& path,
                                   const FileOptions& options = {});
  /// Collective: opens an existing file. A missing file, a directory or a file that is not HDF5
  /// is a UsageError naming it (bad input, exit code 2) on every rank alike.
  [[nodiscard]] static File open(const Comm& comm, const std::string& path,
                                 Access access = Access::read_only);

  [[nodiscard]] const std::string& path() const noexcept { return file_->path; }
  [[nodiscard]] bool is_open() const noexcept { return file_->handle.valid(); }

  /// Collective: writes everything buffered to disk.
  void flush() const;
  /// Collective: closes the file (and every group and dataset still open from it), reporting
  /// failure (a destructor cannot).
  void close() const;

 private:
  explicit File(std::shared_ptr<detail::OpenFile> file) : Location(std::move(file), nullptr, "/") {}
  friend class Group;
  friend class Dataset;
};

class Group : public Location {
 public:
  /// The absolute path of the group in its file.
  [[nodiscard]] const std::string& path() const noexcept { return location_path_; }
  /// The file the group lives in.
  [[nodiscard]] File file() const { return File(file_); }

 private:
  Group(std::shared_ptr<detail::OpenFile> file, std::shared_ptr<const Handle> own, std::string path)
      : Location(std::move(file), std::move(own), std::move(path)) {}
  friend class Location;
};

/// A dataset: an N-D array of one element type, read and written by boxes (each rank its own,
/// ranks with nothing to do take part with an empty box).
class Dataset : public Object {
 public:
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] File file() const { return File(file_); }
  /// The current shape (empty for a scalar).
  [[nodiscard]] Extents shape() const;
  [[nodiscard]] DatasetInfo info() const;

  /// Collective: writes each rank's `box` from `data` (packed, or in place with `memory`).
  TransferReport write_bytes(hid_t type, const Selection& box, const void* data,
                             CollectivePolicy policy = CollectivePolicy::require,
                             const std::optional<MemoryLayout>& memory = std::nullopt) const;
  /// Collective: reads each rank's `box` into `data` (packed, or in place with `memory`).
  TransferReport read_bytes(hid_t type, const Selection& box, void* data,
                            CollectivePolicy policy = CollectivePolicy::require,
                            const std::optional<MemoryLayout>& memory = std::nullopt) const;

  template <H5Scalar T>
  TransferReport write(const Selection& box, std::span<const T> data,
                       CollectivePolicy policy = CollectivePolicy::require) const {
    check_selection_size(box, data.size());
    return write_bytes(h5_type<T>(), box, data.data(), policy);
  }
  template <H5Scalar T>
  TransferReport write(const Selection& box, const std::vector<T>& data,
                       CollectivePolicy policy = CollectivePolicy::require) const {
    return write(box, std::span<const T>(data), policy);
  }
  /// Collective: this rank's `box`, converted to T in memory when the file holds another type.
  template <H5Scalar T>
  [[nodiscard]] std::vector<T> read(const Selection& box,
                                    CollectivePolicy policy = CollectivePolicy::require) const {
    std::vector<T> values(box.elements());
    read_bytes(h5_type<T>(), box, values.data(), policy);
    return values;
  }
  /// Collective: the whole dataset on every rank (for small ones: coordinates, columns).
  template <H5Scalar T>
  [[nodiscard]] std::vector<T> read_all() const {
    const Extents extents = shape();
    return read<T>(Selection{Extents(extents.size(), 0), extents}, CollectivePolicy::ignore);
  }

  /// Collective slab reader: reads this rank's `block` (rank 1+, any split along the first
  /// axis, empty allowed) in slabs of whole rows of at most about `slab_bytes`, in the file's
  /// own element type -- which keeps the transfer collective; convert in memory. Calls
  /// fn(slab, values) for each slab (values: slab.elements() of type T); every rank takes part
  /// in the same number of reads, however uneven the blocks. Memory: one slab per rank.
  template <H5Scalar T, class Fn>
  void for_each_slab(const Selection& block, std::size_t slab_bytes, Fn&& fn) const {
    const hsize_t rows_per_slab = slab_rows(block, sizeof(T), slab_bytes);
    const hsize_t rounds = slab_rounds(block, rows_per_slab);
    for (hsize_t round = 0; round < rounds; ++round) {
      const Selection slab = nth_slab(block, rows_per_slab, round);
      const std::vector<T> values = read<T>(slab, CollectivePolicy::ignore);
      if (!slab.empty()) fn(slab, std::span<const T>(values));
    }
  }

 private:
  Dataset(std::shared_ptr<detail::OpenFile> file, std::shared_ptr<const Handle> own,
          std::string path)
      : Object(std::move(file), std::move(own)), path_(std::move(path)) {}
  friend class Location;
  [[nodiscard]] static hsize_t slab_rows(const Selection& block, std::size_t element_size,
                                         std::size_t slab_bytes);
  /// Collective: the most slabs any rank's block needs.
  [[nodiscard]] hsize_t slab_rounds(const Selection& block, hsize_t rows_per_slab) const;
  [[nodiscard]] static Selection nth_slab(const Selection& block, hsize_t rows_per_slab,
                                          hsize_t round);
  std::string path_;
};

template <H5Scalar T>
Dataset Location::create_dataset(const std::string& path, const Extents& shape,
                                 const ArrayOptions& options) const {
  return create_dataset(path, h5_type<T>(), shape, options);
}

/// True if `path` names an object under `location` (an HDF5 identifier); intermediate groups
/// may be missing. Location::exists is the same for objects.
[[nodiscard]] bool exists(hid_t location, const std::string& path);

/// A link-creation property list that creates missing intermediate groups ("fields/T").
[[nodiscard]] Handle intermediate_groups_lcpl();

}  // namespace spmd::io
