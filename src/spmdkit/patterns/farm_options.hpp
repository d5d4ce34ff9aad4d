#pragma once
// What a task farm (master-worker) can be told, and what it reports. See task_farm.hpp.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace spmd {

class StopRequest;

/// How tasks reach the workers.
enum class Schedule {
  dynamic,        ///< workers pull batches as they finish (load balance; the default)
  static_blocks,  ///< the book's fixed split: the known tasks in one contiguous block per worker
};

/// When the master's callback sees a finished task.
enum class Delivery {
  completion,  ///< as tasks finish
  task_order,  ///< in task order (submission, then emission order), as soon as a prefix is done
};

/// Progress of a run, for a progress line (called on the master a few times a second).
struct FarmStatus {
  std::uint64_t known = 0;   ///< distinct tasks so far (grows when tasks emit tasks)
  std::uint64_t done = 0;    ///< finished successfully (including resumed)
  std::uint64_t failed = 0;  ///< failed for good
  double seconds = 0;        ///< since the run started
};

struct FarmOptions {
  Schedule schedule = Schedule::dynamic;
  /// Most task batches in flight per worker: one running, the others already waiting there, so
  /// a worker never idles for a round trip to the master. Used in full while batches are short
  /// (latency-bound); batches of long work get at most 2, so the end of a run stays balanced.
  std::uint32_t prefetch = 4;
  /// Tasks per batch; 0 = adaptive: sized from measured task times to about `batch_seconds` of
  /// work (tiny tasks go in large batches, long ones alone), and never more than a fair share of
  /// what is left, so the end of a run stays balanced.
  std::uint32_t batch = 0;
  std::uint32_t max_batch = 4096;
  double batch_seconds = 2e-3;
  /// A task that throws is tried again (on another worker where possible) up to this many times
  /// in all, then recorded as failed.
  std::uint32_t max_attempts = 3;
  /// Seconds before a failed task's retry may start, doubled after each failure (at most 60 s):
  /// a flaky resource (a busy file system, a network blip) gets time to recover. 0: at once.
  double retry_backoff = 0;
  Delivery delivery = Delivery::completion;

  /// Tasks each rank runs at once. 1: the task function runs on the rank's main thread between
  /// messages (no threads at all). K > 1: K threads per rank run tasks, for tasks that mostly
  /// wait (commands, I/O) -- the task function must then be safe to call concurrently. MPI stays
  /// on the main thread, so the MPI library need only provide MPI_THREAD_FUNNELED (App's default).
  std::uint32_t slots = 1;
  /// Whether the master runs tasks too, so that N ranks give N task runners (at mpirun -np 2
  /// on a 2-core workstation both cores compute): its slots are threads (even at slots = 1),
  /// and its main thread keeps dispatching, so workers never wait for a task of the master's.
  /// On the master a task function then runs beside the deliver/admit/progress callbacks (on
  /// another thread): it must not touch their state without a lock. Off: the master only
  /// schedules (for tasks that must run on the main thread, or a master with MPI held at
  /// MPI_THREAD_SINGLE). A single rank always runs its tasks itself.
  bool master_runs_tasks = true;
  /// This rank's tags: a task with tags (TaskFarm::tags_by) runs only on ranks that have all of
  /// them (e.g. the ranks on big-memory nodes). Each rank gives its own; collected at the start.
  std::vector<std::string> tags;

  /// Journal directory (see task_journal.hpp); empty: none.
  std::string journal;
  /// Resume from the journal if there is one (else start one). Without it, an existing journal is
  /// an error: it holds an unfinished run's work.
  bool resume = false;
  /// Names the run's parameters; a journal written with another fingerprint is refused.
  std::string fingerprint;
  /// Seconds between journal flushes: a hard kill loses at most this much finished work.
  double journal_interval = 1.0;

  /// When the run must end (a batch job's time limit, less the time to stop): no task is
  /// started that is expected to run past it (its estimate -- TaskFarm::estimate_by -- else the
  /// 90th percentile of the task times so far). Tasks set aside leave the run stopped
  /// (FarmReport::past_deadline), to be resumed in a run with time again.
  std::optional<std::chrono::system_clock::time_point> deadline;

  /// When set and a stop signal arrives (SIGUSR1/SIGTERM), the master stops dispatching, gives
  /// the tasks in flight `stop_grace` seconds to finish, flushes the journal and returns with
  /// FarmReport::stopped (the app then exits with exit_code::requeue).
  const StopRequest* stop = nullptr;
  double stop_grace = 30.0;
  /// After the grace, tasks still running are interrupted (TaskContext::interrupted() turns
  /// true: a command is killed, the task throws TaskInterrupted and stays unfinished, not
  /// failed). The run then waits at most this long for them before it returns without them.
  double interrupt_wait = 5.0;

  /// Called on the master about four times a second, and once at the end.
  std::function<void(const FarmStatus&)> on_progress;
};

struct FarmReport {
  std::uint64_t tasks = 0;          ///< distinct tasks (submitted and emitted, duplicates dropped)
  std::uint64_t done = 0;           ///< finished successfully, including resumed ones
  std::uint64_t failed = 0;         ///< failed after max_attempts
  std::uint64_t resumed = 0;        ///< done by an earlier run (read from the journal)
  std::uint64_t duplicates = 0;     ///< submissions and emissions dropped: their key was known
  std::uint64_t retries = 0;        ///< attempts after a failure
  std::uint64_t unfinished = 0;     ///< not done when a stop request ended the run
  std::uint64_t messages = 0;       ///< task batches sent to workers
  std::uint64_t past_deadline = 0;  ///< not started: expected to run past the deadline
  bool stopped = false;             ///< ended early: a stop request, or tasks left for lack of time
  int workers = 0;  ///< task runners: slots on every rank that runs tasks (master included or not)
  double seconds = 0;                         ///< makespan of this run
  double busy_seconds = 0;                    ///< time spent inside tasks in this run, all workers
  std::vector<std::uint64_t> tasks_per_rank;  ///< tasks run in this run, by rank

  /// Busy time over available worker time: 1 is perfect load balance with no overhead.
  [[nodiscard]] double efficiency() const noexcept {
    return seconds > 0 && workers > 0 ? busy_seconds / (seconds * workers) : 0.0;
  }
};

}  // namespace spmd
