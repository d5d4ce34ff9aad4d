#include "spmdkit/patterns/farm_engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <exception>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <fmt/format.h>

#include "spmdkit/patterns/detail/async_slots.hpp"
#include "spmdkit/patterns/detail/messaging.hpp"
#include "spmdkit/patterns/detail/task_slots.hpp"
#include "spmdkit/runtime/environment.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/stop_request.hpp"
#include "spmdkit/runtime/wire.hpp"

// The protocol, one message per batch (variable sizes: matched probe, MPI_Mprobe/MPI_Mrecv):
//   master -> worker  tag_tasks    u32 n, then n x (u64 id, u32 attempt, bytes task)
//   worker -> master  tag_results  u32 n, then n x (u64 id, u8 status (AttemptStatus), f64
//                                  seconds, bytes result or error, [status failed: bytes of the
//                                  failure's result], children: u64 m, m x (bytes key, bytes task))
//   master -> worker  tag_interrupt  empty: a stop's grace ran out; running tasks are to give up
//                                  (TaskContext::interrupted()), and their batches come back
//   master -> worker  tag_stop     the final report (FarmReport's codec below); the worker
//                                  returns.
// The master is rank 0 of the farm's communicator; ranks 1..P-1 are workers. The master's own
// slots (master_runs_tasks) take their batches through a queue in memory, not messages.
// Termination is exact: emitted tasks travel only with results, so when nothing is queued and no
// batch is out, nothing can appear any more.

template <>
struct spmd::wire::Codec<spmd::FarmReport>
    : spmd::wire::Fields<&FarmReport::tasks, &FarmReport::done, &FarmReport::failed,
                         &FarmReport::resumed, &FarmReport::duplicates, &FarmReport::retries,
                         &FarmReport::unfinished, &FarmReport::messages, &FarmReport::past_deadline,
                         &FarmReport::stopped, &FarmReport::workers, &FarmReport::seconds,
                         &FarmReport::busy_seconds, &FarmReport::tasks_per_rank> {};

namespace spmd::detail {

namespace {

constexpr int tag_tasks = 1;
constexpr int tag_results = 2;
constexpr int tag_stop = 3;
constexpr int tag_interrupt = 4;
constexpr int master_rank = 0;
// Where an attempt's seconds are within its entry of a results message (after id and status).
constexpr std::size_t attempt_seconds_offset = sizeof(std::uint64_t) + sizeof(std::uint8_t);
// What a std::string holds without allocating (its small-string buffer).
const std::size_t inline_string_capacity = std::string().capacity();

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// A cheap reading of a clock that only has to run at a steady rate while a batch runs: the
// processor's time-stamp counter where there is one (~12 ns a read, against ~31 ns for
// steady_clock on the 2-core VM of the benchmarks: a third of a null task's cost on a worker).
std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
#endif
}

void validate(const FarmOptions& options) {
  if (options.prefetch < 1) throw UsageError("task farm: prefetch must be at least 1");
  if (options.max_attempts < 1) throw UsageError("task farm: max_attempts must be at least 1");
  if (options.max_batch < 1) throw UsageError("task farm: max_batch must be at least 1");
  if (!(options.batch_seconds > 0)) throw UsageError("task farm: batch_seconds must be positive");
  if (!(options.journal_interval >= 0))
    throw UsageError("task farm: journal_interval must be >= 0");
  if (!(options.stop_grace >= 0)) throw UsageError("task farm: stop_grace must be >= 0");
  if (!(options.retry_backoff >= 0)) throw UsageError("task farm: retry_backoff must be >= 0");
  if (!(options.interrupt_wait >= 0)) throw UsageError("task farm: interrupt_wait must be >= 0");
  if (options.slots < 1) throw UsageError("task farm: slots must be at least 1");
}

// Threads run tasks beside MPI on the main thread: the MPI library must allow that.
void require_threads_allowed() {
  const Environment* environment = Environment::current();
  if (environment != nullptr && environment->threading() < Threading::funneled) {
    throw UsageError(fmt::format(
        "task farm: slots and master_runs_tasks run tasks on threads, but MPI was initialised "
        "with thread level '{}' (at least 'funneled' is needed; or set "
        "FarmOptions::master_runs_tasks = false and slots = 1)",
        to_string(environment->threading())));
  }
}

}  // namespace

