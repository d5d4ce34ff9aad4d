#include "spmdkit/patterns/detail/farm_scheduler.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd::detail {

namespace {

// Calls fn(key, task) for each (key, task) of a wire-encoded children list.
template <class Fn>
void for_each_child(std::string_view children, Fn&& fn) {
  if (children.empty()) return;  // none (a worker always sends a list, possibly empty)
  wire::Reader in(children);
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::string key(in.view(in.size()));
    std::string task(in.view(in.size()));
    fn(std::move(key), std::move(task));
  }
}

}  // namespace

FarmScheduler::FarmScheduler(const FarmOptions& options, int workers)
    : options_(options),
      slots_(static_cast<std::size_t>(std::max(workers, 0)) + 1, options.slots),
      ready_(static_cast<int>(slots_.size()), {}),
      inflight_batches_(slots_.size(), 0) {
  // The master runs tasks on a single rank, or when asked to; one slot on a single rank is
  // inline (no threads), as the single-rank farm always was.
  if (workers > 0 && !options.master_runs_tasks) slots_[0] = 0;
  inline_ = workers <= 0 && options.slots <= 1;
  holders_ = 0;
  for (std::size_t rank = 0; rank < slots_.size(); ++rank) {
    if (slots_[rank] == 0) continue;
    runners_.push_back(static_cast<int>(rank));
    holders_ += slots_[rank] + options.prefetch;
  }
  holders_ = std::max<std::size_t>(holders_, 1);
  ready_ = ReadyQueues(static_cast<int>(slots_.size()), runners_);
  next_runner_ = runners_.size() - 1;  // the first served is the lowest rank
}

int FarmScheduler::task_slots() const noexcept {
  std::uint64_t total = 0;
  for (const std::uint32_t slots : slots_) total += slots;
  return static_cast<int>(std::max<std::uint64_t>(total, 1));
}

std::pair<std::uint64_t, bool> FarmScheduler::add(std::string key, std::string task) {
  const std::uint64_t hash = KeyIndex::hash(key);
  const auto known = index_.find(
      key, hash, [this](std::uint64_t id) -> std::string_view { return details_[id].key; });
  if (known) return {*known, false};
  FarmTask added;
  FarmTaskDetail detail;
  // First what may throw (a task no rank can run): such a task is not added at all.
  if (tags_) added.group = ready_.group_of(tags_(task));
  if (estimate_) detail.estimate = estimate_(task);
  if (priority_) added.priority = priority_(task);
  if (attempts_) detail.max_attempts = attempts_(task);
  const std::uint64_t id = tasks_.size();
  index_.insert(hash, id);
  detail.key = std::move(key);
  added.task = std::move(task);
  if (!started_) {
    SubmittedRun* last = submitted_runs_.empty() ? nullptr : &submitted_runs_.back();
    if (last != nullptr && last->last == id && last->group == added.group &&
        last->priority == added.priority) {
      ++last->last;
    } else {
      submitted_runs_.push_back({id, id + 1, added.group, added.priority});
    }
  }
  tasks_.push_back(std::move(added));
  details_.push_back(std::move(detail));
  queued_.push_back(0);
  return {id, true};
}

std::uint64_t FarmScheduler::submit(std::string key, std::string task) {
  const auto [id, added] = add(std::move(key), std::move(task));
  if (!added) ++duplicates_;
  return id;
}

void FarmScheduler::restore(JournalRecord&& record) {
  // Journal records are not submissions: a known key is not counted as a duplicate.
  const std::uint64_t id = add(record.key, record.task).first;
  submitted_runs_exact_ = false;  // the task may be done now
  FarmTask& t = tasks_[id];
  if (t.state == TaskState::done) return;       // an older record of a task done later
  if (record.state != TaskState::done) return;  // failed for good before: tried afresh
  t.state = TaskState::done;
  t.result = std::move(record.result);
  details_[id].children = std::move(record.children);
  t.emitted = !details_[id].children.empty();
  t.attempts = record.attempts;
  t.worker = record.worker;
  t.seconds = record.seconds;
  t.resumed = true;
  ++done_;
  ++resumed_;
  add_children(details_[id].children, false);
}

void FarmScheduler::add_children(std::string_view children, bool count_duplicates) {
  // The task vector may grow: nothing here holds a reference into it.
  for_each_child(children, [&](std::string key, std::string task) {
    const auto [child, added] = add(std::move(key), std::move(task));
    if (!added) {
      if (count_duplicates) ++duplicates_;
    } else if (count_duplicates) {  // emitted in this run: it waits for its turn now
      if (level_) {
        park(child);
      } else {
        enqueue(child);
      }
    }
  });
}

