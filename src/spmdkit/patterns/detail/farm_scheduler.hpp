#pragma once
// The task farm's decisions, apart from how messages move: which tasks exist (keys, duplicates,
// tasks emitted by tasks), which wait (waves by level, admission), which go next to which worker
// (retries first and elsewhere, batch sizes from measured task times, prefetch depth, the static
// split), and what happens to an attempt's outcome (done, retried, failed for good). No MPI: the
// master loop of farm_engine.cpp only moves the batches it plans and the results it records, and
// unit tests drive it directly (tests/unit/patterns/farm_scheduler_test.cpp).
// Internal: not part of the API.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spmdkit/patterns/detail/chunked_vector.hpp"
#include "spmdkit/patterns/detail/key_index.hpp"
#include "spmdkit/patterns/detail/ready_queues.hpp"
#include "spmdkit/patterns/farm_options.hpp"
#include "spmdkit/patterns/task_journal.hpp"

namespace spmd::detail {

/// The wave a task belongs to (see FarmEngine::set_levels).
using RawLevel = std::function<std::uint32_t(std::string_view task)>;
/// Master-side admission: returns the task as it should run ("" = unchanged).
using RawAdmit = std::function<std::string(std::string_view task)>;
/// The seconds a task is expected to take (negative: unknown).
using RawEstimate = std::function<double(std::string_view task)>;
/// How many attempts a task gets (0: FarmOptions::max_attempts).
using RawAttempts = std::function<std::uint32_t(std::string_view task)>;
/// A task's priority (higher runs first; default 0).
using RawPriority = std::function<std::int32_t(std::string_view task)>;
/// The tags a rank must have to run a task (default: none).
using RawTags = std::function<std::vector<std::string>(std::string_view task)>;

/// How one attempt of a task ended (the status byte of a results message).
enum class AttemptStatus : std::uint8_t {
  failed = 0,       ///< the task function threw: counts as an attempt, retried while any are left
  done = 1,         ///< it returned its result
  interrupted = 2,  ///< stopped from outside (TaskInterrupted): not an attempt, queued again
};

/// One task as the master keeps it: what dispatching and delivering every task touches. Kept
/// small (a run of a million null tasks streams through these several times; at 216 bytes with
/// the fields of FarmTaskDetail they were most of its cost). Whether it is in the ready queue is
/// kept apart (FarmScheduler::queued_), so that queueing a million tasks touches none of these.
struct FarmTask {
  std::string task;
  std::string result;  ///< when done; when failed, what the last attempt carried (may be "")
  std::uint32_t attempts = 0;
  std::uint32_t group = 0;  ///< its tags' group in the ready queues
  std::int32_t priority = 0;
  int worker = -1;
  double seconds = 0;
  TaskState state = TaskState::pending;
  bool resumed = false;        ///< done by an earlier run (from the journal)
  bool failed_before = false;  ///< an attempt failed: FarmTaskDetail::error says how
  bool emitted = false;        ///< it emitted tasks: FarmTaskDetail::children holds them
};

/// What the master keeps of a task besides (by the same id): its key, and what only failures,
/// emitted tasks, estimates and limits need.
struct FarmTaskDetail {
  std::string key;
  std::string error;     ///< the last failed attempt's message
  std::string children;  ///< wire-encoded (key, task) pairs it emitted, kept for the journal
  double estimate = -1;  ///< expected seconds, from the estimate function (negative: unknown)
  double retry_at = 0;   ///< a retry waits until then (seconds on the run's clock)
  std::uint32_t max_attempts = 0;  ///< its own limit (0: FarmOptions::max_attempts)
  std::uint32_t interruptions = 0;
};

/// Tasks planned for one worker in one message (their attempts already counted).
struct PlannedBatch {
  int worker = 0;
  std::vector<std::uint64_t> ids;
};

class FarmScheduler {
 public:
  /// `workers`: ranks besides the master (0: the master runs every task itself). Which ranks
  /// run tasks, and how many at once, follows options.slots and options.master_runs_tasks.
  FarmScheduler(const FarmOptions& options, int workers);

  /// Whether the master runs the tasks itself on its main thread, one at a time (a single rank
  /// with one slot): dispatch() then plans nothing; the master loop takes inline_batch().
  [[nodiscard]] bool runs_inline() const noexcept { return inline_; }
  /// Ranks that run tasks, in rank order.
  [[nodiscard]] const std::vector<int>& runners() const noexcept { return runners_; }
  /// Tasks that may run at once over all ranks (the report's `workers`).
  [[nodiscard]] int task_slots() const noexcept;