std::string run_batch(std::string_view batch, int worker, const RawWork& work,
                      const std::function<bool()>& interrupted) {
  wire::Reader in(batch);
  const auto count = in.get<std::uint32_t>();
  std::string out;
  // (Exact for 8-byte results without children: id, status, seconds, length, bytes, no children.)
  out.reserve(sizeof(std::uint32_t) + std::size_t{count} * 41);
  wire::CursorWriter w(out);
  w.put(count);
  // One tick reading per task: a task's time runs from the end of the one before (its decoding
  // and its result's encoding included). The ticks go into the message first and become seconds
  // at the end, scaled so that they add up to the batch's time on steady_clock (no calibration,
  // whatever the counter's rate).
  std::vector<std::size_t> seconds_at;  // where each task's time is in `out`
  seconds_at.reserve(count);
  const auto batch_start = Clock::now();
  std::uint64_t start = ticks();
  std::uint64_t batch_ticks = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto id = in.get<std::uint64_t>();
    const auto attempt = in.get<std::uint32_t>();
    const std::string_view task = in.view(in.size());
    RawTaskContext context(worker, attempt, interrupted);
    std::string payload;
    std::string failure_result;
    AttemptStatus status = AttemptStatus::done;
    try {
      payload = work(task, context);
    } catch (const TaskInterrupted& e) {
      status = AttemptStatus::interrupted;
      payload = e.what();
    } catch (const RawTaskFailure& e) {
      status = AttemptStatus::failed;
      payload = e.what();
      failure_result = e.result();
    } catch (const std::exception& e) {
      status = AttemptStatus::failed;
      payload = e.what();
    } catch (...) {
      status = AttemptStatus::failed;
      payload = "unknown exception (not derived from std::exception)";
    }
    const std::uint64_t end = ticks();
    // (A thread moved to a core whose counter is behind: that task counts as no time.)
    const std::uint64_t elapsed = end > start ? end - start : 0;
    batch_ticks += elapsed;
    start = end;
    // Only a task that finished emits: a failed or interrupted one's emissions do not count.
    if (status != AttemptStatus::done) context.children().clear();
    seconds_at.push_back(w.position() + attempt_seconds_offset);
    put_attempt(w, id, status, static_cast<double>(elapsed), payload, failure_result,
                context.children());
  }
  w.finish();
  const double batch_seconds = seconds_between(batch_start, Clock::now());
  // (A counter that did not move: the batch's time shared out evenly.)
  const double per_tick = batch_ticks > 0 ? batch_seconds / static_cast<double>(batch_ticks) : 0;
  for (const std::size_t at : seconds_at) {
    double seconds = 0;
    std::memcpy(&seconds, out.data() + at, sizeof seconds);
    seconds = batch_ticks > 0 ? seconds * per_tick : batch_seconds / count;
    std::memcpy(out.data() + at, &seconds, sizeof seconds);
  }
  return out;
}

void put_attempt(wire::CursorWriter& out, std::uint64_t id, AttemptStatus status, double seconds,
                 std::string_view payload, std::string_view failure_result,
                 const std::vector<std::pair<std::string, std::string>>& children) {
  out.put(id);
  out.put(static_cast<std::uint8_t>(status));
  static_assert(attempt_seconds_offset == sizeof id + sizeof(std::uint8_t));
  out.put(seconds);
  out.size(payload.size());
  out.bytes(payload.data(), payload.size());
  if (status == AttemptStatus::failed) {
    out.size(failure_result.size());
    out.bytes(failure_result.data(), failure_result.size());
  }
  if (children.empty()) {
    out.size(0);  // (most tasks emit none: no codec call)
  } else {
    out.put(children);
  }
}

