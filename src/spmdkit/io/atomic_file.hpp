#pragma once
// An HDF5 output that appears under its final name only when complete.
//
// HDF5 1.10 has no journaling: a writer killed mid-way leaves an unreadable file. So the file is
// written as NAME.tmp, closed, and renamed to NAME by one rank after every rank finished (rename
// is atomic on POSIX file systems). A killed or failed job never leaves a half-written file under
// the final name, and an older NAME stays intact until the new one is complete. With
// keep_previous (checkpoints), the older file survives as NAME.prev.
#include <mpi.h>

#include <string>

#include "spmdkit/io/file.hpp"

namespace spmd::io {

struct AtomicFileOptions {
  bool keep_previous = false;  ///< keep the replaced file as NAME.prev
  FileOptions file;
};

class AtomicFile {
 public:
  /// Collective: creates NAME.tmp (replacing a stale one from an earlier, failed run).
  [[nodiscard]] static AtomicFile create(MPI_Comm comm, std::string final_path,
                                         const AtomicFileOptions& options = {});

  [[nodiscard]] File& file() noexcept { return file_; }
  [[nodiscard]] hid_t id() const noexcept { return file_.id(); }
  [[nodiscard]] const std::string& final_path() const noexcept { return final_path_; }
  [[nodiscard]] std::string partial_path() const { return final_path_ + ".tmp"; }
  [[nodiscard]] bool committed() const noexcept { return committed_; }

  /// Collective: closes the file and moves it to its final name. Afterwards every rank sees it.
  void commit();

 private:
  AtomicFile(File file, std::string final_path, bool keep_previous)
      : file_(std::move(file)), final_path_(std::move(final_path)), keep_previous_(keep_previous) {}
  File file_;
  std::string final_path_;
  bool keep_previous_ = false;
  bool committed_ = false;
};

}  // namespace spmd::io
