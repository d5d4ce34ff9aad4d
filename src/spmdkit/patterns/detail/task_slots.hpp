#pragma once
// K threads of a rank that run the task farm's batches beside its main thread, which alone
// talks MPI (so MPI_THREAD_FUNNELED suffices): the master's own slots while it keeps
// dispatching, and a worker's slots for tasks that mostly wait. Internal: not part of the API.
// (Asynchronous tasks: detail/async_slots.hpp.)
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "spmdkit/patterns/farm_engine.hpp"

namespace spmd::detail {

/// What runs a rank's task batches beside its main thread (which alone talks MPI): batches in,
/// results messages out. TaskSlots (threads) and AsyncSlots (asynchronous tasks) are the two.
class BatchRunner {
 public:
  virtual ~BatchRunner() = default;
  /// Queues a batch message.
  virtual void submit(std::string batch) = 0;
  /// The results messages of batches finished since the last call, in the order they finished.
  /// Rethrows what escaped a batch (a task's own exceptions never do: they fail the attempt).
  [[nodiscard]] virtual std::vector<std::string> take_results() = 0;
  /// Batches queued or running.
  [[nodiscard]] virtual std::size_t outstanding() const = 0;
};

class TaskSlots final : public BatchRunner {
 public:
  /// Starts `slots` threads that run batch messages through `work` as rank `rank`; a task asks
  /// `interrupted` (called on these threads) whether it must give up.
  TaskSlots(const RawWork& work, int rank, std::uint32_t slots,
            const std::function<bool()>& interrupted);
  /// Takes no new batch; waits for the running ones (interrupt them first to be quick).
  ~TaskSlots() override;
  TaskSlots(const TaskSlots&) = delete;
  TaskSlots& operator=(const TaskSlots&) = delete;

  /// Queues a batch message for the next free thread.
  void submit(std::string batch) override;
  [[nodiscard]] std::vector<std::string> take_results() override;
  [[nodiscard]] std::size_t outstanding() const override;

 private:
  void serve();

  const RawWork& work_;
  const std::function<bool()>& interrupted_;
  int rank_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::vector<std::string> results_;
  std::exception_ptr escaped_;
  std::size_t running_ = 0;
  bool closing_ = false;
  std::vector<std::jthread> threads_;  // last: joined before the state above goes
};

}  // namespace spmd::detail