  void set_levels(RawLevel level) { level_ = std::move(level); }
  void set_admit(RawAdmit admit) { admit_ = std::move(admit); }
  /// Whether a done task's result is kept in its record (the default) or only handed on by the
  /// caller of record_attempt (delivered at once, not journaled: a copy per task saved).
  void set_results_kept(bool kept) { results_kept_ = kept; }
  [[nodiscard]] bool results_kept() const noexcept { return results_kept_; }
  /// Each task's expected seconds, asked once as it is added (set it before submitting).
  void set_estimate(RawEstimate estimate) { estimate_ = std::move(estimate); }
  /// Each task's priority and tags, asked once as it is added (set them before submitting). A
  /// task whose tags no rank running tasks has is a UsageError as it is added.
  void set_priority(RawPriority priority) { priority_ = std::move(priority); }
  void set_attempts(RawAttempts attempts) { attempts_ = std::move(attempts); }
  /// The run's clock (seconds since it began): a failed task's retry waits
  /// FarmOptions::retry_backoff x 2^(failures - 1) seconds (at most 60 s) on it.
  void set_now(double seconds) noexcept { now_ = seconds; }
  void set_tags(RawTags tags) { tags_ = std::move(tags); }
  /// The tags of every rank (by rank); set before submitting tasks that need tags.
  void set_rank_tags(std::vector<std::vector<std::string>> tags_by_rank) {
    ready_.set_rank_tags(std::move(tags_by_rank));
  }
  /// When the run must end, on the run's clock (set_now; none: no deadline). A task is started
  /// only if it is expected to finish before then -- its own estimate, else the 90th percentile of
  /// the task times measured so far, else (nothing known) it is started. Tasks that cannot finish
  /// are set aside, unfinished, for a later (resumed) run: past_deadline() counts them.
  void set_deadline(std::optional<double> seconds) noexcept { deadline_ = seconds; }
  /// What task `id` is expected to take now (0 when nothing is known; measured task times are
  /// noted only while a deadline is set).
  [[nodiscard]] double expected_seconds(std::uint64_t id);
  [[nodiscard]] std::uint64_t past_deadline() const noexcept { return past_deadline_; }
  [[nodiscard]] bool has_levels() const noexcept { return static_cast<bool>(level_); }

  /// Adds a task unless its key is known: (its id, whether it is new). Counts nothing.
  std::pair<std::uint64_t, bool> add(std::string key, std::string task);
  /// A submission: as add(), but a known key counts as a duplicate.
  std::uint64_t submit(std::string key, std::string task);
  /// A journal record of an earlier run: a task done there is done here (resumed, its children
  /// known); one that failed for good there is tried afresh.
  void restore(JournalRecord&& record);
  /// Queues every known pending task (or parks them by level and starts the first wave).
  void start();

  /// Whether any task waits for a worker (retries included).
  [[nodiscard]] bool has_queued();
  /// The batches to send now: for each rank that runs tasks, as many batches as its slots and
  /// prefetch depth allow (a batch for rank 0 is the master's own).
  /// After a static split, what is left (retries, emitted tasks) goes round-robin one by one.
  [[nodiscard]] std::vector<PlannedBatch> dispatch();
  /// The book's fixed split of the tasks known now: contiguous blocks, one per rank running tasks.
  [[nodiscard]] std::vector<PlannedBatch> split_statically();
  /// A batch for the master itself when it runs_inline().
  [[nodiscard]] PlannedBatch inline_batch();

  /// One attempt's outcome: `payload` is the result when done, else the message; a failure may
  /// carry a result all the same (`failure_result`, from TaskFailure). Returns true when the task
  /// is finished (done, or failed for good): the caller journals and delivers it. A failure with
  /// attempts left queues a retry; an interruption gives the attempt back and queues the task
  /// first in line (but a task interrupted more than max_interruptions times counts the next
  /// one as a failure, so that a task function that always says "interrupted" cannot loop).
  static constexpr std::uint32_t max_interruptions = 10;
  /// Tasks shorter than this on average are not given to the master while a worker has work:
  /// each batch costs the master a hand-over to its task thread and back, and that thread takes
  /// a core from the dispatching (null tasks would run slower, not faster).
  static constexpr double master_min_task_seconds = 10e-6;
  bool record_attempt(std::uint64_t id, AttemptStatus status, double seconds,
                      std::string_view payload, std::string_view children, int worker,
                      std::string_view failure_result = {});
  /// A results message of `count` tasks that took `seconds` in all came back from `worker`.
  void batch_returned(int worker, std::uint32_t count, double seconds);

  /// Starts the lowest parked wave when nothing is queued or in flight; false when none is left.
  bool start_next_wave();
  [[nodiscard]] std::uint64_t in_flight() const noexcept { return inflight_tasks_; }

  /// Finished tasks ready for delivery in task order, from where the last call stopped: the ids
  /// [first, second) (a range, not a vector: the master asks after every finished task).
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> deliverable_in_order();

