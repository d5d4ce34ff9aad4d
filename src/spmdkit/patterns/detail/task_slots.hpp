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
/// results messages out. TaskSlots (threads) and AsyncSlots (asynchronous tasks) are the two;
/// this base is the hand-over between the main thread and their serving thread(s).
class BatchRunner {
 public:
  virtual ~BatchRunner() = default;
  BatchRunner() = default;
  BatchRunner(const BatchRunner&) = delete;
  BatchRunner& operator=(const BatchRunner&) = delete;

  /// Queues a batch message.
  void submit(std::string batch);
  /// The results messages of batches finished since the last call, in the order they finished.
  /// Rethrows what escaped a batch (a task's own exceptions never do: they fail the attempt).
  [[nodiscard]] std::vector<std::string> take_results();

 protected:
  /// After a batch was queued (outside the lock): a serving thread that may be waiting on
  /// something else than this hand-over (an I/O poll) is woken here.
  virtual void batch_queued() {}
  /// No batch is taken any more (the queued ones are dropped); every serving thread waiting in
  /// take_batches() returns. The derived destructor calls it before joining its threads.
  void close();
  /// Serving side: moves up to `most` queued batches into `into`, first waiting for one if
  /// `wait`. False when the runner is closing.
  bool take_batches(std::deque<std::string>& into, std::size_t most, bool wait);
  /// Serving side: the results message of a batch taken.
  void finished(std::string results);
  /// Serving side: what escaped a taken batch; the first one is rethrown by take_results().
  void escaped(std::exception_ptr error);

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::vector<std::string> results_;
  std::exception_ptr escaped_;
  bool closing_ = false;
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

 private:
  void serve();

  const RawWork& work_;
  const std::function<bool()>& interrupted_;
  int rank_;
  std::vector<std::jthread> threads_;  // last: joined before the state above goes
};

}  // namespace spmd::detail
