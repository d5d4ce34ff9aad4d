#pragma once
// The untyped core of the task farm: tasks, keys and results are wire bytes here, so that the
// scheduler, the message protocol and the journal are compiled once (task_farm.hpp adds types).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "spmdkit/patterns/detail/farm_scheduler.hpp"
#include "spmdkit/patterns/farm_options.hpp"
#include "spmdkit/patterns/task_journal.hpp"
#include "spmdkit/runtime/comm.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd {

/// Thrown by a task function whose task was stopped from outside (a stop request, the end of
/// the job's time): not the task's failure. The attempt does not count and the task stays
/// unfinished, so a resumed run does it.
class TaskInterrupted : public Error {
 public:
  using Error::Error;
};

}  // namespace spmd

namespace spmd::detail {

/// The untyped TaskFailure: a failure that carries the encoded result of the failed attempt.
class RawTaskFailure : public Error {
 public:
  RawTaskFailure(const std::string& message, std::string result)
      : Error(message), result_(std::move(result)) {}
  [[nodiscard]] const std::string& result() const noexcept { return result_; }

 private:
  std::string result_;
};

/// What a worker's task function sees besides the task.
class RawTaskContext {
 public:
  RawTaskContext(int worker, std::uint32_t attempt, const std::function<bool()>& interrupted)
      : worker_(worker), attempt_(attempt), interrupted_(interrupted) {}
  void emit(std::string key, std::string task) {
    children_.emplace_back(std::move(key), std::move(task));
  }
  [[nodiscard]] int worker() const noexcept { return worker_; }
  [[nodiscard]] std::uint32_t attempt() const noexcept { return attempt_; }
  [[nodiscard]] bool interrupted() const { return interrupted_ && interrupted_(); }
  [[nodiscard]] std::vector<std::pair<std::string, std::string>>& children() noexcept {
    return children_;
  }

 private:
  int worker_;
  std::uint32_t attempt_;
  const std::function<bool()>& interrupted_;
  std::vector<std::pair<std::string, std::string>> children_;
};

/// A finished task as the master's callback sees it (views valid during the call).
struct RawOutcome {
  std::uint64_t id = 0;
  std::string_view task;
  std::string_view result;  ///< when done; when failed, what a TaskFailure carried (or empty)
  std::string_view error;   ///< the last failed attempt's message (empty if none failed)
  TaskState state = TaskState::done;
  std::uint32_t attempts = 0;
  int worker = -1;
  double seconds = 0;
  bool resumed = false;
};

/// Runs one task: returns its encoded result, or throws.
using RawWork = std::function<std::string(std::string_view task, RawTaskContext& context)>;
using RawDeliver = std::function<void(const RawOutcome&)>;

/// One started asynchronous task (see AsyncWork in task_farm.hpp): what it was given, and how
/// it ended once `settled`. Touched only by the thread that runs its AsyncWork.
struct RawAsyncTask {
  std::string task;
  std::uint32_t attempt = 1;
  int worker = 0;
  bool settled = false;
  AttemptStatus status = AttemptStatus::done;
  std::string payload;         ///< the encoded result, or the failure's message
  std::string failure_result;  ///< what a failure carried (encoded; may be empty)
  std::vector<std::pair<std::string, std::string>> children;  ///< emitted (key, task)

  void settle(AttemptStatus how, std::string what, std::string carried = {}) {
    if (settled) return;  // the first word counts
    settled = true;
    status = how;
    payload = std::move(what);
    failure_result = std::move(carried);
  }
};

/// Tasks that wait without holding a thread: `start` begins one and returns, `poll` waits up to
/// `max_wait` for I/O and settles what finished; `wake` (from another thread) cuts a poll short;
/// `cancel` abandons every started task (the run is ending).
class RawAsyncWork {
 public:
  virtual ~RawAsyncWork() = default;
  virtual void start(const std::shared_ptr<RawAsyncTask>& task) = 0;
  virtual void poll(std::chrono::milliseconds max_wait) = 0;
  virtual void wake() {}
  virtual void cancel() {}
};

class FarmEngine {
 public:
  /// Collective over `comm` (duplicated: the farm's messages never meet the application's).
  FarmEngine(const Comm& comm, FarmOptions options);
  ~FarmEngine();
  FarmEngine(const FarmEngine&) = delete;
  FarmEngine& operator=(const FarmEngine&) = delete;