namespace {

// A rank's runner of batches beside its main thread: K asynchronous tasks on one thread when
// the work is asynchronous and K > 1, else K threads.
std::unique_ptr<BatchRunner> make_runner(const RawWork& work, RawAsyncWork* async, int rank,
                                         std::uint32_t slots,
                                         const std::function<bool()>& interrupted) {
  if (async != nullptr && slots > 1) {
    return std::make_unique<AsyncSlots>(*async, rank, slots, interrupted);
  }
  return std::make_unique<TaskSlots>(work, rank, slots, interrupted);
}

// An asynchronous task run to its end on the calling thread (one slot: one at a time).
RawWork run_to_end(RawAsyncWork& async) {
  return [&async](std::string_view bytes, RawTaskContext& context) -> std::string {
    auto task = std::make_shared<RawAsyncTask>();
    task->task = std::string(bytes);
    task->attempt = context.attempt();
    task->worker = context.worker();
    async.start(task);
    while (!task->settled) {
      if (context.interrupted()) {
        async.cancel();
        throw TaskInterrupted("interrupted: the run is ending");
      }
      async.poll(std::chrono::milliseconds(20));
    }
    switch (task->status) {
      case AttemptStatus::done:
        for (auto& [key, child] : task->children) context.emit(std::move(key), std::move(child));
        return std::move(task->payload);
      case AttemptStatus::interrupted: throw TaskInterrupted(task->payload);
      case AttemptStatus::failed: break;
    }
    throw RawTaskFailure(task->payload, std::move(task->failure_result));
  };
}

}  // namespace

FarmEngine::FarmEngine(const Comm& comm, FarmOptions options)
    : comm_(comm.duplicate()),
      rank_(comm_.rank()),
      options_(std::move(options)),
      scheduler_(options_, comm_.size() - 1) {
  validate(options_);
  if (options_.slots > 1 || (options_.master_runs_tasks && comm_.size() > 1)) {
    require_threads_allowed();
  }
  // Every rank's tags, for routing tagged tasks (one small gather, at the start only).
  std::string mine;
  wire::Writer(mine).put(options_.tags);
  const std::string all = comm_.gather_bytes(mine, master_rank);
  if (is_master()) {
    wire::Reader in(all);
    std::vector<std::vector<std::string>> tags_by_rank;
    tags_by_rank.reserve(static_cast<std::size_t>(comm_.size()));
    for (int rank = 0; rank < comm_.size(); ++rank) {
      tags_by_rank.push_back(in.get<std::vector<std::string>>());
    }
    scheduler_.set_rank_tags(std::move(tags_by_rank));
  }
  if (!options_.journal.empty() && is_master()) {
    journal_.emplace(options_.journal, options_.fingerprint);
  }
}

FarmEngine::~FarmEngine() = default;

std::uint64_t FarmEngine::submit(std::string key, std::string task) {
  if (!is_master()) return 0;
  return scheduler_.submit(std::move(key), std::move(task));
}

// The master's side of one run: moves the batches the scheduler plans and the results that come
// back, journals and delivers finished tasks, and ends the run (all done, or a stop request).
class FarmEngine::Master {
 public:
  Master(FarmEngine& farm, const RawWork& work, RawAsyncWork* async, const RawDeliver& deliver,
         std::vector<JournalRecord> loaded)
      : loaded_(std::move(loaded)),
        farm_(farm),
        scheduler_(farm.scheduler_),
        options_(farm.options_),
        work_(work),
        async_(async),
        deliver_(deliver),
        workers_(farm.comm_.size() - 1),
        sends_(farm.comm_) {
    report_.workers = scheduler_.task_slots();
    report_.tasks_per_rank.assign(static_cast<std::size_t>(farm.comm_.size()), 0);
  }

  // Leaving by an exception: the master's own running tasks are told to give up, not awaited.
  ~Master() { interrupt_.store(true); }
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;

