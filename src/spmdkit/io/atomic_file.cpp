#include "spmdkit/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "spmdkit/io/storage_check.hpp"
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
  // After the fsync: what the check reads is what the disk holds. ENOSPC stands for every way
  // of losing a write here; the message says what was seen.
  if (auto missing = find_missing_storage(partial)) {
    step = fmt::format("{} is incomplete, a write was lost (is the disk or a quota full?): {}",
                       partial, *missing);
    return ENOSPC;
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

void write_text_atomically(const std::string& path, std::string_view text) {
  const std::string partial = path + ".tmp";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw SystemError("cannot create " + partial, errno);
  int error = 0;
  for (std::size_t done = 0; done < text.size() && error == 0;) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno != EINTR) error = errno;
    if (wrote > 0) done += static_cast<std::size_t>(wrote);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(partial.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(partial.c_str());
    throw SystemError("cannot write " + path, error);
  }
}

namespace {

// 0 or an errno: `bytes` of disk space really allocated to `path` (not a sparse file).
int reserve_space(const std::string& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  int error = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (error == EOPNOTSUPP || error == EINVAL) {
    // No fallocate on this file system (ZFS, some network file systems): write the bytes.
    error = 0;
    const std::string zeros(64 * 1024, '\0');
    for (std::uint64_t done = 0; done < bytes && error == 0;) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), bytes - done));
      const ssize_t wrote = ::pwrite(fd, zeros.data(), n, static_cast<off_t>(done));
      if (wrote < 0)
        error = errno;
      else
        done += static_cast<std::uint64_t>(wrote);
    }
    if (error == 0 && ::fsync(fd) != 0) error = errno;
  }
  ::close(fd);
  if (error != 0) ::unlink(path.c_str());
  return error;
}

}  // namespace

AtomicFile AtomicFile::create(const Comm& comm, std::string final_path,
                              const AtomicFileOptions& options) {
  const int rank = comm.rank();
  const std::string reserve = final_path + ".reserve";
  const bool reserved = rank == 0 && options.metadata_reserve > 0;
  // Every rank learns whether there was room, so all throw or none does.
  const int error = comm.broadcast(reserved ? reserve_space(reserve, options.metadata_reserve) : 0);
  if (error == ENOSPC || error == EDQUOT) {
    throw SystemError(fmt::format("cannot write {}: no room for {} KiB beside it ({})", final_path,
                                  options.metadata_reserve >> 10, reserve),
                      error);
  }
  if (error != 0) {  // a directory that is not writable, or missing: not a matter of room
    throw SystemError(fmt::format("cannot write {}: cannot create {}", final_path, reserve), error);
  }
  try {
    File file = File::create(comm, final_path + ".tmp", options.file);
    return AtomicFile(std::move(file), std::move(final_path), options.keep_previous, reserved,
                      rank == 0);
  } catch (...) {
    if (reserved) ::unlink(reserve.c_str());
    throw;
  }
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : file_(std::move(other.file_)),
      final_path_(std::move(other.final_path_)),
      keep_previous_(other.keep_previous_),
      reserved_(std::exchange(other.reserved_, false)),
      removes_partial_(std::exchange(other.removes_partial_, false)),
      committed_(other.committed_) {}

AtomicFile::~AtomicFile() {
  release_reserve();
  // Unlinked while the ranks may still hold it open: POSIX keeps the data until the last close.
  if (removes_partial_ && !committed_) ::unlink(partial_path().c_str());
}

void AtomicFile::release_reserve() noexcept {
  if (reserved_) {
    ::unlink(reserve_path().c_str());
    reserved_ = false;
  }
}

void AtomicFile::commit() {
  if (committed_) return;
  const Comm comm = file_.comm();  // a copy: the file is closed below
  // Collective: every rank's data is in the file once this returns everywhere. A close can fail
  // on some ranks only (ROMIO reports a full disk on the ranks whose writes failed): the ranks
  // agree on it first, so that all of them throw together instead of some waiting below.
  std::string close_error;
  release_reserve();  // the room the close needs for metadata
  try {
    file_.close();
  } catch (const std::exception& e) {
    close_error = e.what();
  }
  const int rank = comm.rank();
  if (comm.allreduce(close_error.empty() ? 0 : 1, op::max{}) != 0) {
    throw Error(fmt::format("cannot commit {}: closing {} failed{}", final_path_, partial_path(),
                            close_error.empty() ? " on another rank" : ": " + close_error));
  }
  std::string step;
  // Every rank learns the outcome, so all throw or none does.
  const int error =
      comm.broadcast(rank == 0 ? publish(partial_path(), final_path_, keep_previous_, step) : 0);
  if (error != 0) {
    throw SystemError(rank == 0 ? fmt::format("cannot commit {}: {}", final_path_, step)
                                : fmt::format("cannot commit {}", final_path_),
                      error);
  }
  committed_ = true;
}

}  // namespace spmd::io
