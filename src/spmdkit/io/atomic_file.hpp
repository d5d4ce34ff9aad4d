#pragma once
// An HDF5 output that appears under its final name only when complete.
//
// HDF5 1.10 has no journaling: a writer killed mid-way leaves an unreadable file. So the file is
// written as NAME.tmp, closed, and renamed to NAME by one rank after every rank finished (rename
// is atomic on POSIX file systems). A killed or failed job never leaves a half-written file under
// the final name, and an older NAME stays intact until the new one is complete. With
// keep_previous (checkpoints), the older file survives as NAME.prev.
//
// A full disk or quota must end the job cleanly, too. Data writes that fail are reported (ROMIO)
// or caught by the check before publishing (storage_check.hpp). The metadata HDF5 writes when
// it closes the file is the dangerous part: parallel HDF5 does not survive a write error there
// (the ranks take different paths through its collective flush and wait for each other
// forever). So space for it is set aside when the file is created -- NAME.reserve, allocated on
// disk by rank 0 -- and given back just before the close. A disk too full for the reserve fails
// the create at once, on every rank, before anything is written.
#include <cstdint>
#include <string>
#include <string_view>

#include "spmdkit/io/file.hpp"

namespace spmd::io {

struct AtomicFileOptions {
  bool keep_previous = false;  ///< keep the replaced file as NAME.prev
  /// Disk space set aside until the close, for the metadata HDF5 writes then (see above).
  std::uint64_t metadata_reserve = std::uint64_t{1} << 20;
  FileOptions file;
};

class AtomicFile {
 public:
  /// Collective: creates NAME.tmp (replacing a stale one from an earlier, failed run). A file
  /// destroyed without commit() (an exception) is removed by rank 0; one left by a killed run is
  /// replaced by the next.
  [[nodiscard]] static AtomicFile create(const Comm& comm, std::string final_path,
                                         const AtomicFileOptions& options = {});

  [[nodiscard]] File& file() noexcept { return file_; }
  [[nodiscard]] const File& file() const noexcept { return file_; }
  [[nodiscard]] hid_t id() const noexcept { return file_.id(); }
  [[nodiscard]] const std::string& final_path() const noexcept { return final_path_; }
  [[nodiscard]] std::string partial_path() const { return final_path_ + ".tmp"; }
  [[nodiscard]] bool committed() const noexcept { return committed_; }

  [[nodiscard]] std::string reserve_path() const { return final_path_ + ".reserve"; }

  /// Collective: closes the file and moves it to its final name. Afterwards every rank sees it.
  void commit();

  ~AtomicFile();
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

 private:
  AtomicFile(File file, std::string final_path, bool keep_previous, bool reserved,
             bool removes_partial)
      : file_(std::move(file)),
        final_path_(std::move(final_path)),
        keep_previous_(keep_previous),
        reserved_(reserved),
        removes_partial_(removes_partial) {}
  void release_reserve() noexcept;
  File file_;
  std::string final_path_;
  bool keep_previous_ = false;
  bool reserved_ = false;  ///< this rank holds NAME.reserve (rank 0)
  /// This rank removes NAME.tmp if the file is abandoned (rank 0): a failed run gives the disk
  /// space back at once (a full disk or quota is a common cause) and leaves no partial file.
  bool removes_partial_ = false;
  bool committed_ = false;
};

/// Serial: writes `text` to PATH.tmp, fsyncs it and renames it to `path`; every failure (a full
/// disk shows at write, close or fsync, depending on the file system) throws, leaving `path` as
/// it was. For small text outputs (XDMF, JSON reports).
void write_text_atomically(const std::string& path, std::string_view text);

}  // namespace spmd::io
