#pragma once
// Master-worker: a task farm with dynamic load balance, tasks that spawn tasks, retries and a
// resumable journal -- the book's process pools and Celery workers, on a communicator.
//
//   spmd::TaskFarm<std::uint64_t, FibResult> farm(app.comm(), options);
//   farm.submit_all(inputs);                       // on the master (ignored elsewhere)
//   auto run = farm.run([](std::uint64_t n) { return fibonacci(n); });   // collective
//   for (const auto& outcome : run.outcomes) ...   // on the master, in task order
//
// Rank 0 is the master; every rank runs tasks, the master on a thread of its own beside its
// dispatching (FarmOptions::master_runs_tasks, the default: N ranks are N task runners; the task
// function may then run while the master's callbacks do). FarmOptions::slots runs K tasks at
// once per rank, on threads (for tasks that wait).
// A task function takes the task (and optionally a TaskContext, to emit new tasks) and returns a
// result; an exception fails that attempt. Tasks are deduplicated by key (default: the task's
// bytes; key_by() to choose). Tasks and results travel as raw bytes when trivially copyable, else
// through their wire codec (runtime/wire.hpp): the serialization choice is always visible.
//
// Everything the master learns is delivered once per task: in completion or task order
// (FarmOptions::delivery) to a callback, or collected into FarmRun::outcomes.
#include <chrono>
#include <concepts>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "spmdkit/patterns/farm_engine.hpp"
#include "spmdkit/patterns/farm_options.hpp"
#include "spmdkit/patterns/task_journal.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd {

/// What a task function may use besides its task.
template <class Task>
class TaskContext {
 public:
  TaskContext(detail::RawTaskContext& raw, const std::function<std::string(const Task&)>& key)
      : raw_(raw), key_(key) {}
  /// Adds a task to the farm (dropped by the master if its key is known).
  void emit(const Task& task) { raw_.emit(key_(task), wire::encode(task)); }
  /// The rank running this task.
  [[nodiscard]] int worker() const noexcept { return raw_.worker(); }
  /// 1 on the first try, 2 on the first retry, ...
  [[nodiscard]] std::uint32_t attempt() const noexcept { return raw_.attempt(); }
  /// Whether the run is ending (a stop request whose grace ran out): a long task should then
  /// give up soon by throwing TaskInterrupted (not counted as an attempt, redone on resume).
  [[nodiscard]] bool interrupted() const { return raw_.interrupted(); }

 private:
  detail::RawTaskContext& raw_;
  const std::function<std::string(const Task&)>& key_;
};

/// Thrown by a task function to fail with a result all the same (a command's exit status and
/// output): the attempt counts as failed and is retried while attempts remain; the outcome of
/// the last failed attempt carries `result`. (To be stopped without failing: TaskInterrupted.)
template <wire::Encodable Result>
class TaskFailure : public detail::RawTaskFailure {
 public:
  TaskFailure(const std::string& message, const Result& result)
      : RawTaskFailure(message, wire::encode(result)) {}
};

/// An asynchronous task (TaskFarm::run_async), as AsyncWork::start gets it: settle it, from
/// start() or a later poll(), with exactly one of done() or fail() (later calls are ignored).
template <class Task, class Result>
class AsyncTask {
 public:
  AsyncTask(std::shared_ptr<detail::RawAsyncTask> raw,
            const std::function<std::string(const Task&)>& key)
      : raw_(std::move(raw)), key_(&key), task_(wire::decode<Task>(raw_->task)) {}
  [[nodiscard]] const Task& task() const noexcept { return task_; }
  /// 1 on the first try, 2 on the first retry, ...
  [[nodiscard]] std::uint32_t attempt() const noexcept { return raw_->attempt; }
  /// The rank running this task.
  [[nodiscard]] int worker() const noexcept { return raw_->worker; }
  /// Whether it is settled already (or was abandoned: the run is ending).
  [[nodiscard]] bool settled() const noexcept { return raw_->settled; }
  /// Adds a task to the farm (counted only if this task ends done).
  void emit(const Task& task) { raw_->children.emplace_back((*key_)(task), wire::encode(task)); }
  void done(const Result& result) {
    raw_->settle(detail::AttemptStatus::done, wire::encode(result));
  }
  /// A failed attempt, as if a task function had thrown: retried while attempts remain.
  void fail(const std::string& message) { raw_->settle(detail::AttemptStatus::failed, message); }
  /// A failed attempt that carries a result all the same (TaskFailure's counterpart).
  void fail(const std::string& message, const Result& result) {
    raw_->settle(detail::AttemptStatus::failed, message, wire::encode(result));
  }