  [[nodiscard]] std::size_t size() const noexcept { return tasks_.size(); }
  [[nodiscard]] FarmTask& task(std::uint64_t id) { return tasks_.at(id); }
  [[nodiscard]] const FarmTask& task(std::uint64_t id) const { return tasks_.at(id); }
  [[nodiscard]] FarmTaskDetail& detail(std::uint64_t id) { return details_.at(id); }
  [[nodiscard]] const FarmTaskDetail& detail(std::uint64_t id) const { return details_.at(id); }
  [[nodiscard]] std::uint64_t done() const noexcept { return done_; }
  [[nodiscard]] std::uint64_t failed() const noexcept { return failed_; }
  [[nodiscard]] std::uint64_t retries() const noexcept { return retries_; }
  [[nodiscard]] std::uint64_t interruptions() const noexcept { return interruptions_; }
  [[nodiscard]] std::uint64_t resumed() const noexcept { return resumed_; }
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }
  [[nodiscard]] std::uint64_t unfinished() const;

  /// Tasks per batch: fixed, or sized from measured task times to about batch_seconds (never
  /// more than a fair share of what is queued, so the last batches are small).
  [[nodiscard]] std::size_t batch_size() const;
  /// Batches in flight per worker: deep while batches are short (latency-bound), at most 2 once
  /// a batch is long work, so that near the end no worker sits on a queue of long tasks.
  [[nodiscard]] std::uint32_t prefetch_depth(std::size_t batch) const;

 private:
  /// Whether a task may join the ready queue: pending and not in it already.
  [[nodiscard]] bool queueable(std::uint64_t id) const {
    return queued_[id] == 0 && tasks_[id].state == TaskState::pending;
  }
  void enqueue(std::uint64_t id);
  void admit(FarmTask& task);
  void park(std::uint64_t id);
  void add_children(std::string_view children, bool count_duplicates);
  /// The next retry `worker` may run now, taken out of the retry line.
  std::optional<std::uint64_t> take_retry(int worker);
  /// Whether the task is expected to finish in the time left; if not, sets it aside.
  bool fits_time_left(std::uint64_t id);
  void note_task_time(double seconds);
  /// The 90th percentile of the recent task times (negative: none measured), recomputed only
  /// when asked (a deadline is set) and stale: a null task costs ~100 ns, a sort of 256 times
  /// for every 16th task would double it.
  double typical_seconds();
  /// Fills a batch for `worker` with up to `size` tasks taken from the queues (or `fixed`).
  PlannedBatch plan(int worker, std::size_t size, const std::vector<std::uint64_t>* fixed);

  const FarmOptions& options_;
  std::vector<std::uint32_t> slots_;  // tasks at once, by rank (0: runs none)
  std::vector<int> runners_;          // ranks with slots
  bool inline_ = false;
  std::size_t holders_ = 1;  // batches that can be running or waiting at once, all ranks
  RawLevel level_;
  RawAdmit admit_;
  RawEstimate estimate_;
  RawPriority priority_;
  RawAttempts attempts_;
  double now_ = 0;
  RawTags tags_;
  std::optional<double> deadline_;  // on the run's clock (set_now); the time left is the gap
  std::uint64_t past_deadline_ = 0;
  std::vector<double> recent_times_;  // the last task times (a ring), for the percentile
  std::size_t recent_next_ = 0;
  double typical_seconds_ = -1;  // their 90th percentile (negative: none measured)
  std::uint64_t times_noted_ = 0;
  std::uint64_t typical_noted_ = 0;  // times_noted_ when typical_seconds_ was computed
  bool results_kept_ = true;
  ChunkedVector<FarmTask> tasks_;
  ChunkedVector<FarmTaskDetail> details_;  // by the same id
  std::vector<std::uint8_t> queued_;       // by the same id: 1 while in the ready queue
  // The tasks submitted before the first start(), as runs of one group and priority: that
  // start() queues them without reading a task (unless a journal record may have finished some).
  struct SubmittedRun {
    std::uint64_t first, last;  // first..last-1
    std::uint32_t group;
    std::int32_t priority;
  };
  std::vector<SubmittedRun> submitted_runs_;
  bool submitted_runs_exact_ = true;  // no restore() since: every task in them is pending
  bool started_ = false;
  KeyIndex index_;  // by key, into tasks_
  ReadyQueues ready_;
  std::deque<std::uint64_t> retry_;
  std::map<std::uint32_t, std::vector<std::uint64_t>> parked_;  // tasks of later waves
  std::uint32_t wave_ = 0;
  bool waves_started_ = false;
  std::vector<std::uint32_t> inflight_batches_;  // by rank
  std::uint64_t inflight_tasks_ = 0;
  double mean_task_seconds_ = 0;
  bool timed_ = false;
  std::size_t next_runner_ = 0;  // index into runners_ of the rank served last
  std::uint64_t next_delivery_ = 0;
  std::uint64_t done_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t retries_ = 0;
  std::uint64_t interruptions_ = 0;
  std::uint64_t resumed_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace spmd::detail
