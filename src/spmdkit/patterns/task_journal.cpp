#include "spmdkit/patterns/task_journal.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <system_error>

#include <fmt/format.h>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/atomic_file.hpp"
#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/runtime/command_line.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view segment_prefix = "segment-";
constexpr std::string_view segment_suffix = ".h5";
constexpr std::string_view journal_format = "spmdkit task journal 1";

// The sequence number of a segment file name, or 0 if the name is not one.
std::uint64_t segment_sequence(const fs::path& path) {
  const std::string name = path.filename().string();
  if (!name.starts_with(segment_prefix) || !name.ends_with(segment_suffix)) return 0;
  const std::string_view digits(name.data() + segment_prefix.size(),
                                name.size() - segment_prefix.size() - segment_suffix.size());
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size()) return 0;
  return value;
}

// A checksum of what a segment's records say (FNV-1a, 64 bits, over every field with its
// length): HDF5 checksums its metadata but not raw data, so bytes damaged on disk or by hand
// would otherwise be read back as a task's result without a word (and decode into nonsense).
class RecordChecksum {
 public:
  void add(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      hash_ ^= bytes[i];
      hash_ *= 0x100000001b3ULL;
    }
  }
  void add(const std::string& text) {
    const std::uint64_t size = text.size();
    add(&size, sizeof size);
    add(text.data(), text.size());
  }
  [[nodiscard]] std::uint64_t value() const noexcept { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::uint64_t checksum_of(const std::vector<JournalRecord>& records) {
  RecordChecksum sum;
  for (const JournalRecord& r : records) {
    const auto state = static_cast<std::uint8_t>(r.state);
    sum.add(&state, sizeof state);
    sum.add(&r.attempts, sizeof r.attempts);
    sum.add(&r.worker, sizeof r.worker);
    sum.add(&r.seconds, sizeof r.seconds);
    for (const std::string* field : {&r.key, &r.task, &r.result, &r.error, &r.children}) {
      sum.add(*field);
    }
  }
  return sum.value();
}

template <class T>
void write_column(const io::File& file, const std::string& path, const std::vector<T>& values) {
  const hsize_t n = values.size();
  io::write_array<T>(file, path, {n}, io::Selection{{0}, {n}}, std::span<const T>(values));
}

template <class T>
std::vector<T> read_column(const io::File& file, const std::string& path) {
  const io::Extents shape = file.dataset(path).shape();
  if (shape.size() != 1) throw Error(fmt::format("{}: {} is not 1-D", file.path(), path));
  return io::read_array<T>(file, path, io::Selection{{0}, {shape[0]}});
}

// A ragged column: every row's bytes back to back, and n+1 offsets.
void write_ragged(const io::File& file, const std::string& name,
                  const std::vector<JournalRecord>& records, std::string JournalRecord::*field) {
  std::vector<std::uint64_t> offsets{0};
  offsets.reserve(records.size() + 1);
  std::vector<std::uint8_t> bytes;
  for (const JournalRecord& r : records) {
    const std::string& value = r.*field;
    bytes.insert(bytes.end(), value.begin(), value.end());
    offsets.push_back(bytes.size());
  }
  write_column(file, name + "/bytes", bytes);
  write_column(file, name + "/offsets", offsets);
}

void read_ragged(const io::File& file, const std::string& name, std::vector<JournalRecord>& records,
                 std::string JournalRecord::*field) {
  const auto bytes = read_column<std::uint8_t>(file, name + "/bytes");
  const auto offsets = read_column<std::uint64_t>(file, name + "/offsets");
  if (offsets.size() != records.size() + 1 || offsets.back() != bytes.size()) {
    throw Error(fmt::format("{}: journal column {} is inconsistent", file.path(), name));
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (offsets[i] > offsets[i + 1]) {
      throw Error(fmt::format("{}: journal column {} is inconsistent", file.path(), name));
    }
    records[i].*field = std::string(reinterpret_cast<const char*>(bytes.data()) + offsets[i],
                                    offsets[i + 1] - offsets[i]);
  }
}

}  // namespace

TaskJournal::TaskJournal(fs::path directory, std::string fingerprint)
    : directory_(std::move(directory)), fingerprint_(std::move(fingerprint)) {}

