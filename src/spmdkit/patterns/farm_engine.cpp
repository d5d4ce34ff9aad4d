#include "spmdkit/patterns/farm_engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <exception>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "spmdkit/patterns/detail/messaging.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/stop_request.hpp"
#include "spmdkit/runtime/wire.hpp"

// The protocol, one message per batch (variable sizes: matched probe, MPI_Mprobe/MPI_Mrecv):
//   master -> worker  tag_tasks    u32 n, then n x (u64 id, u32 attempt, bytes task)
//   worker -> master  tag_results  u32 n, then n x (u64 id, u8 ok, f64 seconds, bytes result or
//                                  error, children: u64 m, m x (bytes key, bytes task))
//   master -> worker  tag_stop     the final report; the worker returns.
// The master is rank 0 of the farm's communicator; ranks 1..P-1 are workers. Termination is
// exact: emitted tasks travel only with results, so when nothing is queued and no batch is out,
// nothing can appear any more.

namespace spmd::detail {

namespace {

constexpr int tag_tasks = 1;
constexpr int tag_results = 2;
constexpr int tag_stop = 3;
constexpr int master_rank = 0;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string encode_report(const FarmReport& r) {
  std::string out;
  wire::Writer w(out);
  w.put(r.tasks);
  w.put(r.done);
  w.put(r.failed);
  w.put(r.resumed);
  w.put(r.duplicates);
  w.put(r.retries);
  w.put(r.unfinished);
  w.put(r.messages);
  w.put(static_cast<std::uint8_t>(r.stopped));
  w.put(r.workers);
  w.put(r.seconds);
  w.put(r.busy_seconds);
  w.put(r.tasks_per_rank);
  return out;
}

FarmReport decode_report(std::string_view bytes) {
  FarmReport r;
  wire::Reader in(bytes);
  in.get(r.tasks);
  in.get(r.done);
  in.get(r.failed);
  in.get(r.resumed);
  in.get(r.duplicates);
  in.get(r.retries);
  in.get(r.unfinished);
  in.get(r.messages);
  r.stopped = in.get<std::uint8_t>() != 0;
  in.get(r.workers);
  in.get(r.seconds);
  in.get(r.busy_seconds);
  in.get(r.tasks_per_rank);
  return r;
}

// Calls fn(key, task) for each (key, task) of a wire-encoded children list.
template <class Fn>
void for_each_child(std::string_view children, Fn&& fn) {
  wire::Reader in(children);
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::string key(in.view(in.size()));
    std::string task(in.view(in.size()));
    fn(std::move(key), std::move(task));
  }
}

void validate(const FarmOptions& o) {
  if (o.prefetch < 1) throw UsageError("task farm: prefetch must be at least 1");
  if (o.max_attempts < 1) throw UsageError("task farm: max_attempts must be at least 1");
  if (o.max_batch < 1) throw UsageError("task farm: max_batch must be at least 1");
  if (!(o.batch_seconds > 0)) throw UsageError("task farm: batch_seconds must be positive");
  if (!(o.journal_interval >= 0)) throw UsageError("task farm: journal_interval must be >= 0");
  if (!(o.stop_grace >= 0)) throw UsageError("task farm: stop_grace must be >= 0");
}

}  // namespace

std::string run_batch(std::string_view batch, int worker, const RawWork& work, double& busy_seconds,
                      std::uint64_t& tasks) {
  wire::Reader in(batch);
  const auto count = in.get<std::uint32_t>();
  std::string out;
  wire::Writer w(out);
  w.put(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto id = in.get<std::uint64_t>();
    const auto attempt = in.get<std::uint32_t>();
    const std::string_view task = in.view(in.size());
    RawTaskContext context(worker, attempt);
    std::string payload;
    std::uint8_t ok = 1;
    const auto start = Clock::now();
    try {
      payload = work(task, context);
    } catch (const std::exception& e) {
      ok = 0;
      payload = e.what();
    } catch (...) {
      ok = 0;
      payload = "unknown exception (not derived from std::exception)";
    }
    const double seconds = seconds_between(start, Clock::now());
    busy_seconds += seconds;
    ++tasks;
    w.put(id);
    w.put(ok);
    w.put(seconds);
    w.size(payload.size());
    w.bytes(payload.data(), payload.size());
    if (ok == 0) context.children().clear();  // a failed task's emissions do not count
    w.put(context.children());
  }
  return out;
}

