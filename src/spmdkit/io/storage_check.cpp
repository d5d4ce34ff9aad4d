#include "spmdkit/io/storage_check.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "spmdkit/io/handle.hpp"
#include "spmdkit/runtime/check.hpp"

namespace spmd::io {

namespace {

// A file descriptor that closes itself.
class Descriptor {
 public:
  explicit Descriptor(int fd) noexcept : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

struct Walk {
  int fd = -1;
  off_t file_size = 0;
  std::optional<std::string> missing;
};

// Empty if [offset, offset + size) is allocated on disk, else what is wrong with it.
std::optional<std::string> check_range(const Walk& walk, haddr_t offset, hsize_t size) {
  if (size == 0) return std::nullopt;
  if (offset == HADDR_UNDEF) return std::string("storage was never allocated");
  const auto begin = static_cast<off_t>(offset);
  const auto end = static_cast<off_t>(offset + size);
  if (end > walk.file_size) {
    return fmt::format("bytes {}..{} lie past the end of the file ({} bytes)", begin, end,
                       walk.file_size);
  }
  const off_t hole = ::lseek(walk.fd, begin, SEEK_HOLE);
  // A file system without SEEK_HOLE support reports the end of the file: no hole.
  if (hole >= 0 && hole < end) {
    return fmt::format("bytes {}..{} were never written (a hole from byte {})", begin, end, hole);
  }
  if (hole < 0 && errno != EINVAL && errno != ENXIO) {
    return fmt::format("cannot inspect bytes {}..{} ({})", begin, end, std::strerror(errno));
  }
  return std::nullopt;
}

// Bytes at the start of a chunk that hold elements inside the dataset's extent: all of it for an
// inner chunk; for an edge chunk, the elements before the first one outside, which are
// contiguous up to the innermost partial dimension (row-major order inside a chunk).
hsize_t written_prefix(const std::vector<hsize_t>& chunk_start, const std::vector<hsize_t>& chunk,
                       const std::vector<hsize_t>& extent, hsize_t element_size) {
  hsize_t elements = 1;
  for (std::size_t d = chunk.size(); d-- > 0;) {
    const hsize_t inside = std::min(chunk[d], extent[d] - chunk_start[d]);
    elements *= inside;
    if (inside < chunk[d]) break;  // outer dimensions repeat the gap: stop at the first run
  }
  return elements * element_size;
}

std::optional<std::string> check_dataset(const Walk& walk, hid_t dataset) {
  const Handle dcpl = owned(H5Dget_create_plist(dataset), "H5Dget_create_plist");
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout == H5D_CONTIGUOUS) {
    return check_range(walk, H5Dget_offset(dataset), H5Dget_storage_size(dataset));
  }
  if (layout != H5D_CHUNKED) return std::nullopt;  // compact: inside the (checksummed) header
  // Filtered chunks are stored smaller than they hold; only their stored bytes can be checked.
  const bool filtered = H5Pget_nfilters(dcpl.get()) > 0;
  const Handle space = owned(H5Dget_space(dataset), "H5Dget_space");
  const int rank = check_h5(H5Sget_simple_extent_ndims(space.get()), "H5Sget_simple_extent_ndims");
  if (rank <= 0) return std::nullopt;
  std::vector<hsize_t> extent(static_cast<std::size_t>(rank));
  std::vector<hsize_t> chunk(static_cast<std::size_t>(rank));
  check_h5(H5Sget_simple_extent_dims(space.get(), extent.data(), nullptr),
           "H5Sget_simple_extent_dims");
  check_h5(H5Pget_chunk(dcpl.get(), rank, chunk.data()), "H5Pget_chunk");
  const Handle type = owned(H5Dget_type(dataset), "H5Dget_type");
  const hsize_t element_size = H5Tget_size(type.get());
  for (hsize_t e : extent) {
    if (e == 0) return std::nullopt;
  }
  // Every chunk position of the extent, in row-major order: an odometer over chunk starts.
  std::vector<hsize_t> start(static_cast<std::size_t>(rank), 0);
  while (true) {
    unsigned filter_mask = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t stored = 0;
    check_h5(H5Dget_chunk_info_by_coord(dataset, start.data(), &filter_mask, &address, &stored),
             "H5Dget_chunk_info_by_coord");
    // A chunk never written has no address: nothing was lost there (no element was written).
    if (address != HADDR_UNDEF) {
      const hsize_t bytes =
          filtered ? stored : std::min(stored, written_prefix(start, chunk, extent, element_size));
      if (auto problem = check_range(walk, address, bytes)) return problem;
    }
    std::size_t d = start.size();
    while (d-- > 0) {
      start[d] += chunk[d];
      if (start[d] < extent[d]) break;
      start[d] = 0;
    }
    if (d == static_cast<std::size_t>(-1)) break;
  }
  return std::nullopt;
}

herr_t visit_object(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  auto& walk = *static_cast<Walk*>(data);
  if (info->type != H5O_TYPE_DATASET) return 0;
  try {
    const Handle dataset = owned(H5Dopen2(root, name, H5P_DEFAULT), "H5Dopen2");
    if (auto problem = check_dataset(walk, dataset.get())) {
      walk.missing = fmt::format("dataset '{}': {}", name, *problem);
      return 1;  // stop: one problem is enough
    }
  } catch (const std::exception& e) {
    walk.missing = fmt::format("dataset '{}' does not read back: {}", name, e.what());
    return 1;
  }
  return 0;
}

}  // namespace

std::optional<std::string> find_missing_storage(const std::string& path) {
  const Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fmt::format("cannot open it ({})", std::strerror(errno));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0)
    return fmt::format("cannot stat it ({})", std::strerror(errno));
  Walk walk{fd.get(), info.st_size, std::nullopt};
  try {
    const Handle fapl = owned(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate(file access)");
    check_h5(H5Pset_fapl_sec2(fapl.get()), "H5Pset_fapl_sec2");
    check_h5(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking");
    const Handle file = owned(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), "H5Fopen");
    check_h5(
        H5Ovisit2(file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, visit_object, &walk, H5O_INFO_BASIC),
        "H5Ovisit2");
  } catch (const std::exception& e) {
    if (!walk.missing) walk.missing = fmt::format("it does not read back as HDF5: {}", e.what());
  }
  return walk.missing;
}

}  // namespace spmd::io
