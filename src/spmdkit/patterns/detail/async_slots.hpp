#pragma once
// Up to K asynchronous tasks of a rank in flight at once on ONE thread of its own (the book's
// asyncio chapter): the thread starts tasks through the app's RawAsyncWork as slots free up and
// polls it for I/O in between; a task that waits holds no thread. The rank's main thread alone
// talks MPI (MPI_THREAD_FUNNELED), handing batches in and taking results out as TaskSlots does.
// Internal: not part of the API (TaskFarm::run_async and AsyncWork are).
//
// A batch's results message goes out when all of its tasks are settled; tasks start in batch
// order. When the run is interrupted (a stop's grace ran out) the work is cancelled and every
// task not settled comes back interrupted (not an attempt: redone by a resumed run).
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "spmdkit/patterns/detail/task_slots.hpp"
#include "spmdkit/patterns/farm_engine.hpp"

namespace spmd::detail {

class AsyncSlots final : public BatchRunner {
 public:
  /// Starts the thread that keeps up to `slots` tasks of rank `rank` in flight through `work`;
  /// `interrupted` (called on that thread) says when the run is ending.
  AsyncSlots(RawAsyncWork& work, int rank, std::uint32_t slots,
             const std::function<bool()>& interrupted);
  /// Takes no new batch; cancels what is in flight and joins the thread.
  ~AsyncSlots() override;
  AsyncSlots(const AsyncSlots&) = delete;
  AsyncSlots& operator=(const AsyncSlots&) = delete;

 private:
  void batch_queued() override { work_.wake(); }  // a poll in progress returns: tasks start now

  struct Started {
    std::uint64_t id = 0;
    std::shared_ptr<RawAsyncTask> task;
    std::chrono::steady_clock::time_point since{};
    double seconds = 0;
    bool running = false;
  };
  struct Batch {
    std::vector<Started> tasks;
    std::size_t next = 0;  // the first not started
  };

  void serve();
  // On the serving thread: starts tasks while slots are free; settles what finished; returns
  // the batches that are complete as results messages.
  void start_tasks(std::deque<Batch>& batches);
  void interrupt_all(std::deque<Batch>& batches);
  [[nodiscard]] std::vector<std::string> finish_batches(std::deque<Batch>& batches);

  RawAsyncWork& work_;
  const std::function<bool()>& interrupted_;
  int rank_;
  std::uint32_t slots_;
  std::uint32_t running_ = 0;  // tasks in flight (serving thread only)
  std::jthread thread_;        // last: joined before the state above goes
};

}  // namespace spmd::detail
