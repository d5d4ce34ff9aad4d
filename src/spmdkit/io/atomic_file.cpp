#include "spmdkit/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"

namespace spmd::io {

namespace {

// 0 or an errno: the file is on disk (not only in the page cache) before it is renamed.
int sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return errno;
  const int result = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return result;
}

// Rank 0's half of commit: returns 0 or an errno, with `step` naming what failed.
int publish(const std::string& partial, const std::string& final_path, bool keep_previous,
            std::string& step) {
  if (const int error = sync_file(partial); error != 0) {
    step = "fsync " + partial;
    return error;
  }
  if (keep_previous && ::access(final_path.c_str(), F_OK) == 0) {
    // A hard link, not a rename: NAME exists at every moment, old until the rename below.
    const std::string previous = final_path + ".prev";
    if (::unlink(previous.c_str()) != 0 && errno != ENOENT) {
      step = "remove " + previous;
      return errno;
    }
    if (::link(final_path.c_str(), previous.c_str()) != 0) {
      step = "link " + final_path + " to " + previous;
      return errno;
    }
  }
  if (std::rename(partial.c_str(), final_path.c_str()) != 0) {
    step = "rename " + partial + " to " + final_path;
    return errno;
  }
  return 0;
}

}  // namespace

AtomicFile AtomicFile::create(MPI_Comm comm, std::string final_path,
                              const AtomicFileOptions& options) {
  File file = File::create(comm, final_path + ".tmp", options.file);
  return AtomicFile(std::move(file), std::move(final_path), options.keep_previous);
}

void AtomicFile::commit() {
  if (committed_) return;
  const MPI_Comm comm = file_.comm();
  file_.close();  // collective: every rank's data is in the file once this returns everywhere
  int rank = 0;
  check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  int error = 0;
  std::string step;
  if (rank == 0) error = publish(partial_path(), final_path_, keep_previous_, step);
  // Every rank learns the outcome, so all throw or none does.
  check_mpi(MPI_Bcast(&error, 1, MPI_INT, 0, comm), "MPI_Bcast");
  if (error != 0) {
    throw SystemError(rank == 0 ? fmt::format("cannot commit {}: {}", final_path_, step)
                                : fmt::format("cannot commit {}", final_path_),
                      error);
  }
  committed_ = true;
}

}  // namespace spmd::io