  [[nodiscard]] bool is_master() const noexcept { return rank_ == 0; }
  [[nodiscard]] const FarmOptions& options() const noexcept { return options_; }
  [[nodiscard]] const Comm& comm() const noexcept { return comm_; }
  /// Tasks that run at once over all ranks.
  [[nodiscard]] int task_slots() const noexcept { return scheduler_.task_slots(); }

  /// Master: adds a task unless its key is known; returns its id (the known one for a duplicate).
  std::uint64_t submit(std::string key, std::string task);

  /// Runs tasks in waves: no task of level L+1 starts before every task of level L finished,
  /// and each wave is dispatched in key order. Tasks that emit tasks one level down then give a
  /// breadth-first traversal whose depths and order do not depend on timing or rank count.
  void set_levels(RawLevel level) { scheduler_.set_levels(std::move(level)); }
  /// Called on the master for every task of a wave, in key order, as the wave starts (also for
  /// tasks already done in a resumed run, so that counting hooks see the same sequence); its
  /// answer replaces a pending task. Without levels: called as each task is first queued.
  void set_admit(RawAdmit admit) { scheduler_.set_admit(std::move(admit)); }
  /// Each task's expected seconds (negative: unknown), for the deadline; set before submitting.
  void set_estimate(RawEstimate estimate) { scheduler_.set_estimate(std::move(estimate)); }
  /// Each task's priority and tags (see TaskFarm::priority_by, tags_by); set before submitting.
  void set_priority(RawPriority priority) { scheduler_.set_priority(std::move(priority)); }
  void set_tags(RawTags tags) { scheduler_.set_tags(std::move(tags)); }
  void set_attempts(RawAttempts attempts) { scheduler_.set_attempts(std::move(attempts)); }

  /// Collective: the master schedules, the workers (and with options().master_runs_tasks the
  /// master too) run `work`, until every task is finished or a stop request ends the run.
  /// `deliver` is called on the master's main thread for each finished task.
  FarmReport run(const RawWork& work, const RawDeliver& deliver);
  /// The same for asynchronous tasks: with options().slots = K > 1 each rank keeps up to K of
  /// them in flight on one thread of its own (detail/async_slots); with K = 1 one at a time.
  FarmReport run_async(RawAsyncWork& work, const RawDeliver& deliver);

  /// The journal, when options().journal is set (master only).
  [[nodiscard]] TaskJournal* journal() noexcept { return journal_ ? &*journal_ : nullptr; }

 private:
  class Master;
  FarmReport run_with(const RawWork& work, RawAsyncWork* async, const RawDeliver& deliver);
  FarmReport run_worker(const RawWork& work, RawAsyncWork* async);

  Comm comm_;
  int rank_;  // in comm_ (asked once: submit() asks for every task)
  FarmOptions options_;
  FarmScheduler scheduler_;  // the master's decisions (used on the master only)
  std::optional<TaskJournal> journal_;
};

/// Runs a batch message through `work` as rank `worker`; returns the results message (shared
/// by workers, the master's own slots and a single-rank master). `interrupted` tells a task
/// whether it must give up (TaskContext::interrupted()).
std::string run_batch(std::string_view batch, int worker, const RawWork& work,
                      const std::function<bool()>& interrupted);

/// One task's entry in a results message (the protocol in farm_engine.cpp).
void put_attempt(wire::CursorWriter& out, std::uint64_t id, AttemptStatus status, double seconds,
                 std::string_view payload, std::string_view failure_result,
                 const std::vector<std::pair<std::string, std::string>>& children);

}  // namespace spmd::detail