struct FarmEngine::Slot {
  std::string key;
  std::string task;
  std::string result;
  std::string error;
  std::string children;  // wire-encoded (key, task) pairs, kept for the journal
  TaskState state = TaskState::pending;
  std::uint32_t attempts = 0;
  int worker = -1;
  double seconds = 0;
  bool resumed = false;
  bool queued = false;
};

FarmEngine::FarmEngine(const Comm& comm, FarmOptions options)
    : comm_(comm.duplicate()), options_(std::move(options)) {
  validate(options_);
  if (!options_.journal.empty() && is_master()) {
    journal_.emplace(options_.journal, options_.fingerprint);
  }
}

FarmEngine::~FarmEngine() = default;

std::pair<std::uint64_t, bool> FarmEngine::add(std::string key, std::string task) {
  if (const auto it = index_.find(key); it != index_.end()) return {it->second, false};
  const std::uint64_t id = slots_.size();
  index_.emplace(key, id);
  Slot& slot = slots_.emplace_back();
  slot.key = std::move(key);
  slot.task = std::move(task);
  return {id, true};
}

std::uint64_t FarmEngine::submit(std::string key, std::string task) {
  if (!is_master()) return 0;
  const auto [id, added] = add(std::move(key), std::move(task));
  if (!added) ++duplicates_;
  return id;
}

// The master's side of one run.
class FarmEngine::Master {
 public:
  Master(FarmEngine& farm, const RawWork& work, const RawDeliver& deliver,
         std::vector<JournalRecord> loaded)
      : loaded_(std::move(loaded)),
        farm_(farm),
        options_(farm.options_),
        work_(work),
        deliver_(deliver),
        workers_(farm.comm_.size() - 1),
        inflight_batches_(static_cast<std::size_t>(farm.comm_.size()), 0),
        sends_(farm.comm_) {
    report_.workers = std::max(workers_, 1);
    report_.tasks_per_rank.assign(static_cast<std::size_t>(farm.comm_.size()), 0);
  }