std::vector<fs::path> TaskJournal::segment_paths() const {
  std::vector<std::pair<std::uint64_t, fs::path>> found;
  std::error_code error;
  if (!fs::is_directory(directory_, error)) return {};
  for (const auto& entry : fs::directory_iterator(directory_)) {
    if (const std::uint64_t sequence = segment_sequence(entry.path()); sequence != 0) {
      found.emplace_back(sequence, entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  paths.reserve(found.size());
  for (auto& [sequence, path] : found) paths.push_back(std::move(path));
  return paths;
}

bool TaskJournal::exists() const { return !segment_paths().empty(); }

std::vector<JournalRecord> TaskJournal::load() {
  std::vector<JournalRecord> records;
  std::error_code error;
  if (!fs::is_directory(directory_, error)) return records;
  // A writer killed mid-segment left a .tmp: it was never part of the journal.
  for (const auto& entry : fs::directory_iterator(directory_)) {
    if (entry.path().extension() == ".tmp") fs::remove(entry.path(), error);
  }
  for (const fs::path& path : segment_paths()) {
    auto part = read_damage_checked(path);
    records.insert(records.end(), std::make_move_iterator(part.begin()),
                   std::make_move_iterator(part.end()));
    next_sequence_ = std::max(next_sequence_, segment_sequence(path) + 1);
  }
  return records;
}

void TaskJournal::start(bool replace) {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) {
    throw SystemError("cannot create the journal directory " + directory_.string(), error.value());
  }
  const auto existing = segment_paths();
  if (!existing.empty() && !replace) {
    throw UsageError(
        fmt::format("the journal {} of an unfinished run exists: resume it (--resume) or remove it",
                    directory_.string()));
  }
  for (const fs::path& path : existing) fs::remove(path, error);
  next_sequence_ = 1;
}

void TaskJournal::add(JournalRecord record) { pending_.push_back(std::move(record)); }

void TaskJournal::flush() {
  if (pending_.empty()) return;
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) {
    throw SystemError("cannot create the journal directory " + directory_.string(), error.value());
  }
  write_segment(pending_, next_sequence_++);
  ++segments_written_;
  pending_.clear();
  if (segment_paths().size() > merge_threshold) merge();
}

void TaskJournal::merge() {
  // The merged segment gets the next number and holds everything; only after it is safely in
  // place are the older ones removed. A kill in between leaves duplicates, which load() resolves.
  const auto paths = segment_paths();
  std::vector<JournalRecord> all;
  for (const fs::path& path : paths) {
    auto part = read_segment(path);
    all.insert(all.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  write_segment(all, next_sequence_++);
  std::error_code error;
  for (const fs::path& path : paths) fs::remove(path, error);
}

void TaskJournal::remove() {
  std::error_code error;
  fs::remove_all(directory_, error);
  if (error) {
    throw SystemError("cannot remove the journal " + directory_.string(), error.value());
  }
}

void TaskJournal::write_segment(const std::vector<JournalRecord>& records,
                                std::uint64_t sequence) const {
  const fs::path path =
      directory_ / fmt::format("{}{:08}{}", segment_prefix, sequence, segment_suffix);
  io::AtomicFileOptions options;
  options.file.alignment = 1;            // small files: no padding to stripes
  options.metadata_reserve = 64 * 1024;  // a few datasets: little metadata
  auto out = io::AtomicFile::create(Comm::self(), path.string(), options);
  const io::File& file = out.file();
  file.set_attribute("format", journal_format);
  file.set_attribute("fingerprint", fingerprint_);
  file.set_attribute("records", static_cast<std::uint64_t>(records.size()));
  file.set_attribute("checksum", checksum_of(records));

  std::vector<std::uint8_t> state;
  std::vector<std::uint32_t> attempts;
  std::vector<std::int32_t> worker;
  std::vector<double> seconds;
  for (const JournalRecord& r : records) {
    state.push_back(static_cast<std::uint8_t>(r.state));
    attempts.push_back(r.attempts);
    worker.push_back(r.worker);
    seconds.push_back(r.seconds);
  }
  write_column(file, "state", state);
  write_column(file, "attempts", attempts);
  write_column(file, "worker", worker);
  write_column(file, "seconds", seconds);
  write_ragged(file, "key", records, &JournalRecord::key);
  write_ragged(file, "task", records, &JournalRecord::task);
  write_ragged(file, "result", records, &JournalRecord::result);
  write_ragged(file, "error", records, &JournalRecord::error);
  write_ragged(file, "children", records, &JournalRecord::children);
  out.commit();
}

std::vector<JournalRecord> TaskJournal::read_damage_checked(const fs::path& path) const {
  // A journal is input when a run resumes: a damaged one (a disk error, a hand edit, a foreign
  // file) is bad input named in one line, with what to do about it.
  try {
    return read_segment(path);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("the journal {} is damaged ({}): remove it to start afresh",
                                 directory_.string(), e.what()));
  }
}

std::vector<JournalRecord> TaskJournal::read_segment(const fs::path& path) const {
  const io::File file = io::File::open(Comm::self(), path.string());
  const std::string format =
      file.has_attribute("format") ? file.string_attribute("format") : std::string();
  if (format != journal_format) {
    throw Error(fmt::format("{} is not a spmdkit task journal segment", path.string()));
  }
  const std::string fingerprint = file.string_attribute("fingerprint");
  if (fingerprint != fingerprint_) {
    throw UsageError(fmt::format(
        "the journal {} belongs to a run with other parameters ({}): resume with the same "
        "parameters, or remove it to start afresh",
        directory_.string(), first_difference(fingerprint, fingerprint_)));
  }
  const auto state = read_column<std::uint8_t>(file, "state");
  const auto attempts = read_column<std::uint32_t>(file, "attempts");
  const auto worker = read_column<std::int32_t>(file, "worker");
  const auto seconds = read_column<double>(file, "seconds");
  const std::size_t n = state.size();
  if (attempts.size() != n || worker.size() != n || seconds.size() != n) {
    throw Error(fmt::format("{}: journal columns differ in length", path.string()));
  }
  std::vector<JournalRecord> records(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (state[i] != 1 && state[i] != 2) {
      throw Error(fmt::format("{}: bad task state {} in row {}", path.string(), state[i], i));
    }
    records[i].state = static_cast<TaskState>(state[i]);
    records[i].attempts = attempts[i];
    records[i].worker = worker[i];
    records[i].seconds = seconds[i];
  }
  read_ragged(file, "key", records, &JournalRecord::key);
  read_ragged(file, "task", records, &JournalRecord::task);
  read_ragged(file, "result", records, &JournalRecord::result);
  read_ragged(file, "error", records, &JournalRecord::error);
  read_ragged(file, "children", records, &JournalRecord::children);
  // Segments of earlier versions have no checksum; every one written now has.
  if (file.has_attribute("checksum") && file.attribute<std::uint64_t>("checksum") !=
                                            std::vector<std::uint64_t>{checksum_of(records)}) {
    throw Error(fmt::format("{}: the records do not match their checksum", path.string()));
  }
  return records;
}

}  // namespace spmd
