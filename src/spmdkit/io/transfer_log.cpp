#include "spmdkit/io/transfer_log.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spmdkit/io/handle.hpp"

namespace spmd::io {

namespace {

std::string name_of(hid_t object, ssize_t (*get)(hid_t, char*, size_t)) {
  const ssize_t length = get(object, nullptr, 0);
  if (length <= 0) return "?";
  std::string name(static_cast<std::size_t>(length) + 1, '\0');
  get(object, name.data(), name.size());
  name.resize(static_cast<std::size_t>(length));
  return name;
}

ssize_t file_name(hid_t object, char* name, size_t size) { return H5Fget_name(object, name, size); }
ssize_t object_name(hid_t object, char* name, size_t size) {
  return H5Iget_name(object, name, size);
}

// The layout, chunk, offset and alignment of `dataset` (local queries: no collective).
void describe_storage(hid_t dataset, TransferSummary& summary) {
  const Handle dcpl = owned(H5Dget_create_plist(dataset), "H5Dget_create_plist");
  switch (H5Pget_layout(dcpl.get())) {
    case H5D_CHUNKED: {
      summary.layout = "chunked";
      std::array<hsize_t, 32> chunk{};
      const int dims = H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
      if (dims > 0) summary.chunk.assign(chunk.begin(), chunk.begin() + dims);
      break;
    }
    case H5D_COMPACT: summary.layout = "compact"; break;
    case H5D_CONTIGUOUS: {
      summary.layout = "contiguous";
      const haddr_t offset = H5Dget_offset(dataset);
      if (offset != HADDR_UNDEF) summary.offset = offset;
      break;
    }
    default: summary.layout = "other"; break;
  }
  const hid_t file = H5Iget_file_id(dataset);
  if (file < 0) return;
  const Handle owned_file = owned(file, "H5Iget_file_id");
  const Handle fapl = owned(H5Fget_access_plist(file), "H5Fget_access_plist");
  hsize_t threshold = 0, alignment = 1;
  if (H5Pget_alignment(fapl.get(), &threshold, &alignment) >= 0) summary.alignment = alignment;
}

std::string bytes_text(double bytes) {
  if (bytes >= 1024.0 * 1024 * 1024)
    return fmt::format("{:.2f} GiB", bytes / (1024.0 * 1024 * 1024));
  if (bytes >= 1024.0 * 1024) return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024));
  if (bytes >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{} B", bytes);
}

}  // namespace

TransferLog& TransferLog::instance() {
  static TransferLog log;
  return log;
}

void TransferLog::record(const Comm& comm, hid_t dataset, const char* direction,
                         const TransferReport& report, std::uint64_t bytes, double seconds) {
  if (!run_report::io_requested()) return;
  static const bool registered = [] {
    run_report::set_io_producer([] { return TransferLog::instance().section(); });
    return true;
  }();
  (void)registered;
  const std::uint64_t total_bytes = comm.allreduce(bytes, std::plus<>{});
  const double slowest = comm.allreduce(seconds, op::max{});
  const std::string file = name_of(dataset, file_name);
  const std::string path = name_of(dataset, object_name);
  auto it = std::find_if(summaries_.begin(), summaries_.end(), [&](const TransferSummary& s) {
    return s.direction == direction && s.file == file && s.dataset == path;
  });
  if (it == summaries_.end()) {
    TransferSummary fresh;
    fresh.direction = direction;
    fresh.file = file;
    fresh.dataset = path;
    summaries_.push_back(std::move(fresh));
    it = summaries_.end() - 1;
  }
  // The storage is looked at each time: a dataset's data is placed when first written.
  describe_storage(dataset, *it);
  ++it->transfers;
  it->bytes += total_bytes;
  it->seconds += slowest;
  it->modes.insert(report.mode);
  if (!report.collective) {
    ++it->independent;
    it->causes.insert(report.cause);
  }
}

run_report::Section TransferLog::section() const {
  run_report::Section out;
  out.json = nlohmann::ordered_json::array();
  out.text = fmt::format(
      "I/O report: {} dataset(s) by direction (time: each transfer's slowest rank, summed)\n",
      summaries_.size());
  for (const TransferSummary& s : summaries_) {
    const double rate = s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0.0;
    std::string how = s.independent == 0
                          ? fmt::format("collective ({})", fmt::join(s.modes, ", "))
                          : fmt::format("NOT collective in {} of {}: {}", s.independent,
                                        s.transfers, fmt::join(s.causes, "; "));
    std::string storage = s.layout;
    if (!s.chunk.empty()) storage += fmt::format(" {}", fmt::join(s.chunk, "x"));
    if (s.offset) {
      storage += fmt::format(" at byte {}", *s.offset);
      if (s.alignment > 1) {
        storage += s.aligned() ? fmt::format(" (aligned to {})", s.alignment)
                               : fmt::format(" (NOT aligned to {})", s.alignment);
      }
    }
    out.text +=
        fmt::format("  {:<5} {}:{}  {} transfer(s), {} in {:.4f} s ({}/s); {}; {}\n", s.direction,
                    s.file, s.dataset, s.transfers, bytes_text(static_cast<double>(s.bytes)),
                    s.seconds, bytes_text(rate), how, storage);
    nlohmann::ordered_json entry;
    entry["direction"] = s.direction;
    entry["file"] = s.file;
    entry["dataset"] = s.dataset;
    entry["transfers"] = s.transfers;
    entry["bytes"] = s.bytes;
    entry["seconds"] = s.seconds;
    entry["collective"] = s.independent == 0;
    entry["independent"] = s.independent;
    entry["modes"] = std::vector<std::string>(s.modes.begin(), s.modes.end());
    entry["causes"] = std::vector<std::string>(s.causes.begin(), s.causes.end());
    entry["layout"] = s.layout;
    if (!s.chunk.empty()) entry["chunk"] = s.chunk;
    if (s.offset) entry["offset"] = *s.offset;
    entry["alignment"] = s.alignment;
    entry["aligned"] = s.aligned();
    out.json.push_back(std::move(entry));
  }
  return out;
}

}  // namespace spmd::io
