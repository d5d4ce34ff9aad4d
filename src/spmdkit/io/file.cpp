#include "spmdkit/io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::io {

namespace {

Handle file_access(MPI_Comm comm, const FileOptions& options) {
  Handle fapl = owned(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate(file access)");
  check_h5(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), "H5Pset_fapl_mpio");
  // Metadata read by one rank and broadcast, written collectively: no metadata storms.
  check_h5(H5Pset_all_coll_metadata_ops(fapl.get(), true), "H5Pset_all_coll_metadata_ops");
  check_h5(H5Pset_coll_metadata_write(fapl.get(), true), "H5Pset_coll_metadata_write");
  check_h5(H5Pset_alignment(fapl.get(), options.alignment_threshold, options.alignment),
           "H5Pset_alignment");
  // The 1.8 format or newer: dense attribute storage (attributes over 64 KiB, such as a long
  // config) and compact groups; every reader of the last decade (h5py, ParaView) opens it.
  check_h5(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V110),
           "H5Pset_libver_bounds");
  // Lock, but carry on where the file system has no locks (NFS, some Lustre mounts). The
  // HDF5_USE_FILE_LOCKING environment variable, when set, overrides this (HDF5 reads it).
  check_h5(H5Pset_file_locking(fapl.get(), true, true), "H5Pset_file_locking");
  return fapl;
}

}  // namespace

File File::create(const Comm& comm, const std::string& path, const FileOptions& options) {
  const Handle fapl = file_access(comm, options);
  try {
    Handle file =
        owned(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "H5Fcreate");
    return File(std::make_shared<detail::OpenFile>(detail::OpenFile{std::move(file), path, comm}));
  } catch (const Hdf5Error& e) {
    throw Hdf5Error(e.call(), e.code(), "cannot create '" + path + "': " + e.text());
  }
}

namespace {

// Why `path` cannot be an HDF5 file to read, or "" if it may be one: asked by one rank with plain
// system calls and HDF5's serial signature check, so that a missing file, a directory or a text
// file is bad input named in one line (MPI-IO, asked to open a directory, prints dozens of lines
// of its own, and HDF5 would report its error stack).
std::string unreadable_reason(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::strerror(errno);
  if (S_ISDIR(info.st_mode)) return "it is a directory";
  if (!S_ISREG(info.st_mode)) return "it is not a regular file";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  if (info.st_size == 0) return "it is empty";
  const htri_t hdf5 = H5Fis_hdf5(path.c_str());  // the signature, serially (HDF5 1.10's API)
  H5Eclear2(H5E_DEFAULT);
  if (hdf5 <= 0) return "it is not an HDF5 file (or a damaged one)";
  return "";
}

}  // namespace

File File::open(const Comm& comm, const std::string& path, Access access) {
  // Every rank gets rank 0's verdict, so that all throw alike (exit code 2, one line).
  std::string reason = comm.rank() == 0 ? unreadable_reason(path) : std::string();
  comm.broadcast_bytes(reason, 0);
  if (!reason.empty()) throw UsageError("cannot open '" + path + "': " + reason);
  const Handle fapl = file_access(comm, FileOptions{});
  const unsigned flags = access == Access::read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR;
  try {
    Handle file = owned(H5Fopen(path.c_str(), flags, fapl.get()), "H5Fopen");
    return File(std::make_shared<detail::OpenFile>(detail::OpenFile{std::move(file), path, comm}));
  } catch (const Hdf5Error& e) {
    // It has HDF5's signature but does not open (cut short, damaged): bad input all the same.
    if (access == Access::read_only) {
      throw UsageError("cannot open '" + path + "': it is a damaged HDF5 file (" + e.text() + ")");
    }
    throw Hdf5Error(e.call(), e.code(), "cannot open '" + path + "': " + e.text());
  }
}

void File::flush() const { check_h5(H5Fflush(id(), H5F_SCOPE_LOCAL), "H5Fflush"); }

void File::close() const { file_->close(); }

namespace detail {

std::shared_ptr<const Handle> OpenFile::adopt(Handle object) {
  auto shared = std::make_shared<Handle>(std::move(object));
  if (objects.size() >= 64) {  // forget the objects gone meanwhile (amortised)
    std::erase_if(objects, [](const auto& weak) { return weak.expired(); });
  }
  objects.push_back(shared);
  return shared;
}

void OpenFile::close() {
  for (const auto& weak : objects) {
    if (const auto object = weak.lock()) object->reset();
  }
  objects.clear();
  handle.close_checked();
}

}  // namespace detail

bool exists(hid_t location, const std::string& path) {
  // H5Lexists fails on a missing intermediate group: walk the path one link at a time.
  std::istringstream parts(path);
  std::string part;
  std::string prefix = path.starts_with('/') ? "/" : "";
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    if (!prefix.empty() && prefix != "/") prefix += '/';
    prefix += part;
    if (check_h5(H5Lexists(location, prefix.c_str(), H5P_DEFAULT), "H5Lexists") <= 0) return false;
  }
  return true;
}

Handle intermediate_groups_lcpl() {
  Handle lcpl = owned(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate(link create)");
  check_h5(H5Pset_create_intermediate_group(lcpl.get(), 1), "H5Pset_create_intermediate_group");
  return lcpl;
}

hid_t Object::file_id() const {
  if (!file_->handle.valid()) throw Error("'" + file_->path + "' is closed");
  return file_->handle.get();
}

hid_t Object::id() const {
  const hid_t file = file_id();  // an Error once the file is closed
  return own_ ? own_->get() : file;
}

int Object::rank() const { return file_->comm.rank(); }

int Object::ranks() const { return file_->comm.size(); }

std::string Location::absolute_path(const std::string& path) const {
  if (path.starts_with('/')) return path;
  if (path == ".") return location_path_;
  return location_path_.ends_with('/') ? location_path_ + path : location_path_ + "/" + path;
}

bool Location::exists(const std::string& path) const { return io::exists(id(), path); }

Group Location::group(const std::string& path) const {
  if (!exists(path)) throw Error(fmt::format("{}: no group '{}'", file_path(), path));
  auto handle = file_->adopt(owned(H5Gopen2(id(), path.c_str(), H5P_DEFAULT), "H5Gopen2"));
  return Group(file_, std::move(handle), absolute_path(path));
}

Dataset Location::dataset(const std::string& path) const {
  if (!exists(path)) throw Error(fmt::format("{}: no dataset '{}'", file_path(), path));
  auto handle = file_->adopt(owned(H5Dopen2(id(), path.c_str(), H5P_DEFAULT), "H5Dopen2"));
  return Dataset(file_, std::move(handle), absolute_path(path));
}

Group Location::create_group(const std::string& path) const {
  const Handle lcpl = intermediate_groups_lcpl();
  auto handle = file_->adopt(
      owned(H5Gcreate2(id(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2"));
  return Group(file_, std::move(handle), absolute_path(path));
}

}  // namespace spmd::io