 private:
  std::shared_ptr<detail::RawAsyncTask> raw_;
  const std::function<std::string(const Task&)>* key_;
  Task task_;
};

/// Tasks that wait without holding a thread -- the book's asyncio chapter (an HTTP transfer, a
/// query): TaskFarm::run_async(work) keeps up to FarmOptions::slots of them in flight on each
/// rank, on one thread of the rank's own beside its MPI thread. Each rank passes its own
/// object (e.g. holding a libcurl multi handle); start() and poll() are only ever called from
/// that one thread, wake() from another.
template <class Task, class Result>
class AsyncWork {
 public:
  virtual ~AsyncWork() = default;
  /// Begins the task and returns at once (it may settle it here already, e.g. a cached answer).
  /// An exception fails the attempt, as from a task function.
  virtual void start(AsyncTask<Task, Result> task) = 0;
  /// Waits at most `max_wait` for I/O, and settles the tasks that finished.
  virtual void poll(std::chrono::milliseconds max_wait) = 0;
  /// Called from another thread: a poll in progress should return soon (new tasks are waiting).
  virtual void wake() {}
  /// The run is ending: drop every started task (their settling is ignored from now on).
  virtual void cancel() {}
};

template <class Task, class Result>
struct TaskOutcome {
  std::uint64_t id = 0;  ///< submission order, then emission order
  Task task{};
  std::optional<Result> result;  ///< set when done, or when the last failure carried one
  TaskState state = TaskState::done;
  std::uint32_t attempts = 0;
  int worker = -1;       ///< rank that ran the last attempt
  double seconds = 0;    ///< its time on its rank, decoding and encoding included (last attempt)
  std::string error;     ///< last failed attempt's message, with rank and attempt ("" if none)
  bool resumed = false;  ///< read from the journal of an earlier run
  [[nodiscard]] bool ok() const noexcept { return state == TaskState::done; }
};

template <class Task, class Result>
struct FarmRun {
  FarmReport report;                                ///< agreed: the same on every rank
  std::vector<TaskOutcome<Task, Result>> outcomes;  ///< master only; in task order
};

template <wire::Encodable Task, wire::Encodable Result>
class TaskFarm {
 public:
  using Outcome = TaskOutcome<Task, Result>;

  /// Collective over `comm`.
  explicit TaskFarm(const Comm& comm, FarmOptions options = {})
      : engine_(comm, std::move(options)),
        key_([](const Task& task) { return wire::encode(task); }) {}

  /// After a complete run (every task done, none failed, not stopped) the journal is removed
  /// here, when the farm goes out of scope normally -- keep the farm alive until the output is
  /// written (as the apps do), so that a crash while writing can still be resumed. Leaving the
  /// scope by an exception, a failed task, a stop request or a killed process keep it.
  ~TaskFarm() {
    if (!complete_ || std::uncaught_exceptions() > 0) return;
    try {
      remove_journal();
    } catch (const std::exception&) {
      // a journal that cannot be removed is refused by the next run, which says so
    }
  }
  TaskFarm(const TaskFarm&) = delete;
  TaskFarm& operator=(const TaskFarm&) = delete;

  /// Deduplicates by `key(task)` (any encodable value) instead of the whole task.
  template <class KeyFn>
  requires std::invocable<const KeyFn&, const Task&> &&
      wire::Encodable<std::decay_t<std::invoke_result_t<const KeyFn&, const Task&>>>
          TaskFarm& key_by(KeyFn key) {
    key_ = [key = std::move(key)](const Task& task) { return wire::encode(key(task)); };
    return *this;
  }

  /// Runs tasks in waves by `level(task)` (an unsigned integer): every task of level L finishes
  /// before any of level L+1 starts, and each wave starts in key order. A crawler emitting links
  /// at depth + 1 thus explores breadth-first, identically at any rank count.
  template <class LevelFn>
  requires std::invocable<const LevelFn&, const Task&> TaskFarm& level_by(LevelFn level) {
    engine_.set_levels(on_task_bytes<std::uint32_t>(std::move(level)));
    return *this;
  }