void FarmScheduler::start() {
  if (level_) {
    for (std::uint64_t id = 0; id < tasks_.size(); ++id) park(id);
    start_next_wave();
  } else if (admit_) {
    for (std::uint64_t id = 0; id < tasks_.size(); ++id) enqueue(id);
  } else if (!started_ && submitted_runs_exact_) {
    // What enqueue() does for each task, run by run, without reading one (a million tasks: a
    // few calls and a memset, not a pass over a hundred megabytes of records).
    for (const SubmittedRun& run : submitted_runs_) {
      std::fill(queued_.begin() + static_cast<std::ptrdiff_t>(run.first),
                queued_.begin() + static_cast<std::ptrdiff_t>(run.last), std::uint8_t{1});
      ready_.push_back_run(run.first, run.last, run.group, run.priority);
    }
  } else {
    // The same from the tasks themselves (a journal's done tasks skipped): consecutive queueable
    // tasks of one group and priority queued as one run.
    const std::uint64_t count = tasks_.size();
    std::uint64_t id = 0;
    while (id < count) {
      if (!queueable(id)) {
        ++id;
        continue;
      }
      const std::uint32_t group = tasks_[id].group;
      const std::int32_t priority = tasks_[id].priority;
      std::uint64_t end = id;
      do {
        queued_[end] = 1;
        ++end;
      } while (end < count && queueable(end) && tasks_[end].group == group &&
               tasks_[end].priority == priority);
      ready_.push_back_run(id, end, group, priority);
      id = end;
    }
  }
  started_ = true;
  std::vector<SubmittedRun>().swap(submitted_runs_);
}

void FarmScheduler::enqueue(std::uint64_t id) {
  if (!queueable(id)) return;
  FarmTask& t = tasks_[id];
  if (admit_ && !level_) admit(t);
  queued_[id] = 1;
  ready_.push_back(id, t.group, t.priority);
}

void FarmScheduler::admit(FarmTask& t) {
  std::string admitted = admit_(t.task);
  if (!admitted.empty() && t.state == TaskState::pending) t.task = std::move(admitted);
}

// With levels: a task waits for its wave (or joins the current one if it is not deeper).
void FarmScheduler::park(std::uint64_t id) {
  const std::uint32_t level = level_(tasks_[id].task);
  if (waves_started_ && level <= wave_) {
    if (admit_) admit(tasks_[id]);
    enqueue(id);
  } else {
    parked_[level].push_back(id);
  }
}

// The lowest parked wave: every task of it in key order through admission, the pending ones
// queued.
bool FarmScheduler::start_next_wave() {
  if (!level_ || parked_.empty()) return false;
  auto wave = parked_.begin();
  wave_ = wave->first;
  waves_started_ = true;
  std::vector<std::uint64_t> ids = std::move(wave->second);
  parked_.erase(wave);
  std::sort(ids.begin(), ids.end(),
            [&](std::uint64_t a, std::uint64_t b) { return details_[a].key < details_[b].key; });
  for (const std::uint64_t id : ids) {
    if (admit_) admit(tasks_[id]);
    enqueue(id);
  }
  return true;
}

bool FarmScheduler::has_queued() { return !ready_.empty() || !retry_.empty(); }

std::size_t FarmScheduler::batch_size() const {
  if (options_.batch > 0) return options_.batch;
  if (!timed_) return 1;  // nothing measured yet: a long task must not take others along
  const double per_task = std::max(mean_task_seconds_, 1e-9);
  auto size = static_cast<std::size_t>(options_.batch_seconds / per_task);
  size = std::clamp<std::size_t>(size, 1, options_.max_batch);
  const std::size_t queued = ready_.size() + retry_.size();
  return std::min(size, std::max<std::size_t>(1, queued / holders_));
}

std::uint32_t FarmScheduler::prefetch_depth(std::size_t batch) const {
  const double batch_work = mean_task_seconds_ * static_cast<double>(batch);
  if (timed_ && batch_work < 200e-6) return options_.prefetch;
  return std::min<std::uint32_t>(options_.prefetch, 2);
}

// Retries come first, each on a rank other than the one where it failed (unless only one runs
// tasks). A retry that failed here waits for another rank: they all come back for work.
std::optional<std::uint64_t> FarmScheduler::take_retry(int worker) {
  for (auto it = retry_.begin(); it != retry_.end();) {
    const FarmTask& t = tasks_[*it];
    if (details_[*it].retry_at <= now_ && ready_.runs_on(t.group, worker) &&
        (t.worker != worker || ready_.rank_count(t.group) <= 1)) {
      const std::uint64_t id = *it;
      it = retry_.erase(it);
      if (fits_time_left(id)) return id;
    } else {
      ++it;
    }
  }
  return std::nullopt;
}

double FarmScheduler::expected_seconds(std::uint64_t id) {
  if (const double estimate = details_[id].estimate; estimate >= 0) return estimate;
  const double typical = typical_seconds();
  return typical >= 0 ? typical : 0.0;
}