  FarmReport run() {
    start_ = Clock::now();
    if (options_.deadline) {
      // On the run's own (steady) clock: read once, immune to the wall clock being set later.
      scheduler_.set_deadline(
          std::chrono::duration<double>(*options_.deadline - std::chrono::system_clock::now())
              .count());
    }
    const auto& runners = scheduler_.runners();
    if (!scheduler_.runs_inline() && !runners.empty() && runners.front() == master_rank) {
      slots_ = make_runner(work_, async_, master_rank, options_.slots, interrupted_);
    }
    last_flush_ = last_progress_ = start_;
    try {
      for (JournalRecord& record : loaded_) scheduler_.restore(std::move(record));
      loaded_.clear();
      // Results wait in the task records only for a later delivery (in task order) or a
      // journal; delivered on completion, they go from the message to the callback.
      scheduler_.set_results_kept(options_.delivery == Delivery::task_order ||
                                  farm_.journal_.has_value());
      scheduler_.start();
      deliver_resumed();
    } catch (const wire::DecodeError& e) {
      // A journal whose HDF5 reads back but whose task or result bytes do not decode (a disk
      // error, another program's journal with the same name) is bad input like any damage.
      if (!farm_.journal_) throw;
      throw UsageError(fmt::format("the journal {} is damaged ({}): remove it to start afresh",
                                   farm_.journal_->directory().string(), e.what()));
    }
    if (options_.schedule == Schedule::static_blocks) send(scheduler_.split_statically());

    Backoff backoff;
    bool stopping = false;
    bool interrupting = false;
    Clock::time_point stop_deadline{};
    while (true) {
      scheduler_.set_now(seconds_between(start_, Clock::now()));
      if (!stopping && stop_requested()) {
        stopping = true;
        stop_deadline = Clock::now() + seconds_from(options_.stop_grace);
      }
      if (!stopping) send(scheduler_.dispatch());
      bool progressed = false;
      if (scheduler_.runs_inline()) {
        // (Queued but nothing to run yet: a retry waiting for its backoff.)
        if (!stopping && scheduler_.has_queued()) progressed = run_inline();
      }
      if (slots_) {
        for (const std::string& results : slots_->take_results()) {
          handle_results(results, master_rank);
          progressed = true;
        }
      }
      if (workers_ > 0) {
        if (comm().receive_if_arrived(results_, MPI_ANY_SOURCE, tag_results)) {
          handle_results(results_.bytes, results_.source);
          progressed = true;
        }
      }
      const auto now = Clock::now();
      maybe_flush(now);
      maybe_report_progress(now, false);
      sends_.progress();
      const bool idle = scheduler_.in_flight() == 0;
      if (idle && !stopping && !scheduler_.has_queued() && scheduler_.start_next_wave()) continue;
      if (idle && (stopping || !scheduler_.has_queued())) break;
      if (stopping && !interrupting && now > stop_deadline) {
        // The grace ran out: running tasks are told to give up; their batches still come back
        // (as interrupted: unfinished, not failed) unless they ignore it for interrupt_wait.
        interrupting = true;
        interrupt_.store(true);
        for (int worker = 1; worker <= workers_; ++worker) {
          sends_.send(worker, tag_interrupt, std::string());
        }
        stop_deadline = now + seconds_from(options_.interrupt_wait);
      } else if (interrupting && now > stop_deadline) {
        break;  // tasks that ignore the interruption are left behind
      }
      if (progressed) {
        backoff.reset();
      } else {
        backoff.idle();
      }
    }

    if (slots_) {
      interrupt_.store(true);  // the master's own slots: what still runs is left behind
      slots_.reset();
    }
    if (farm_.journal_) farm_.journal_->flush();
    report_.past_deadline = scheduler_.past_deadline();
    report_.stopped = stopping || (report_.past_deadline > 0 && scheduler_.unfinished() > 0);
    report_.seconds = seconds_between(start_, Clock::now());
    report_.tasks = scheduler_.size();
    report_.duplicates = scheduler_.duplicates();
    report_.done = scheduler_.done();
    report_.failed = scheduler_.failed();
    report_.resumed = scheduler_.resumed();
    report_.retries = scheduler_.retries();
    report_.unfinished = scheduler_.unfinished();
    maybe_report_progress(Clock::now(), true);
    const std::string final_report = wire::encode(report_);
    for (int worker = 1; worker <= workers_; ++worker) sends_.send(worker, tag_stop, final_report);
    // Workers receive everything before the stop message; only a worker still inside a task
    // after the stop grace would not, and then the job is ending anyway.
    sends_.wait_all(Clock::now() + std::chrono::seconds(stopping ? 1 : 60));
    return report_;
  }