  /// On the master, as each wave starts, every task of it in key order may be changed before it
  /// runs (e.g. to enforce a budget deterministically). Called for resumed tasks too (changes to
  /// those are ignored), so a counting hook sees the same sequence in a resumed run.
  template <class AdmitFn>
  requires std::invocable<const AdmitFn&, Task&> TaskFarm& admit(AdmitFn admit) {
    engine_.set_admit([admit = std::move(admit)](std::string_view bytes) {
      Task task = wire::decode<Task>(bytes);
      admit(task);
      return wire::encode(task);
    });
    return *this;
  }

  /// How long each task is expected to take, in seconds (`estimate(task)`; negative: unknown),
  /// for FarmOptions::deadline. Call before submitting.
  template <class EstimateFn>
  requires std::invocable<const EstimateFn&, const Task&> TaskFarm& estimate_by(
      EstimateFn estimate) {
    engine_.set_estimate(on_task_bytes<double>(std::move(estimate)));
    return *this;
  }

  /// Each task's priority (`priority(task)`, an integer; higher runs first, equal ones in
  /// submission order; default 0). Call before submitting.
  template <class PriorityFn>
  requires std::invocable<const PriorityFn&, const Task&> TaskFarm& priority_by(
      PriorityFn priority) {
    engine_.set_priority(on_task_bytes<std::int32_t>(std::move(priority)));
    return *this;
  }

  /// The tags a rank must have to run each task (`tags(task)`, a std::vector<std::string>;
  /// ranks give theirs in FarmOptions::tags): the Celery queues of the book. A task whose tags
  /// no rank running tasks has is a UsageError when submitted. Call before submitting.
  template <class TagsFn>
  requires std::invocable<const TagsFn&, const Task&> TaskFarm& tags_by(TagsFn tags) {
    engine_.set_tags(on_task_bytes<std::vector<std::string>>(std::move(tags)));
    return *this;
  }

  /// How many attempts each task gets (`attempts(task)`; 0: FarmOptions::max_attempts). Call
  /// before submitting.
  template <class AttemptsFn>
  requires std::invocable<const AttemptsFn&, const Task&> TaskFarm& attempts_by(
      AttemptsFn attempts) {
    engine_.set_attempts(on_task_bytes<std::uint32_t>(std::move(attempts)));
    return *this;
  }

  [[nodiscard]] bool is_master() const noexcept { return engine_.is_master(); }
  /// Tasks that run at once over all ranks (slots on every rank that runs tasks).
  [[nodiscard]] int workers() const noexcept { return engine_.task_slots(); }

  /// On the master: adds a task (unless its key is known); returns its id. Elsewhere: ignored,
  /// so SPMD code may submit on every rank.
  std::uint64_t submit(const Task& task) {
    if (!is_master()) return 0;
    return engine_.submit(key_(task), wire::encode(task));
  }
  template <std::ranges::input_range R>
  requires std::convertible_to < std::ranges::range_reference_t<R>,
  const Task& > void submit_all(R&& tasks) {
    if (!is_master()) return;
    for (const Task& task : tasks) submit(task);
  }

  /// Collective: runs every task; `on_outcome(const Outcome&)` is called on the master for each
  /// finished (or finally failed) task.
  template <class Work, class OnOutcome>
  FarmReport run(Work&& work, OnOutcome&& on_outcome) {
    const detail::RawWork raw_work = [&](std::string_view bytes, detail::RawTaskContext& raw) {
      const Task task = wire::decode<Task>(bytes);
      TaskContext<Task> context(raw, key_);
      return wire::encode(invoke_work(work, task, context));
    };
    FarmReport report = engine_.run(raw_work, deliver_to(on_outcome));
    complete_ = report.failed == 0 && !report.stopped;
    return report;
  }

  /// Collective: runs every task; the master gets all outcomes in task order.
  template <class Work>
  FarmRun<Task, Result> run(Work&& work) {
    return collect(
        [&](const auto& on_outcome) { return run(std::forward<Work>(work), on_outcome); });
  }

  /// Collective: runs every task through this rank's `work` (asynchronous tasks: up to
  /// options().slots in flight per rank on one thread; see AsyncWork).
  template <class OnOutcome>
  FarmReport run_async(AsyncWork<Task, Result>& work, OnOutcome&& on_outcome) {
    struct Adapter final : detail::RawAsyncWork {
      Adapter(AsyncWork<Task, Result>& typed, const std::function<std::string(const Task&)>& key)
          : typed_(typed), key_(key) {}
      void start(const std::shared_ptr<detail::RawAsyncTask>& task) override {
        typed_.start(AsyncTask<Task, Result>(task, key_));
      }
      void poll(std::chrono::milliseconds max_wait) override { typed_.poll(max_wait); }
      void wake() override { typed_.wake(); }
      void cancel() override { typed_.cancel(); }
      AsyncWork<Task, Result>& typed_;
      const std::function<std::string(const Task&)>& key_;
    } adapter(work, key_);
    FarmReport report = engine_.run_async(adapter, deliver_to(on_outcome));
    complete_ = report.failed == 0 && !report.stopped;
    return report;
  }