bool FarmScheduler::fits_time_left(std::uint64_t id) {
  if (!deadline_ || expected_seconds(id) < *deadline_ - now_) return true;
  // Set aside: pending, in no queue; a resumed run (with time again) does it.
  ++past_deadline_;
  return false;
}

void FarmScheduler::note_task_time(double seconds) {
  constexpr std::size_t kept = 256;
  if (recent_times_.size() < kept) {
    recent_times_.push_back(seconds);
  } else {
    recent_times_[recent_next_] = seconds;
    recent_next_ = (recent_next_ + 1) % kept;
  }
  ++times_noted_;
}

double FarmScheduler::typical_seconds() {
  // Recomputed at every new time while few are known, then after every 16 new ones.
  const std::uint64_t fresh = times_noted_ - typical_noted_;
  if (fresh == 0 || (times_noted_ > 64 && fresh < 16)) return typical_seconds_;
  typical_noted_ = times_noted_;
  std::vector<double> sorted = recent_times_;
  const auto at = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() * 9 / 10);
  std::nth_element(sorted.begin(), at, sorted.end());
  typical_seconds_ = *at;
  return typical_seconds_;
}

PlannedBatch FarmScheduler::plan(int worker, std::size_t size,
                                 const std::vector<std::uint64_t>* fixed) {
  PlannedBatch batch{worker, {}};
  // A task going out: out of the queue, one attempt more, on `worker`.
  const auto send = [&](std::uint64_t id) {
    FarmTask& t = tasks_[id];
    queued_[id] = 0;
    ++t.attempts;
    t.worker = worker;
  };
  if (fixed != nullptr) {
    batch.ids = *fixed;
    for (const std::uint64_t id : batch.ids) send(id);
  } else {
    // Retries first (due ones only: the clock does not move while a batch is planned), then
    // the ready tasks; those no longer pending are dropped, those that cannot finish in the
    // time left set aside.
    batch.ids.reserve(std::min(size, ready_.size() + retry_.size()));
    while (batch.ids.size() < size) {
      const auto id = take_retry(worker);
      if (!id) break;
      batch.ids.push_back(*id);
      send(*id);
    }
    if (batch.ids.size() < size) {
      // (Each task sent as it is taken: one pass over the records, not two.)
      ready_.take(
          worker, size - batch.ids.size(),
          [&](std::uint64_t id) {
            queued_[id] = 0;
            if (tasks_[id].state != TaskState::pending || !fits_time_left(id)) return true;
            send(id);
            return false;
          },
          batch.ids);
    }
  }
  inflight_tasks_ += batch.ids.size();
  if (!batch.ids.empty()) ++inflight_batches_[static_cast<std::size_t>(worker)];
  return batch;
}

std::vector<PlannedBatch> FarmScheduler::split_statically() {
  std::vector<PlannedBatch> batches;
  if (inline_) return batches;
  if (ready_.has_tagged_groups()) {
    throw UsageError("task farm: the static schedule cannot route tasks by tags (use dynamic)");
  }
  std::vector<std::uint64_t> known = ready_.take_all();
  const auto n = known.size();
  const auto w = runners_.size();
  std::size_t begin = 0;
  for (std::size_t k = 0; k < w; ++k) {
    const std::size_t end = begin + n / w + (k < n % w ? 1 : 0);
    const std::vector<std::uint64_t> block(known.begin() + static_cast<std::ptrdiff_t>(begin),
                                           known.begin() + static_cast<std::ptrdiff_t>(end));
    if (!block.empty()) batches.push_back(plan(runners_[k], block.size(), &block));
    begin = end;
  }
  return batches;
}

