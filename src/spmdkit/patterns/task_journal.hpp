#pragma once
// The task farm's journal: what has been done, on disk, so that a run can resume.
//
// HDF5 1.10 has no journaling of its own: a process killed while it appends to an HDF5 file can
// leave the whole file unreadable. So the journal is a directory of immutable segment files; each
// flush writes the records completed since the last one as a new segment, atomically (written as
// segment-N.h5.tmp, fsync'ed, renamed). A hard kill at any moment leaves every renamed segment
// intact and at most a stale .tmp (ignored, removed on resume): only the records since the last
// flush are lost, and those tasks are simply done again. Segments are merged once there are many.
//
// Each segment holds one row per record: state, attempts, worker, seconds as numeric datasets, and
// key, task, result, error, children as ragged byte arrays (NAME/bytes + NAME/offsets, n+1
// offsets), readable with h5py. Attribute "fingerprint" names the run's parameters: resuming with
// different parameters is refused. Written and read by one process (the farm's master).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace spmd {

enum class TaskState : std::uint8_t { pending = 0, done = 1, failed = 2 };

/// One finished task as the journal keeps it (all payloads as wire bytes).
struct JournalRecord {
  std::string key;
  std::string task;
  std::string result;    ///< empty for failed tasks
  std::string error;     ///< empty for done tasks
  std::string children;  ///< the tasks it emitted: wire-encoded vector of (key, task)
  TaskState state = TaskState::done;
  std::uint32_t attempts = 0;
  std::int32_t worker = -1;
  double seconds = 0;
};

class TaskJournal {
 public:
  /// A journal in `directory`; nothing is touched until load(), start() or flush().
  TaskJournal(std::filesystem::path directory, std::string fingerprint);

  /// Whether the directory holds any segment.
  [[nodiscard]] bool exists() const;
  /// Every record in the segments, oldest first (a key may repeat: the last one counts). Checks
  /// the fingerprint; removes stale partial segments of a killed writer.
  [[nodiscard]] std::vector<JournalRecord> load();
  /// Starts a new journal: the directory is created; an existing journal is an error unless
  /// `replace` (its segments are then removed).
  void start(bool replace);

  /// Buffers a record for the next flush.
  void add(JournalRecord record);
  [[nodiscard]] std::size_t pending() const noexcept { return pending_.size(); }
  /// Writes the buffered records as one new segment (atomically); merges segments when many.
  void flush();

  /// Removes the journal (after the run's output is safely written).
  void remove();

  [[nodiscard]] const std::filesystem::path& directory() const noexcept { return directory_; }
  [[nodiscard]] std::size_t segments_written() const noexcept { return segments_written_; }

  /// Segments beyond this many are merged into one.
  static constexpr std::size_t merge_threshold = 64;

 private:
  [[nodiscard]] std::vector<std::filesystem::path> segment_paths() const;
  void write_segment(const std::vector<JournalRecord>& records, std::uint64_t sequence) const;
  [[nodiscard]] std::vector<JournalRecord> read_segment(const std::filesystem::path& path) const;
  /// read_segment, with any damage reported as a UsageError (a resumed run's bad input).
  [[nodiscard]] std::vector<JournalRecord> read_damage_checked(
      const std::filesystem::path& path) const;
  void merge();

  std::filesystem::path directory_;
  std::string fingerprint_;
  std::vector<JournalRecord> pending_;
  std::uint64_t next_sequence_ = 1;
  std::size_t segments_written_ = 0;
};

}  // namespace spmd