  /// Collective: run_async with every outcome collected on the master, in task order.
  FarmRun<Task, Result> run_async(AsyncWork<Task, Result>& work) {
    return collect([&](const auto& on_outcome) { return run_async(work, on_outcome); });
  }

  /// On the master: removes the journal now (the destructor does it after a complete run).
  void remove_journal() {
    if (TaskJournal* journal = engine_.journal()) journal->remove();
  }

  [[nodiscard]] const FarmOptions& options() const noexcept { return engine_.options(); }

 private:
  // The untyped core's deliveries as typed outcomes, to `on_outcome`.
  // One outcome, refilled for every task: constructing and destroying one per task was a tenth
  // of a null task's cost on the master (and a Task or Result holding memory keeps it).
  template <class OnOutcome>
  static detail::RawDeliver deliver_to(OnOutcome& on_outcome) {
    return [&on_outcome, reused = std::make_shared<Outcome>()](const detail::RawOutcome& raw) {
      Outcome& outcome = *reused;
      outcome.id = raw.id;
      outcome.task = wire::decode<Task>(raw.task);
      if (raw.state == TaskState::done || !raw.result.empty()) {
        outcome.result = wire::decode<Result>(raw.result);
      } else {
        outcome.result.reset();
      }
      outcome.state = raw.state;
      outcome.attempts = raw.attempts;
      outcome.worker = raw.worker;
      outcome.seconds = raw.seconds;
      if (!raw.error.empty() || !outcome.error.empty()) outcome.error.assign(raw.error);
      outcome.resumed = raw.resumed;
      on_outcome(std::as_const(outcome));
    };
  }

  // A run whose outcomes are gathered on the master in task order.
  template <class RunWith>
  static FarmRun<Task, Result> collect(const RunWith& run_with) {
    FarmRun<Task, Result> result;
    std::vector<std::optional<Outcome>> by_id;
    result.report = run_with([&](const Outcome& outcome) {
      if (by_id.size() <= outcome.id) by_id.resize(outcome.id + 1);
      by_id[outcome.id] = outcome;
    });
    result.outcomes.reserve(by_id.size());
    for (auto& outcome : by_id) {
      if (outcome) result.outcomes.push_back(std::move(*outcome));
    }
    return result;
  }

  // `fn(task)` as the untyped core asks it: of the task's bytes, the answer converted to R.
  template <class R, class Fn>
  static std::function<R(std::string_view)> on_task_bytes(Fn fn) {
    return [fn = std::move(fn)](std::string_view bytes) {
      return static_cast<R>(fn(wire::decode<Task>(bytes)));
    };
  }

  template <class Work>
  static Result invoke_work(Work& work, const Task& task, TaskContext<Task>& context) {
    if constexpr (std::invocable<Work&, const Task&, TaskContext<Task>&>) {
      return static_cast<Result>(std::invoke(work, task, context));
    } else {
      static_assert(std::invocable<Work&, const Task&>,
                    "a task function takes (const Task&) or (const Task&, TaskContext<Task>&)");
      return static_cast<Result>(std::invoke(work, task));
    }
  }

  detail::FarmEngine engine_;
  std::function<std::string(const Task&)> key_;
  bool complete_ = false;
};

/// Collective: the book's pool.map -- runs `work` over `inputs` on a task farm; the master gets
/// the outcomes in input order (duplicates in `inputs` are run once). With a journal, a
/// complete run removes it before returning (the outcomes are then in memory only).
template <std::ranges::input_range R, class Work,
          class Task = std::remove_cvref_t<std::ranges::range_value_t<R>>,
          class Result = std::remove_cvref_t<std::invoke_result_t<Work&, const Task&>>>
FarmRun<Task, Result> task_map(const Comm& comm, R&& inputs, Work&& work,
                               FarmOptions options = {}) {
  TaskFarm<Task, Result> farm(comm, std::move(options));
  farm.submit_all(std::forward<R>(inputs));
  return farm.run(std::forward<Work>(work));
}

}  // namespace spmd
