#pragma once
// Point-to-point plumbing shared by the patterns' protocols (task farm, pipeline, tree
// reductions): polling with back-off, non-blocking sends that own their buffers, receiving
// messages of any size (matched probe), broadcasting bytes. Internal: not part of the API.
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

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
  explicit SendQueue(MPI_Comm comm) : comm_(comm) {}
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;
  /// Sends still pending here are only left when a run was cut short (a receiver that will never
  /// match them): their buffers are deliberately left to MPI rather than freed under it.
  ~SendQueue();

  void send(int dest, int tag, std::string buffer);
  /// Retires completed sends (in order).
  void progress();
  /// Waits for every send until `deadline`; returns whether all completed.
  bool wait_all(Clock::time_point deadline);
  [[nodiscard]] bool empty() const noexcept { return pending_.empty(); }

 private:
  struct Pending {
    MPI_Request request;
    std::string buffer;
  };
  MPI_Comm comm_;
  std::deque<Pending> pending_;
};

/// A message from `source` with `tag` (wildcards allowed) if one has arrived, received whole.
std::optional<std::pair<MPI_Status, std::string>> receive_if_arrived(MPI_Comm comm, int source,
                                                                      int tag);
/// Blocking: the next message from `source` with `tag`, received whole.
std::string receive_bytes(MPI_Comm comm, int source, int tag);
/// Blocking send of `bytes`.
void send_bytes(MPI_Comm comm, int dest, int tag, const std::string& bytes);
/// Collective: `bytes` of `root` on every rank.
void broadcast_bytes(MPI_Comm comm, std::string& bytes, int root);

}  // namespace spmd::detail