 private:
  [[nodiscard]] const Comm& comm() const { return farm_.comm_; }

  static Clock::duration seconds_from(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  [[nodiscard]] bool stop_requested() const {
    return options_.stop != nullptr && options_.stop->requested_here();
  }

  // A task the master runs inline (single rank) is interrupted once a stop request's grace ran
  // out (the master loop cannot say so while the task runs).
  [[nodiscard]] bool inline_interrupted() {
    if (interrupt_.load()) return true;
    if (!stop_requested()) return false;
    const auto now = Clock::now();
    if (!inline_stop_seen_) inline_stop_seen_ = now;
    if (now - *inline_stop_seen_ > seconds_from(options_.stop_grace)) interrupt_.store(true);
    return interrupt_.load();
  }

  void deliver_resumed() {
    if (options_.delivery == Delivery::task_order) {
      deliver_in_order();
      return;
    }
    // (Nothing resumed, nothing to look for: a pass over a million records was ~8% of a run.)
    if (scheduler_.resumed() == 0) return;
    for (std::uint64_t id = 0; id < scheduler_.size(); ++id) {
      if (scheduler_.task(id).resumed) deliver(id);
    }
  }

  // The tasks message (see the protocol above): count, then id, attempt, length, bytes per task,
  // in `message` (empty; a spare buffer of the send queue when one is).
  [[nodiscard]] std::string encode_batch(const PlannedBatch& batch, std::string message = {}) {
    message.reserve(sizeof(std::uint32_t) + batch.ids.size() * 28);  // exact for 8-byte tasks
    wire::CursorWriter out(message);
    out.put(static_cast<std::uint32_t>(batch.ids.size()));
    for (const std::uint64_t id : batch.ids) {
      const FarmTask& t = scheduler_.task(id);
      out.put(id);
      out.put(t.attempts);
      out.size(t.task.size());
      out.bytes(t.task.data(), t.task.size());
    }
    out.finish();
    return message;
  }

  void send(const std::vector<PlannedBatch>& batches) {
    for (const PlannedBatch& batch : batches) {
      if (batch.worker == master_rank) {
        slots_->submit(encode_batch(batch));
        continue;
      }
      ++report_.messages;
      sends_.send(batch.worker, tag_tasks, encode_batch(batch, sends_.buffer()));
    }
  }

  // Runs the next batch on this thread; false when none was due.
  bool run_inline() {
    const PlannedBatch batch = scheduler_.inline_batch();
    if (batch.ids.empty()) return false;
    const std::function<bool()> interrupted = [this] { return inline_interrupted(); };
    const std::string results = run_batch(encode_batch(batch), master_rank, work_, interrupted);
    handle_results(results, master_rank);
    return true;
  }

  void handle_results(std::string_view message, int worker) {
    wire::Reader in(message);
    const auto count = in.get<std::uint32_t>();
    double batch_seconds = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto id = in.get<std::uint64_t>();
      const auto status = static_cast<AttemptStatus>(in.get<std::uint8_t>());
      const auto seconds = in.get<double>();
      const std::string_view payload = in.view(in.size());
      const std::string_view failure_result =
          status == AttemptStatus::failed ? in.view(in.size()) : std::string_view();
      const std::size_t children_from = message.size() - in.remaining();
      const std::size_t children = in.size();
      for (std::size_t c = 0; c < children; ++c) {
        (void)in.view(in.size());
        (void)in.view(in.size());
      }
      // (Most tasks emit none: an empty list is passed as no bytes, not parsed again.)
      const std::string_view children_bytes =
          children == 0
              ? std::string_view()
              : message.substr(children_from, message.size() - in.remaining() - children_from);
      batch_seconds += seconds;
      if (scheduler_.record_attempt(id, status, seconds, payload, children_bytes, worker,
                                    failure_result)) {
        // A done task's result is where the message holds it unless the record keeps it.
        const bool from_message = status == AttemptStatus::done && !scheduler_.results_kept();
        finish(id, from_message ? payload : std::string_view(scheduler_.task(id).result));
      }
    }
    report_.busy_seconds += batch_seconds;
    report_.tasks_per_rank[static_cast<std::size_t>(worker)] += count;
    scheduler_.batch_returned(worker, count, batch_seconds);
  }

