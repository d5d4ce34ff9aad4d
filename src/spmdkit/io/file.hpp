#pragma once
// A parallel HDF5 file opened collectively on a communicator with the MPI-IO driver.
//
// Settings chosen for speed and safety: collective metadata reads and writes, large objects
// aligned to 1 MiB (file-system stripes), fill values never written (every element is written
// anyway, and a fill pass would cost a full extra write), and file locking that gives way on file
// systems without locks (network file systems); HDF5_USE_FILE_LOCKING=FALSE still switches it off.
#include <mpi.h>

#include <string>

#include "spmdkit/io/handle.hpp"

namespace spmd::io {

enum class Access { read_only, read_write };

struct FileOptions {
  hsize_t alignment = hsize_t{1} << 20;           ///< objects at least `alignment_threshold`
  hsize_t alignment_threshold = hsize_t{1} << 18; ///< bytes large start on this boundary
};

class File {
 public:
  /// Collective: creates (truncating) `path`.
  [[nodiscard]] static File create(MPI_Comm comm, const std::string& path,
                                   const FileOptions& options = {});
  /// Collective: opens an existing file. A missing file, a directory or a file that is not HDF5
  /// is a UsageError naming it (bad input, exit code 2) on every rank alike.
  [[nodiscard]] static File open(MPI_Comm comm, const std::string& path,
                                 Access access = Access::read_only);

  [[nodiscard]] hid_t id() const noexcept { return handle_.get(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] MPI_Comm comm() const noexcept { return comm_; }
  /// This rank and the number of ranks of the file's communicator.
  [[nodiscard]] int rank() const;
  [[nodiscard]] int ranks() const;
  [[nodiscard]] bool is_open() const noexcept { return handle_.valid(); }

  /// Collective: writes everything buffered to disk.
  void flush();
  /// Collective: closes the file, reporting failure (a destructor cannot).
  void close();

 private:
  File(Handle handle, std::string path, MPI_Comm comm)
      : handle_(std::move(handle)), path_(std::move(path)), comm_(comm) {}
  Handle handle_;
  std::string path_;
  MPI_Comm comm_;
};

/// True if `path` names an object (dataset or group) in the file; intermediate groups may be
/// missing. Collective only in the sense that every rank gets the same answer.
[[nodiscard]] bool exists(hid_t location, const std::string& path);

/// A link-creation property list that creates missing intermediate groups ("fields/T").
[[nodiscard]] Handle intermediate_groups_lcpl();

}  // namespace spmd::io