  FarmReport run() {
    start_ = Clock::now();
    last_flush_ = last_progress_ = start_;
    try {
      open_journal();
      if (farm_.level_) {
        for (std::uint64_t id = 0; id < slots().size(); ++id) park(id);
        start_next_wave();
      } else {
        for (std::uint64_t id = 0; id < slots().size(); ++id) enqueue(id);
      }
      deliver_resumed();
    } catch (const wire::DecodeError& e) {
      // A journal whose HDF5 reads back but whose task or result bytes do not decode (a disk
      // error, another program's journal with the same name) is bad input like any damage.
      if (!farm_.journal_) throw;
      throw UsageError(fmt::format("the journal {} is damaged ({}): remove it to start afresh",
                                   farm_.journal_->directory().string(), e.what()));
    }
    if (options_.schedule == Schedule::static_blocks && workers_ > 0) split_statically();

    Backoff backoff;
    bool stopping = false;
    Clock::time_point stop_deadline{};
    while (true) {
      if (!stopping && options_.stop != nullptr && options_.stop->requested_here()) {
        stopping = true;
        stop_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options_.stop_grace));
      }
      if (!stopping) dispatch();
      bool progressed = false;
      if (workers_ == 0) {
        if (!stopping && has_queued()) {
          run_inline();
          progressed = true;
        }
      } else if (auto message = comm().receive_if_arrived(MPI_ANY_SOURCE, tag_results)) {
        handle_results(message->bytes, message->source);
        progressed = true;
      }
      const auto now = Clock::now();
      maybe_flush(now);
      maybe_report_progress(now, false);
      sends_.progress();
      if (inflight_tasks_ == 0 && !stopping && !has_queued() && start_next_wave()) continue;
      if (inflight_tasks_ == 0 && (stopping || !has_queued())) break;
      if (stopping && now > stop_deadline) break;  // in-flight tasks ran out of grace
      if (progressed) {
        backoff.reset();
      } else {
        backoff.idle();
      }
    }

    if (farm_.journal_) farm_.journal_->flush();
    report_.stopped = stopping;
    report_.seconds = seconds_between(start_, Clock::now());
    report_.tasks = slots().size();
    report_.duplicates = farm_.duplicates_;
    report_.done = done_;
    report_.failed = failed_;
    for (const Slot& slot : slots()) {
      if (slot.state == TaskState::pending) ++report_.unfinished;
    }
    maybe_report_progress(Clock::now(), true);
    const std::string final_report = encode_report(report_);
    for (int worker = 1; worker <= workers_; ++worker) sends_.send(worker, tag_stop, final_report);
    // Workers receive everything before the stop message; only a worker still inside a task
    // after the stop grace would not, and then the job is ending anyway.
    sends_.wait_all(Clock::now() + std::chrono::seconds(stopping ? 1 : 60));
    return report_;
  }

 private:
  [[nodiscard]] const Comm& comm() const { return farm_.comm_; }
  [[nodiscard]] std::vector<Slot>& slots() { return farm_.slots_; }

  void enqueue(std::uint64_t id) {
    Slot& slot = slots()[id];
    if (slot.state != TaskState::pending || slot.queued) return;
    if (farm_.admit_ && !farm_.level_) admit(slot);
    slot.queued = true;
    ready_.push_back(id);
  }

  void admit(Slot& slot) {
    std::string admitted = farm_.admit_(slot.task);
    if (!admitted.empty() && slot.state == TaskState::pending) slot.task = std::move(admitted);
  }

  // With levels: a task waits for its wave (or joins the current one if it is not deeper).
  void park(std::uint64_t id) {
    const std::uint32_t level = farm_.level_(slots()[id].task);
    if (waves_started_ && level <= wave_) {
      if (farm_.admit_) admit(slots()[id]);
      enqueue(id);
    } else {
      parked_[level].push_back(id);
    }
  }

  // Starts the lowest parked wave: every task of it in key order through admission, the pending
  // ones queued. Returns false when no wave is left.
  bool start_next_wave() {
    if (!farm_.level_ || parked_.empty()) return false;
    auto wave = parked_.begin();
    wave_ = wave->first;
    waves_started_ = true;
    std::vector<std::uint64_t> ids = std::move(wave->second);
    parked_.erase(wave);
    std::sort(ids.begin(), ids.end(),
              [&](std::uint64_t a, std::uint64_t b) { return slots()[a].key < slots()[b].key; });
    for (const std::uint64_t id : ids) {
      if (farm_.admit_) admit(slots()[id]);
      enqueue(id);
    }
    return true;
  }

  [[nodiscard]] bool has_queued() {
    while (!ready_.empty() && slots()[ready_.front()].state != TaskState::pending) {
      ready_.pop_front();
    }
    return !ready_.empty() || !retry_.empty();
  }

  void open_journal() {
    for (JournalRecord& record : loaded_) apply_journal_record(std::move(record));
    loaded_.clear();
  }

  void apply_journal_record(JournalRecord&& record) {
    // Journal records are not submissions: a known key is not counted as a duplicate.
    const std::uint64_t id = farm_.add(record.key, record.task).first;
    Slot& slot = slots()[id];
    if (slot.state == TaskState::done) return;  // an older record of a task done later
    if (record.state == TaskState::done) {
      slot.state = TaskState::done;
      slot.result = std::move(record.result);
      slot.children = std::move(record.children);
      slot.attempts = record.attempts;
      slot.worker = record.worker;
      slot.seconds = record.seconds;
      slot.resumed = true;
      ++done_;
      ++report_.resumed;
      for_each_child(slot.children, [&](std::string key, std::string task) {
        farm_.add(std::move(key), std::move(task));
      });
    }
    // A task that failed for good in the earlier run is tried afresh.
  }

  void deliver_resumed() {
    if (options_.delivery == Delivery::task_order) {
      deliver_in_order();
      return;
    }
    for (std::uint64_t id = 0; id < slots().size(); ++id) {
      if (slots()[id].resumed) deliver(id);
    }
  }

  void split_statically() {
    // The book's fixed split: the tasks known now, in contiguous blocks, one message per worker.
    std::vector<std::uint64_t> known(ready_.begin(), ready_.end());
    ready_.clear();
    const auto n = known.size();
    const auto w = static_cast<std::size_t>(workers_);
    std::size_t begin = 0;
    for (std::size_t k = 0; k < w; ++k) {
      const std::size_t end = begin + n / w + (k < n % w ? 1 : 0);
      std::vector<std::uint64_t> block(known.begin() + static_cast<std::ptrdiff_t>(begin),
                                       known.begin() + static_cast<std::ptrdiff_t>(end));
      if (!block.empty()) send_batch(static_cast<int>(k) + 1, block);
      begin = end;
    }
  }

  [[nodiscard]] std::size_t batch_size() const {
    if (options_.batch > 0) return options_.batch;
    if (!timed_) return 1;  // nothing measured yet: a long task must not take others along
    const double per_task = std::max(mean_task_seconds_, 1e-9);
    auto size = static_cast<std::size_t>(options_.batch_seconds / per_task);
    size = std::clamp<std::size_t>(size, 1, options_.max_batch);
    // Never more than a fair share of what is queued, so the last batches are small.
    const std::size_t queued = ready_.size() + retry_.size();
    const std::size_t holders =
        static_cast<std::size_t>(std::max(workers_, 1)) * (options_.prefetch + 1);
    return std::min(size, std::max<std::size_t>(1, queued / holders));
  }

  // Batches in flight per worker: deep while batches are short (latency-bound: keep the pipe
  // full), at most 2 once a batch is long work (one running, one waiting), so that near the end
  // no worker sits on a queue of long tasks while others idle.
  [[nodiscard]] std::uint32_t prefetch_depth(std::size_t batch) const {
    const double batch_work = mean_task_seconds_ * static_cast<double>(batch);
    if (timed_ && batch_work < 200e-6) return options_.prefetch;
    return std::min<std::uint32_t>(options_.prefetch, 2);
  }

  // Takes the next task for `worker`: retries first, each on a worker other than the one where it
  // failed (unless there is only one).
  std::optional<std::uint64_t> take(int worker) {
    for (auto it = retry_.begin(); it != retry_.end(); ++it) {
      if (slots()[*it].worker != worker || workers_ <= 1) {
        const std::uint64_t id = *it;
        retry_.erase(it);
        return id;
      }
    }
    if (has_queued() && !ready_.empty()) {
      const std::uint64_t id = ready_.front();
      ready_.pop_front();
      slots()[id].queued = false;
      return id;
    }
    // A retry that failed here waits for another worker: they all come back for work.
    return std::nullopt;
  }

  std::string build_batch(int worker, std::size_t size, std::vector<std::uint64_t>* fixed) {
    std::string message;
    wire::Writer out(message);
    out.put(std::uint32_t{0});
    std::uint32_t count = 0;
    auto add = [&](std::uint64_t id) {
      Slot& slot = slots()[id];
      slot.queued = false;
      ++slot.attempts;
      slot.worker = worker;
      out.put(id);
      out.put(slot.attempts);
      out.size(slot.task.size());
      out.bytes(slot.task.data(), slot.task.size());
      ++count;
    };
    if (fixed != nullptr) {
      for (std::uint64_t id : *fixed) add(id);
    } else {
      while (count < size) {
        const auto id = take(worker);
        if (!id) break;
        add(*id);
      }
    }
    std::memcpy(message.data(), &count, sizeof count);
    inflight_tasks_ += count;
    return count == 0 ? std::string() : message;
  }

  void send_batch(int worker, std::vector<std::uint64_t>& ids) {
    std::string message = build_batch(worker, ids.size(), &ids);
    if (message.empty()) return;
    ++inflight_batches_[static_cast<std::size_t>(worker)];
    ++report_.messages;
    sends_.send(worker, tag_tasks, std::move(message));
  }

  void dispatch() {
    if (workers_ == 0 || !has_queued()) return;
    if (options_.schedule == Schedule::static_blocks) {
      // After the initial split: emitted and retried tasks go round-robin, one at a time.
      while (has_queued()) {
        next_worker_ = next_worker_ % workers_ + 1;
        const std::size_t before = inflight_tasks_;
        std::string message = build_batch(next_worker_, 1, nullptr);
        if (inflight_tasks_ == before) return;
        ++inflight_batches_[static_cast<std::size_t>(next_worker_)];
        ++report_.messages;
        sends_.send(next_worker_, tag_tasks, std::move(message));
      }
      return;
    }
    for (int i = 0; i < workers_ && has_queued(); ++i) {
      next_worker_ = next_worker_ % workers_ + 1;
      const auto w = static_cast<std::size_t>(next_worker_);
      const std::size_t size = batch_size();
      const std::uint32_t depth = prefetch_depth(size);
      while (inflight_batches_[w] < depth && has_queued()) {
        std::string message = build_batch(next_worker_, size, nullptr);
        if (message.empty()) break;
        ++inflight_batches_[w];
        ++report_.messages;
        sends_.send(next_worker_, tag_tasks, std::move(message));
      }
    }
  }

  void run_inline() {
    std::string batch = build_batch(0, batch_size(), nullptr);
    if (batch.empty()) return;
    double busy = 0;
    std::uint64_t tasks = 0;
    const std::string results = run_batch(batch, 0, work_, busy, tasks);
    handle_results(results, 0);
  }

  void handle_results(std::string_view message, int worker) {
    if (worker > 0) --inflight_batches_[static_cast<std::size_t>(worker)];
    wire::Reader in(message);
    const auto count = in.get<std::uint32_t>();
    double batch_seconds = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto id = in.get<std::uint64_t>();
      const bool ok = in.get<std::uint8_t>() != 0;
      const auto seconds = in.get<double>();
      const std::string_view payload = in.view(in.size());
      const std::size_t children_from = message.size() - in.remaining();
      const std::size_t children = in.size();
      for (std::size_t c = 0; c < children; ++c) {
        (void)in.view(in.size());
        (void)in.view(in.size());
      }
      const std::string_view children_bytes =
          message.substr(children_from, message.size() - in.remaining() - children_from);
      if (id >= slots().size()) throw Error(fmt::format("task farm: unknown task id {}", id));
      --inflight_tasks_;
      batch_seconds += seconds;
      report_.busy_seconds += seconds;
      ++report_.tasks_per_rank[static_cast<std::size_t>(worker)];
      finish_attempt(id, ok, seconds, payload, children_bytes, worker);
    }
    if (count > 0) {
      const double mean = batch_seconds / count;
      mean_task_seconds_ = timed_ ? 0.7 * mean_task_seconds_ + 0.3 * mean : mean;
      timed_ = true;
    }
  }

  void finish_attempt(std::uint64_t id, bool ok, double seconds, std::string_view payload,
                      std::string_view children, int worker) {
    {
      Slot& slot = slots()[id];
      slot.worker = worker;
      slot.seconds = seconds;
      if (ok) {
        slot.state = TaskState::done;
        slot.result.assign(payload);
        slot.children.assign(children);
        ++done_;
      } else {
        slot.error = fmt::format("{} (rank {}, attempt {})", payload, worker, slot.attempts);
        if (slot.attempts < options_.max_attempts) {
          ++report_.retries;
          retry_.push_back(id);
          return;
        }
        slot.state = TaskState::failed;
        ++failed_;
      }
    }
    if (ok) {
      // Emitted tasks join the queue unless their key is known (the slot vector may grow, so
      // the slot is looked up again afterwards).
      for_each_child(children, [&](std::string key, std::string task) {
        const auto [child, added] = farm_.add(std::move(key), std::move(task));
        if (!added) {
          ++farm_.duplicates_;
        } else if (farm_.level_) {
          park(child);
        } else {
          enqueue(child);
        }
      });
    }
    if (farm_.journal_) {
      const Slot& slot = slots()[id];
      farm_.journal_->add({slot.key, slot.task, slot.result, slot.error, slot.children, slot.state,
                           slot.attempts, slot.worker, slot.seconds});
    }
    if (options_.delivery == Delivery::completion) {
      deliver(id);
    } else {
      deliver_in_order();
    }
  }

  void deliver(std::uint64_t id) {
    Slot& slot = slots()[id];
    RawOutcome outcome{id,         slot.key,      slot.task,   slot.result,  slot.error,
                       slot.state, slot.attempts, slot.worker, slot.seconds, slot.resumed};
    deliver_(outcome);
    // Delivered: the result and the task's children list are not needed any more.
    std::string().swap(slot.result);
    std::string().swap(slot.children);
  }

  void deliver_in_order() {
    while (next_delivery_ < slots().size() && slots()[next_delivery_].state != TaskState::pending) {
      deliver(next_delivery_++);
    }
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
    options_.on_progress({slots().size(), done_, failed_, seconds_between(start_, now)});
  }

  std::vector<JournalRecord> loaded_;
  FarmEngine& farm_;
  const FarmOptions& options_;
  const RawWork& work_;
  const RawDeliver& deliver_;
  int workers_;
  std::vector<std::uint32_t> inflight_batches_;
  std::uint64_t inflight_tasks_ = 0;
  std::deque<std::uint64_t> ready_;
  std::deque<std::uint64_t> retry_;
  std::map<std::uint32_t, std::vector<std::uint64_t>> parked_;  // tasks of later waves
  std::uint32_t wave_ = 0;
  bool waves_started_ = false;
  double mean_task_seconds_ = 0;
  bool timed_ = false;
  int next_worker_ = 0;
  std::uint64_t next_delivery_ = 0;
  std::uint64_t done_ = 0;
  std::uint64_t failed_ = 0;
  FarmReport report_;
  SendQueue sends_;
  Clock::time_point start_, last_flush_, last_progress_;
};

FarmReport FarmEngine::run(const RawWork& work, const RawDeliver& deliver) {
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
  if (is_master()) return Master(*this, work, deliver, std::move(loaded)).run();
  return run_worker(work);
}

FarmReport FarmEngine::run_worker(const RawWork& work) {
  std::deque<std::string> queue;
  SendQueue sends(comm_);
  Backoff backoff;
  double busy = 0;
  std::uint64_t tasks = 0;
  std::optional<std::string> final_report;
  while (!final_report) {
    // Take in everything that has arrived: prefetched batches, or the end.
    while (auto message = comm_.receive_if_arrived(master_rank)) {
      if (message->tag == tag_stop) {
        final_report = std::move(message->bytes);
        break;
      }
      queue.push_back(std::move(message->bytes));
    }
    if (final_report) break;
    if (queue.empty()) {
      sends.progress();
      backoff.idle();
      continue;
    }
    backoff.reset();
    std::string results = run_batch(queue.front(), comm_.rank(), work, busy, tasks);
    queue.pop_front();
    sends.send(master_rank, tag_results, std::move(results));
    sends.progress();
  }
  sends.wait_all(Clock::now() + std::chrono::seconds(10));
  return decode_report(*final_report);
}

}  // namespace spmd::detail