  // A task finished for good (done, or failed after its last attempt): journaled, delivered.
  // `result`: its result (or what its failure carried).
  void finish(std::uint64_t id, std::string_view result) {
    if (farm_.journal_) {
      const FarmTask& t = scheduler_.task(id);
      const FarmTaskDetail& d = scheduler_.detail(id);
      farm_.journal_->add({d.key, t.task, std::string(result), d.error, d.children, t.state,
                           t.attempts, t.worker, t.seconds});
    }
    if (options_.delivery == Delivery::completion) {
      deliver(id, result);
    } else {
      deliver_in_order();
    }
  }

  void deliver(std::uint64_t id) { deliver(id, scheduler_.task(id).result); }
  void deliver(std::uint64_t id, std::string_view result) {
    FarmTask& t = scheduler_.task(id);
    // One outcome object, refilled: value-initialising a fresh one per task (a rep stos) was a
    // tenth of a null task's cost on the master.
    RawOutcome& outcome = outcome_;
    outcome.id = id;
    outcome.task = t.task;
    outcome.result = result;
    outcome.state = t.state;
    outcome.attempts = t.attempts;
    outcome.worker = t.worker;
    outcome.seconds = t.seconds;
    outcome.resumed = t.resumed;
    // The task's detail only when it holds something (an error, emitted tasks): a second array
    // streamed through for every delivery would cost what the hot/cold split saved.
    FarmTaskDetail* detail = nullptr;
    if (t.failed_before || t.emitted) {
      detail = &scheduler_.detail(id);
      outcome.error = detail->error;
    } else {
      outcome.error = {};
    }
    deliver_(outcome);
    // Delivered: the result and the task's children list are not needed any more. A result
    // within the string's own buffer is only cleared (a swap is a call into libstdc++ per task).
    if (t.result.capacity() > inline_string_capacity) {
      std::string().swap(t.result);
    } else {
      t.result.clear();
    }
    if (detail != nullptr) std::string().swap(detail->children);
  }

  void deliver_in_order() {
    const auto [first, last] = scheduler_.deliverable_in_order();
    for (std::uint64_t id = first; id < last; ++id) deliver(id);
  }

  void maybe_flush(Clock::time_point now) {
    if (!farm_.journal_ || farm_.journal_->pending() == 0) return;
    if (seconds_between(last_flush_, now) < options_.journal_interval) return;
    farm_.journal_->flush();
    last_flush_ = now;
  }

  void maybe_report_progress(Clock::time_point now, bool last) {
    if (!options_.on_progress) return;
    if (!last && seconds_between(last_progress_, now) < 0.25) return;
    last_progress_ = now;
    options_.on_progress(
        {scheduler_.size(), scheduler_.done(), scheduler_.failed(), seconds_between(start_, now)});
  }

  std::vector<JournalRecord> loaded_;
  FarmEngine& farm_;
  FarmScheduler& scheduler_;
  const FarmOptions& options_;
  const RawWork& work_;
  RawAsyncWork* async_;
  const RawDeliver& deliver_;
  int workers_;
  FarmReport report_;
  SendQueue sends_;
  Clock::time_point start_, last_flush_, last_progress_;
  std::atomic<bool> interrupt_{false};
  std::optional<Clock::time_point> inline_stop_seen_;
  const std::function<bool()> interrupted_ = [this] { return interrupt_.load(); };
  std::unique_ptr<BatchRunner> slots_;  // the master's own, when it runs tasks beside dispatching
  RawOutcome outcome_;                  // the one handed to deliver_ (views into the task)
  Message results_;                     // the last results message (its buffer reused)
};

