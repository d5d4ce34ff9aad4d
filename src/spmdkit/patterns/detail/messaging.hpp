#pragma once
// Plumbing shared by the patterns' protocols (task farm, pipeline): polling with back-off and
// non-blocking sends that own their buffers. Internal: not part of the API.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "spmdkit/runtime/comm.hpp"

namespace spmd::detail {

using Clock = std::chrono::steady_clock;

/// Waiting for a message: poll for a while (a reply is usually microseconds away, and sleeping
/// costs ~60 us of wake-up latency on Linux), yielding the core to any other runnable process
/// (ranks may outnumber cores); only after a quiet spell, sleep with a growing pause.
class Backoff {
 public:
  void idle();
  void reset() noexcept {
    spins_ = 0;
    pause_ = std::chrono::microseconds(20);
  }

 private:
  static constexpr std::chrono::microseconds spin_window{300};
  static constexpr std::chrono::microseconds max_pause{500};
  std::uint64_t spins_ = 0;
  Clock::time_point quiet_since_{};
  std::chrono::microseconds pause_{20};
};

/// Non-blocking sends whose buffers live until MPI is done with them.
class SendQueue {
 public:
  explicit SendQueue(Comm comm) : comm_(std::move(comm)) {}
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;
  /// Sends still pending here are only left when a run was cut short (a receiver that will never
  /// match them): they are handed to MPI and their buffers deliberately kept, not freed under it.
  ~SendQueue();

  void send(int dest, int tag, std::string buffer);
  /// An empty string to fill for a later send(): the buffer of a completed send when one is
  /// spare (a loop of large sends then allocates, page-faults and frees none of them again).
  [[nodiscard]] std::string buffer();
  /// Retires completed sends (in order).
  void progress();
  /// Waits for every send until `deadline`; returns whether all completed.
  bool wait_all(Clock::time_point deadline);
  [[nodiscard]] bool empty() const noexcept { return pending_.empty(); }

 private:
  struct Pending {
    std::string buffer;  // stays in place: a deque does not move its elements
    Request request;
  };
  // Completed sends' buffers kept for buffer(): as many as are commonly in flight at once, and
  // none of an unusual size (one huge message must not stay allocated for the whole run).
  static constexpr std::size_t spares_kept = 8;
  static constexpr std::size_t spare_capacity = std::size_t{4} << 20;
  Comm comm_;
  std::deque<Pending> pending_;
  std::vector<std::string> spares_;
};

}  // namespace spmd::detail
