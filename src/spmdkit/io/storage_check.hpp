#pragma once
// Is a closed HDF5 file really complete on disk?
//
// An MPI-IO layer may lose a write without saying so: with Open MPI's OMPIO, a collective write
// that hits a full disk or a quota prints a warning on the aggregating rank and returns success
// on every rank, with a short or no byte count (seen with 4.1.4 at 2-4 ranks; ROMIO reports it).
// So before a file is published under its final name, one rank checks it independently of the
// layer that wrote it:
//   - its metadata reads back: superblock, object headers and heaps of the 1.8+ format carry
//     checksums, so a lost metadata write is an unreadable or corrupt object;
//   - every byte of raw data storage HDF5 points at is really allocated: a write that failed
//     for lack of space leaves a hole (SEEK_HOLE) or lies past the end of the file. Only the
//     bytes that were written are checked: the part of an edge chunk beyond the dataset's
//     extent is never written and may be a hole.
// Limits (docs/guidelines.md): a file system without SEEK_HOLE reports no holes (then only the
// metadata check remains); a lost write smaller than a file-system block inside a block that
// another write did allocate is not seen.
#include <optional>
#include <string>

namespace spmd::io {

/// nullopt when the file at `path` is complete as far as the checks above can tell; otherwise
/// what is missing. Serial: opens the file with HDF5's POSIX driver.
[[nodiscard]] std::optional<std::string> find_missing_storage(const std::string& path);

}  // namespace spmd::io
