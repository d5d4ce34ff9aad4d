#include "spmdkit/runtime/run_report.hpp"

#include <atomic>
#include <mutex>
#include <utility>

namespace spmd::run_report {

namespace {

std::atomic<bool> io_wanted{false};

struct Producers {
  std::mutex mutex;
  Producer io;
};

Producers& producers() {
  static Producers registered;
  return registered;
}

}  // namespace

bool io_requested() noexcept { return io_wanted.load(); }

void request_io(bool requested) noexcept { io_wanted.store(requested); }

void set_io_producer(Producer producer) {
  Producers& all = producers();
  const std::lock_guard lock(all.mutex);
  all.io = std::move(producer);
}

std::optional<Section> io_section() {
  Producers& all = producers();
  const std::lock_guard lock(all.mutex);
  if (!all.io) return std::nullopt;
  return all.io();
}

}  // namespace spmd::run_report
