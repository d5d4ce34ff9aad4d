#include "spmdkit/patterns/detail/async_slots.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "spmdkit/runtime/wire.hpp"

namespace spmd::detail {

namespace {

// How long one poll may wait for I/O before new batches and the interruption are looked at
// (a submit wakes it sooner where the work can be woken).
constexpr std::chrono::milliseconds poll_wait{10};

}  // namespace

AsyncSlots::AsyncSlots(RawAsyncWork& work, int rank, std::uint32_t slots,
                       const std::function<bool()>& interrupted)
    : work_(work), interrupted_(interrupted), rank_(rank), slots_(std::max(slots, 1U)) {
  thread_ = std::jthread([this] { serve(); });
}

AsyncSlots::~AsyncSlots() {
  close();
  work_.wake();
  thread_ = std::jthread();  // joins
}

void AsyncSlots::serve() {
  std::deque<Batch> batches;
  const auto has_unstarted = [&batches] {
    return std::any_of(batches.begin(), batches.end(),
                       [](const Batch& batch) { return batch.next < batch.tasks.size(); });
  };
  try {
    while (true) {
      std::deque<std::string> incoming;
      // Waits for batches only when nothing is in flight or waiting to start.
      const bool idle = running_ == 0 && !has_unstarted();
      if (!take_batches(incoming, std::numeric_limits<std::size_t>::max(), idle)) break;
      for (const std::string& message : incoming) {
        wire::Reader in(message);
        Batch batch;
        const auto count = in.get<std::uint32_t>();
        batch.tasks.reserve(count);
        for (std::uint32_t i = 0; i < count; ++i) {
          Started started;
          started.id = in.get<std::uint64_t>();
          started.task = std::make_shared<RawAsyncTask>();
          started.task->attempt = in.get<std::uint32_t>();
          started.task->task = std::string(in.view(in.size()));
          started.task->worker = rank_;
          batch.tasks.push_back(std::move(started));
        }
        batches.push_back(std::move(batch));
      }
      if (interrupted_()) {
        interrupt_all(batches);
      } else {
        start_tasks(batches);
        // Tasks settled as they started (a cached answer) need no wait for I/O.
        const bool waiting = std::any_of(batches.begin(), batches.end(), [](const Batch& batch) {
          return std::any_of(batch.tasks.begin(), batch.tasks.end(), [](const Started& started) {
            return started.running && !started.task->settled;
          });
        });
        if (waiting) work_.poll(poll_wait);
      }
      for (std::string& results : finish_batches(batches)) finished(std::move(results));
    }
  } catch (...) {
    // The work's poll (or a damaged batch) failed: the main thread ends the run with it.
    escaped(std::current_exception());
  }
  if (running_ > 0) {
    try {
      work_.cancel();
    } catch (...) {
      // ending anyway; what was in flight is abandoned
    }
  }
}

void AsyncSlots::start_tasks(std::deque<Batch>& batches) {
  for (Batch& batch : batches) {
    while (batch.next < batch.tasks.size() && running_ < slots_) {
      Started& started = batch.tasks[batch.next++];
      started.since = std::chrono::steady_clock::now();
      started.running = true;
      ++running_;
      try {
        work_.start(started.task);
      } catch (const TaskInterrupted& e) {
        started.task->settle(AttemptStatus::interrupted, e.what());
      } catch (const RawTaskFailure& e) {
        started.task->settle(AttemptStatus::failed, e.what(), e.result());
      } catch (const std::exception& e) {
        started.task->settle(AttemptStatus::failed, e.what());  // as a task function's throw
      }
    }
    if (running_ >= slots_) return;
  }
}

void AsyncSlots::interrupt_all(std::deque<Batch>& batches) {
  if (running_ > 0) work_.cancel();
  for (Batch& batch : batches) {
    for (Started& started : batch.tasks) {
      started.task->settle(AttemptStatus::interrupted, "interrupted: the run is ending");
    }
    batch.next = batch.tasks.size();
  }
}

std::vector<std::string> AsyncSlots::finish_batches(std::deque<Batch>& batches) {
  const auto now = std::chrono::steady_clock::now();
  for (Batch& batch : batches) {
    for (Started& started : batch.tasks) {
      if (started.running && started.task->settled) {
        started.running = false;
        started.seconds = std::chrono::duration<double>(now - started.since).count();
        --running_;
      }
    }
  }
  std::vector<std::string> finished;
  for (auto it = batches.begin(); it != batches.end();) {
    const bool complete = it->next == it->tasks.size() &&
                          std::all_of(it->tasks.begin(), it->tasks.end(),
                                      [](const Started& started) { return started.task->settled; });
    if (!complete) {
      ++it;
      continue;
    }
    std::string message;
    wire::CursorWriter out(message);
    out.put(static_cast<std::uint32_t>(it->tasks.size()));
    for (const Started& started : it->tasks) {
      const RawAsyncTask& task = *started.task;
      // Only a task that finished emits: a failed or interrupted one's emissions do not count.
      static const std::vector<std::pair<std::string, std::string>> none;
      put_attempt(out, started.id, task.status, started.seconds, task.payload, task.failure_result,
                  task.status == AttemptStatus::done ? task.children : none);
    }
    out.finish();
    finished.push_back(std::move(message));
    it = batches.erase(it);
  }
  return finished;
}

}  // namespace spmd::detail