FarmReport FarmEngine::run(const RawWork& work, const RawDeliver& deliver) {
  return run_with(work, nullptr, deliver);
}

FarmReport FarmEngine::run_async(RawAsyncWork& work, const RawDeliver& deliver) {
  const RawWork one_at_a_time = run_to_end(work);
  return run_with(one_at_a_time, &work, deliver);
}

FarmReport FarmEngine::run_with(const RawWork& work, RawAsyncWork* async,
                                const RawDeliver& deliver) {
  // The master prepares the journal; its verdict goes to every rank, so a refused journal is the
  // same error everywhere instead of workers waiting for a master that gave up.
  std::vector<JournalRecord> loaded;
  std::exception_ptr refused;
  std::string message;
  if (is_master() && journal_) {
    try {
      if (options_.resume) {
        // Resuming adds segments after the loaded ones; nothing on disk is rewritten.
        loaded = journal_->load();
      } else {
        journal_->start(false);
      }
    } catch (const std::exception& e) {
      refused = std::current_exception();
      message = e.what();
    }
  }
  comm_.throw_first_failure(refused, std::move(message));
  if (is_master()) return Master(*this, work, async, deliver, std::move(loaded)).run();
  return run_worker(work, async);
}

FarmReport FarmEngine::run_worker(const RawWork& work, RawAsyncWork* async) {
  std::deque<std::string> queue;
  SendQueue sends(comm_);
  Backoff backoff;
  std::optional<std::string> final_report;
  std::atomic<bool> interrupt{false};
  // One slot: tasks run on this thread, which is the only one to see an interruption arrive,
  // so a task asking for it looks for the message; more slots: the loop below sees it.
  const std::function<bool()> interrupted_inline = [&] {
    if (!interrupt.load() && comm_.receive_if_arrived(master_rank, tag_interrupt)) {
      interrupt.store(true);
    }
    return interrupt.load();
  };
  const std::function<bool()> interrupted_threads = [&] { return interrupt.load(); };
  std::unique_ptr<BatchRunner> slots;
  if (options_.slots > 1) {
    slots = make_runner(work, async, comm_.rank(), options_.slots, interrupted_threads);
  }
  try {
    while (!final_report) {
      // Take in everything that has arrived: prefetched batches, an interruption, or the end.
      bool progressed = false;
      while (auto message = comm_.receive_if_arrived(master_rank)) {
        progressed = true;
        if (message->tag == tag_stop) {
          final_report = std::move(message->bytes);
          break;
        }
        if (message->tag == tag_interrupt) {
          interrupt.store(true);
        } else if (slots) {
          slots->submit(std::move(message->bytes));
        } else {
          queue.push_back(std::move(message->bytes));
        }
      }
      if (final_report) break;
      if (slots) {
        for (std::string& results : slots->take_results()) {
          sends.send(master_rank, tag_results, std::move(results));
          progressed = true;
        }
      } else if (!queue.empty()) {
        std::string results = run_batch(queue.front(), comm_.rank(), work, interrupted_inline);
        queue.pop_front();
        sends.send(master_rank, tag_results, std::move(results));
        progressed = true;
      }
      sends.progress();
      if (progressed) {
        backoff.reset();
      } else {
        backoff.idle();
      }
    }
  } catch (...) {
    interrupt.store(true);  // the slots' running tasks are told to give up, not awaited
    throw;
  }
  interrupt.store(true);  // tasks still running on slots were left behind by the master
  slots.reset();
  sends.wait_all(Clock::now() + std::chrono::seconds(10));
  return wire::decode<FarmReport>(*final_report);
}

}  // namespace spmd::detail