std::vector<PlannedBatch> FarmScheduler::dispatch() {
  std::vector<PlannedBatch> batches;
  if (inline_ || !has_queued()) return batches;
  const std::size_t runners = runners_.size();
  if (options_.schedule == Schedule::static_blocks) {
    // After the initial split: emitted and retried tasks go round-robin, one at a time. A retry
    // is not taken by the rank it failed on: the next one is asked (stopping at the first
    // refusal left a retry waiting a whole loop of the master for nothing).
    while (has_queued()) {
      bool planned = false;
      for (std::size_t asked = 0; asked < runners && !planned; ++asked) {
        next_runner_ = (next_runner_ + 1) % runners;
        PlannedBatch batch = plan(runners_[next_runner_], 1, nullptr);
        planned = !batch.ids.empty();
        if (planned) batches.push_back(std::move(batch));
      }
      if (!planned) break;
    }
    return batches;
  }
  const bool master_defers =
      runners > 1 && slots_[0] > 0 && timed_ && mean_task_seconds_ < master_min_task_seconds;
  // Round by round, one batch to each runner with room: a wave smaller than every rank's slots
  // together is spread evenly (filling one rank to its depth first left that rank's last tasks
  // waiting for a slot while another rank's slots stood empty -- a crawl's breadth-first level
  // took a round trip more).
  std::vector<bool> full(runners, false);
  for (bool planned = true; planned && has_queued();) {
    planned = false;
    for (std::size_t i = 0; i < runners && has_queued(); ++i) {
      next_runner_ = (next_runner_ + 1) % runners;
      if (full[next_runner_]) continue;
      const int rank = runners_[next_runner_];
      const auto r = static_cast<std::size_t>(rank);
      // Tiny tasks: the master takes them only when no worker has any (e.g. tasks only it may
      // run, by their tags), so nothing can wait for it forever.
      if (rank == 0 && master_defers &&
          std::any_of(inflight_batches_.begin() + 1, inflight_batches_.end(),
                      [](std::uint32_t n) { return n > 0; })) {
        full[next_runner_] = true;
        continue;
      }
      const std::size_t size = batch_size();
      // One batch per slot running, and the prefetch depth waiting behind them.
      const std::uint32_t depth = prefetch_depth(size) + slots_[r] - 1;
      PlannedBatch batch;
      if (inflight_batches_[r] < depth) batch = plan(rank, size, nullptr);
      if (batch.ids.empty()) {
        full[next_runner_] = true;  // no room, or nothing queued it may run
        continue;
      }
      batches.push_back(std::move(batch));
      planned = true;
    }
  }
  return batches;
}

PlannedBatch FarmScheduler::inline_batch() { return plan(0, batch_size(), nullptr); }

bool FarmScheduler::record_attempt(std::uint64_t id, AttemptStatus status, double seconds,
                                   std::string_view payload, std::string_view children, int worker,
                                   std::string_view failure_result) {
  if (id >= tasks_.size()) throw Error(fmt::format("task farm: unknown task id {}", id));
  if (inflight_tasks_ == 0) throw Error(fmt::format("task farm: task {} was not in flight", id));
  --inflight_tasks_;
  FarmTask& t = tasks_[id];
  if (status == AttemptStatus::interrupted && ++details_[id].interruptions <= max_interruptions) {
    // Not the task's doing (a stop, the job's end): the attempt is given back, and the task is
    // first in line -- or, when the run is stopping, left unfinished for a resumed run.
    if (t.attempts > 0) --t.attempts;
    ++interruptions_;
    queued_[id] = 1;
    ready_.push_front(id, t.group, t.priority);
    return false;
  }
  t.worker = worker;
  t.seconds = seconds;
  if (deadline_) note_task_time(seconds);  // (only a deadline asks for the typical time)
  if (status != AttemptStatus::done) {
    FarmTaskDetail& d = details_[id];
    t.failed_before = true;
    d.error = status == AttemptStatus::failed
                  ? fmt::format("{} (rank {}, attempt {})", payload, worker, t.attempts)
                  : fmt::format("{} (rank {}, attempt {}; interrupted {} times: counted as failed)",
                                payload, worker, t.attempts, d.interruptions);
    t.result.assign(failure_result);
    const std::uint32_t allowed = d.max_attempts > 0 ? d.max_attempts : options_.max_attempts;
    if (t.attempts < allowed) {
      ++retries_;
      if (options_.retry_backoff > 0) {
        const double wait = options_.retry_backoff *
                            std::ldexp(1.0, static_cast<int>(std::min(t.attempts, 20U)) - 1);
        d.retry_at = now_ + std::min(wait, 60.0);
      }
      retry_.push_back(id);
      return false;
    }
    t.state = TaskState::failed;
    ++failed_;
    return true;
  }
  t.state = TaskState::done;
  if (results_kept_) t.result.assign(payload);
  if (!children.empty()) {
    t.emitted = true;
    details_[id].children.assign(children);
  }
  ++done_;
  // Emitted tasks join the queue unless their key is known.
  if (!children.empty()) add_children(children, true);
  return true;
}

void FarmScheduler::batch_returned(int worker, std::uint32_t count, double seconds) {
  if (inflight_batches_[static_cast<std::size_t>(worker)] > 0) {
    --inflight_batches_[static_cast<std::size_t>(worker)];
  }
  if (count == 0) return;
  const double mean = seconds / count;
  mean_task_seconds_ = timed_ ? 0.7 * mean_task_seconds_ + 0.3 * mean : mean;
  timed_ = true;
}

std::pair<std::uint64_t, std::uint64_t> FarmScheduler::deliverable_in_order() {
  const std::uint64_t first = next_delivery_;
  while (next_delivery_ < tasks_.size() && tasks_[next_delivery_].state != TaskState::pending) {
    ++next_delivery_;
  }
  return {first, next_delivery_};
}

std::uint64_t FarmScheduler::unfinished() const {
  return tasks_.size() - done_ - failed_;  // every task is pending, done or failed
}

}  // namespace spmd::detail
