// The task farm against serial references, at every rank count: results in task order, tasks
// that emit tasks (with duplicates), retries on another worker, permanent failures, the static
// schedule, a stop request, failures that carry a result, interruptions that are no attempt,
// K slots per rank and a master that runs tasks too, a stop's grace interrupting running tasks.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <deque>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/patterns/task_farm.hpp"
#include "spmdkit/runtime/stop_request.hpp"
#include "test_support.hpp"

namespace {

using spmd::FarmOptions;
using spmd::TaskFarm;
using spmd::TaskState;

std::uint64_t square(std::uint64_t n) { return n * n; }

TEST(TaskFarm, MapReturnsEveryResultInTaskOrder) {
  const auto& world = spmd::test::world();
  std::vector<std::uint64_t> inputs(1000);
  std::iota(inputs.begin(), inputs.end(), 0);
  const auto run = spmd::task_map(world, inputs, square);
  EXPECT_EQ(run.report.workers, world.size());  // the master runs tasks too (the default)
  EXPECT_FALSE(run.report.stopped);
  if (world.rank() != 0) {
    EXPECT_TRUE(run.outcomes.empty());
    return;
  }
  ASSERT_EQ(run.outcomes.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& outcome = run.outcomes[i];
    EXPECT_EQ(outcome.id, i);
    EXPECT_EQ(outcome.task, inputs[i]);
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(*outcome.result, inputs[i] * inputs[i]);
    EXPECT_EQ(outcome.attempts, 1u);
    EXPECT_GE(outcome.worker, 0);
    EXPECT_LT(outcome.worker, world.size());
  }
  EXPECT_EQ(run.report.done, inputs.size());
  EXPECT_EQ(run.report.tasks, inputs.size());
  const auto per_rank = run.report.tasks_per_rank;
  EXPECT_EQ(std::accumulate(per_rank.begin(), per_rank.end(), std::uint64_t{0}), inputs.size());
}

// A batch's tasks are timed one by one (on the processor's counter, scaled to the batch's time
// on steady_clock): a long task among short ones in one message is not averaged out.
TEST(TaskFarm, EachTaskOfABatchIsTimedByItself) {
  const auto& world = spmd::test::world();
  FarmOptions options;
  options.batch = 6;  // every task of a worker's share in one or two messages
  TaskFarm<std::pair<int, int>, int> farm(world, options);  // (index, milliseconds to sleep)
  const std::vector<int> sleep_ms{1, 40, 1, 1, 25, 1, 1, 40, 1, 1, 25, 1};
  for (std::size_t i = 0; i < sleep_ms.size(); ++i) {
    farm.submit({static_cast<int>(i), sleep_ms[i]});
  }
  std::vector<double> seconds(sleep_ms.size(), -1);
  const auto report = farm.run(
      [](const std::pair<int, int>& task) {
        std::this_thread::sleep_for(std::chrono::milliseconds(task.second));
        return task.second;
      },
      [&](const auto& outcome) { seconds[outcome.id] = outcome.seconds; });
  EXPECT_EQ(report.failed, 0u);
  if (world.rank() != 0) return;
  for (std::size_t i = 0; i < sleep_ms.size(); ++i) {
    const double slept = sleep_ms[i] * 1e-3;
    EXPECT_GE(seconds[i], slept * 0.95) << "task " << i;
    EXPECT_LT(seconds[i], slept + 0.015) << "task " << i;  // a sleep may overrun, not by 15 ms
  }
}

TEST(TaskFarm, CompletionAndTaskOrderDelivery) {
  const auto& world = spmd::test::world();
  for (const auto delivery : {spmd::Delivery::completion, spmd::Delivery::task_order}) {
    FarmOptions options;
    options.delivery = delivery;
    options.batch = 3;
    TaskFarm<int, int> farm(world, options);
    for (int i = 0; i < 200; ++i) farm.submit(i);
    std::vector<std::uint64_t> seen;
    const auto report = farm.run([](int n) { return -n; },
                                 [&](const TaskFarm<int, int>::Outcome& outcome) {
                                   EXPECT_EQ(*outcome.result, -outcome.task);
                                   seen.push_back(outcome.id);
                                 });
    if (world.rank() == 0) {
      ASSERT_EQ(seen.size(), 200u);
      if (delivery == spmd::Delivery::task_order) {
        EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
      }
      std::sort(seen.begin(), seen.end());
      EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
      EXPECT_EQ(report.done, 200u);
    } else {
      EXPECT_TRUE(seen.empty());
      EXPECT_EQ(report.done, 200u);  // every rank learns the final report
    }
  }
}

TEST(TaskFarm, DuplicateSubmissionsRunOnce) {
  const auto& world = spmd::test::world();
  const std::vector<int> inputs{5, 3, 5, 5, 8, 3};
  const auto run = spmd::task_map(world, inputs, [](int n) { return n + 1; });
  if (world.rank() == 0) {
    ASSERT_EQ(run.outcomes.size(), 3u);
    EXPECT_EQ(run.outcomes[0].task, 5);
    EXPECT_EQ(run.outcomes[1].task, 3);
    EXPECT_EQ(run.outcomes[2].task, 8);
    EXPECT_EQ(run.report.duplicates, 3u);
  }
}

// A task n emits 2n+1 and 2n+2 below a limit, and also n/2 (always a duplicate): every number
// below the limit is reached exactly once.
TEST(TaskFarm, TasksThatEmitTasksWithDuplicates) {
  const auto& world = spmd::test::world();
  constexpr std::uint32_t limit = 3000;
  TaskFarm<std::uint32_t, std::uint32_t> farm(world);
  farm.submit(0);
  const auto run = farm.run([](std::uint32_t n, spmd::TaskContext<std::uint32_t>& ctx) {
    for (std::uint32_t child : {2 * n + 1, 2 * n + 2, n / 2}) {
      if (child < limit) ctx.emit(child);
    }
    return n * 3;
  });
  if (world.rank() == 0) {
    ASSERT_EQ(run.outcomes.size(), limit);
    std::set<std::uint32_t> reached;
    for (const auto& outcome : run.outcomes) {
      EXPECT_TRUE(reached.insert(outcome.task).second) << "ran twice: " << outcome.task;
      EXPECT_EQ(*outcome.result, outcome.task * 3);
    }
    EXPECT_EQ(reached.size(), limit);
    EXPECT_EQ(*reached.rbegin(), limit - 1);
    EXPECT_EQ(run.report.duplicates, limit);  // every n/2, and n = 0 emitting itself
  }
}

TEST(TaskFarm, KeyByChoosesWhatCountsAsTheSameTask) {
  const auto& world = spmd::test::world();
  TaskFarm<std::string, std::size_t> farm(world);
  farm.key_by([](const std::string& s) {
    std::string lower = s;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    return lower;
  });
  for (const char* s : {"Alpha", "ALPHA", "beta", "alpha", "Beta", "gamma"}) farm.submit(s);
  const auto run = farm.run([](const std::string& s) { return s.size(); });
  if (world.rank() == 0) {
    ASSERT_EQ(run.outcomes.size(), 3u);
    EXPECT_EQ(run.outcomes[0].task, "Alpha");
    EXPECT_EQ(run.outcomes[2].task, "gamma");
  }
}

TEST(TaskFarm, FailedAttemptIsRetriedOnAnotherWorker) {
  const auto& world = spmd::test::world();
  FarmOptions options;
  options.max_attempts = 3;
  TaskFarm<int, int> farm(world, options);
  for (int i = 0; i < 40; ++i) farm.submit(i);
  const auto run = farm.run([](int n, spmd::TaskContext<int>& ctx) {
    if (n % 10 == 0 && ctx.attempt() == 1) throw std::runtime_error("flaky " + std::to_string(n));
    return n;
  });
  if (world.rank() != 0) return;
  ASSERT_EQ(run.outcomes.size(), 40u);
  EXPECT_EQ(run.report.retries, 4u);
  EXPECT_EQ(run.report.failed, 0u);
  for (const auto& outcome : run.outcomes) {
    ASSERT_TRUE(outcome.ok()) << outcome.error;
    if (outcome.task % 10 != 0) {
      EXPECT_EQ(outcome.attempts, 1u);
      continue;
    }
    EXPECT_EQ(outcome.attempts, 2u);
    std::smatch match;
    ASSERT_TRUE(std::regex_search(outcome.error, match,
                                  std::regex("^flaky [0-9]+ \\(rank ([0-9]+), attempt 1\\)$")))
        << outcome.error;
    const int failed_on = std::stoi(match[1]);
    if (world.size() > 2) {
      EXPECT_NE(failed_on, outcome.worker) << "retried on the same worker";
    }
  }
}

TEST(TaskFarm, PermanentFailureIsRecordedAndTheRunCompletes) {
  const auto& world = spmd::test::world();
  FarmOptions options;
  options.max_attempts = 2;
  TaskFarm<int, int> farm(world, options);
  for (int i = 0; i < 30; ++i) farm.submit(i);
  const auto run = farm.run([](int n) {
    if (n == 7) throw std::invalid_argument("seven is bad");
    return n;
  });
  EXPECT_EQ(run.report.failed, 1u);
  EXPECT_EQ(run.report.done, 29u);
  EXPECT_EQ(run.report.retries, 1u);
  if (world.rank() == 0) {
    const auto& seven = run.outcomes[7];
    EXPECT_EQ(seven.state, TaskState::failed);
    EXPECT_FALSE(seven.result.has_value());
    EXPECT_EQ(seven.attempts, 2u);
    EXPECT_NE(seven.error.find("seven is bad"), std::string::npos) << seven.error;
    EXPECT_NE(seven.error.find("attempt 2"), std::string::npos) << seven.error;
  }
}

TEST(TaskFarm, AFailureCarriesItsResultAndAnInterruptionIsNoAttempt) {
  const auto& world = spmd::test::world();
  FarmOptions options;
  options.max_attempts = 1;
  TaskFarm<int, int> farm(world, options);
  for (int i = 0; i < 30; ++i) farm.submit(i);
  // Every rank interrupts task 5 the first time it meets it (a stop that did not last): it
  // must still be done, on its one attempt.
  std::set<int> interrupted_here;
  const auto run = farm.run([&](int n) {
    if (n == 5 && interrupted_here.insert(n).second) throw spmd::TaskInterrupted("stopped");
    if (n == 7) throw spmd::TaskFailure<int>("exit status 3", -3);
    return n;
  });
  EXPECT_EQ(run.report.failed, 1u);
  EXPECT_EQ(run.report.done, 29u);
  EXPECT_EQ(run.report.retries, 0u);
  if (world.rank() == 0) {
    const auto& five = run.outcomes[5];
    EXPECT_TRUE(five.ok());
    EXPECT_EQ(five.attempts, 1u);
    EXPECT_EQ(*five.result, 5);
    const auto& seven = run.outcomes[7];
    EXPECT_EQ(seven.state, TaskState::failed);
    ASSERT_TRUE(seven.result.has_value());
    EXPECT_EQ(*seven.result, -3);
    EXPECT_NE(seven.error.find("exit status 3"), std::string::npos) << seven.error;
  }
}

TEST(TaskFarm, StaticScheduleGivesTheSameResults) {
  const auto& world = spmd::test::world();
  FarmOptions options;
  options.schedule = spmd::Schedule::static_blocks;
  TaskFarm<std::uint32_t, std::uint32_t> farm(world, options);
  for (std::uint32_t i = 0; i < 100; ++i) farm.submit(i);
  const auto run = farm.run([](std::uint32_t n, spmd::TaskContext<std::uint32_t>& ctx) {
    if (n < 100) ctx.emit(n + 1000);  // emitted tasks go round-robin
    return n + 1;
  });
  if (world.rank() == 0) {
    ASSERT_EQ(run.outcomes.size(), 200u);
    for (const auto& outcome : run.outcomes) EXPECT_EQ(*outcome.result, outcome.task + 1);
    if (world.size() > 1) {
      // Block split: the first known tasks all went to the first runner, the master itself.
      EXPECT_EQ(run.outcomes[0].worker, 0);
      EXPECT_EQ(run.outcomes[99].worker, world.size() - 1);
    }
  }
}

TEST(TaskFarm, StopRequestEndsTheRunEarlyOnEveryRank) {
  const auto& world = spmd::test::world();
  spmd::StopRequest stop;
  FarmOptions options;
  options.stop = &stop;
  options.stop_grace = 5;
  options.batch = 1;
  TaskFarm<int, int> farm(world, options);
  for (int i = 0; i < 400; ++i) farm.submit(i);
  std::size_t delivered = 0;
  const auto report = farm.run(
      [](int n) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        return n;
      },
      [&](const TaskFarm<int, int>::Outcome&) {
        if (++delivered == 20) std::raise(SIGUSR1);  // on the master only
      });
  EXPECT_TRUE(report.stopped);
  EXPECT_GE(report.done, 20u);
  EXPECT_LT(report.done, 400u);
  EXPECT_EQ(report.done + report.unfinished, 400u);
}

// How many tasks run at once in this process (every rank is a process of its own).
std::atomic<int> running_here{0};
std::atomic<int> most_running_here{0};

void note_running(int delta) {
  const int now = running_here.fetch_add(delta) + delta;
  int most = most_running_here.load();
  while (now > most && !most_running_here.compare_exchange_weak(most, now)) {
  }
}

TEST(TaskFarm, SlotsRunKTasksAtOnceAndTheMasterRunsItsShare) {
  const auto& world = spmd::test::world();
  constexpr std::uint32_t slots = 3;
  FarmOptions options;
  options.slots = slots;
  options.master_runs_tasks = true;
  most_running_here = 0;
  std::vector<std::uint64_t> inputs(90);
  std::iota(inputs.begin(), inputs.end(), 0);
  const auto run = spmd::task_map(
      world, inputs,
      [](std::uint64_t n) {
        note_running(+1);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        note_running(-1);
        return n * n;
      },
      options);
  EXPECT_EQ(run.report.workers, world.size() * static_cast<int>(slots));
  // Never more than K at once on a rank; with 10 ms tasks every slot fills.
  const int most = most_running_here.load();
  EXPECT_LE(most, static_cast<int>(slots));
  EXPECT_EQ(world.allreduce(most, spmd::op::max{}), static_cast<int>(slots));
  if (world.rank() != 0) return;
  ASSERT_EQ(run.outcomes.size(), inputs.size());
  for (const auto& outcome : run.outcomes) EXPECT_EQ(*outcome.result, outcome.task * outcome.task);
  EXPECT_GT(run.report.tasks_per_rank[0], 0U);  // the master worked too
  EXPECT_EQ(run.report.done, inputs.size());
}

TEST(TaskFarm, AStopInterruptsRunningTasksAfterTheGraceWithoutUsingAttempts) {
  const auto& world = spmd::test::world();
  for (const std::uint32_t slots : {1U, 2U}) {
    const spmd::StopRequest stop;  // a fresh one per run: a request stays noted
    FarmOptions options;
    options.stop = &stop;
    options.stop_grace = 0.2;
    options.slots = slots;
    options.master_runs_tasks = slots > 1;
    TaskFarm<int, int> farm(world, options);
    for (int i = 0; i < 40; ++i) farm.submit(i);
    std::size_t delivered = 0;
    const auto start = std::chrono::steady_clock::now();
    const auto report = farm.run(
        [](int n, spmd::TaskContext<int>& context) {
          if (n == 0) return n;  // the one quick task: its delivery raises the stop
          while (!context.interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          throw spmd::TaskInterrupted("interrupted");
        },
        [&](const TaskFarm<int, int>::Outcome& outcome) {
          EXPECT_TRUE(outcome.ok());
          if (++delivered == 1) std::raise(SIGUSR1);  // on the master only
        });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(report.stopped);
    EXPECT_EQ(report.done, 1U);
    EXPECT_EQ(report.failed, 0U);
    EXPECT_EQ(report.retries, 0U);
    EXPECT_EQ(report.unfinished, 39U);
    EXPECT_LT(seconds, 4.0) << "interrupted tasks must end the run soon after the grace";
  }
}

// Asynchronous tasks as timers: task n settles (n mod 7 + 1) * 3 ms after it starts, with 2n
// and, below 20, an emitted task n + 1000; task 13 fails its first attempt. Counts how many are
// in flight on this rank, and whether any two tasks ran on different threads of it.
class TimerWork final : public spmd::AsyncWork<std::uint32_t, std::uint64_t> {
 public:
  void start(spmd::AsyncTask<std::uint32_t, std::uint64_t> task) override {
    note_thread();
    if (task.task() == 13 && task.attempt() == 1) {
      task.fail("the first try of 13 fails");
      return;
    }
    const auto due =
        std::chrono::steady_clock::now() + std::chrono::milliseconds((task.task() % 7 + 1) * 3);
    timers_.push_back({due, std::move(task)});
    most_ = std::max(most_, static_cast<int>(timers_.size()));
  }
  void poll(std::chrono::milliseconds max_wait) override {
    note_thread();
    auto until = std::chrono::steady_clock::now() + max_wait;
    for (const auto& timer : timers_) until = std::min(until, timer.due);
    std::this_thread::sleep_until(until);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      const std::uint32_t n = it->task.task();
      if (n < 20) it->task.emit(n + 1000);
      it->task.done(2ULL * n);
      it = timers_.erase(it);
    }
  }
  void cancel() override { timers_.clear(); }
  [[nodiscard]] int most_in_flight() const { return most_; }
  [[nodiscard]] bool one_thread() const { return one_thread_; }

 private:
  void note_thread() {
    if (!thread_) thread_ = std::this_thread::get_id();
    if (*thread_ != std::this_thread::get_id()) one_thread_ = false;
  }
  struct Timer {
    std::chrono::steady_clock::time_point due;
    spmd::AsyncTask<std::uint32_t, std::uint64_t> task;
  };
  std::vector<Timer> timers_;
  int most_ = 0;
  std::optional<std::thread::id> thread_;
  bool one_thread_ = true;
};

TEST(TaskFarm, AsynchronousTasksKeepKInFlightOnOneThreadPerRank) {
  const auto& world = spmd::test::world();
  for (const std::uint32_t slots : {1U, 8U}) {
    FarmOptions options;
    options.slots = slots;
    TaskFarm<std::uint32_t, std::uint64_t> farm(world, options);
    for (std::uint32_t n = 0; n < 120; ++n) farm.submit(n);
    TimerWork work;
    const auto run = farm.run_async(work);
    // Never more than K at once on a rank, all on one thread; with 120 tasks every slot fills.
    EXPECT_LE(work.most_in_flight(), static_cast<int>(slots));
    EXPECT_TRUE(work.one_thread());
    EXPECT_EQ(world.allreduce(work.most_in_flight(), spmd::op::max{}), static_cast<int>(slots));
    EXPECT_EQ(run.report.workers, world.size() * static_cast<int>(slots));
    if (world.rank() != 0) continue;
    ASSERT_EQ(run.outcomes.size(), 140U) << "slots " << slots;  // 120 and 20 emitted
    for (const auto& outcome : run.outcomes) {
      ASSERT_TRUE(outcome.ok()) << outcome.task << ": " << outcome.error;
      EXPECT_EQ(*outcome.result, 2ULL * outcome.task);
      EXPECT_EQ(outcome.attempts, outcome.task == 13 ? 2U : 1U) << outcome.task;
    }
    EXPECT_EQ(run.report.retries, 1U);
  }
}

TEST(TaskFarm, AStopInterruptsAsynchronousTasksInFlight) {
  const auto& world = spmd::test::world();
  // Tasks that never finish by themselves but task 0: its delivery raises the stop; after the
  // grace the work is cancelled and every other task comes back unfinished, not failed.
  class Forever final : public spmd::AsyncWork<int, int> {
   public:
    void start(spmd::AsyncTask<int, int> task) override {
      if (task.task() == 0) task.done(0);
    }
    void poll(std::chrono::milliseconds max_wait) override {
      std::this_thread::sleep_for(max_wait);
    }
    void cancel() override { ++cancelled_; }
    int cancelled_ = 0;
  };
  const spmd::StopRequest stop;
  FarmOptions options;
  options.stop = &stop;
  options.stop_grace = 0.2;
  options.slots = 4;
  TaskFarm<int, int> farm(world, options);
  for (int i = 0; i < 40; ++i) farm.submit(i);
  Forever work;
  std::size_t delivered = 0;
  const auto report = farm.run_async(work, [&](const TaskFarm<int, int>::Outcome& outcome) {
    EXPECT_TRUE(outcome.ok());
    if (++delivered == 1) std::raise(SIGUSR1);  // on the master only
  });
  EXPECT_TRUE(report.stopped);
  EXPECT_EQ(report.done, 1U);
  EXPECT_EQ(report.failed, 0U);
  EXPECT_EQ(report.unfinished, 39U);
}

TEST(TaskFarm, TagsRouteTasksToTheRanksThatHaveThem) {
  const auto& world = spmd::test::world();
  FarmOptions options;
  if (world.rank() % 2 == 1) options.tags = {"odd"};
  TaskFarm<std::uint32_t, int> farm(world, options);
  farm.tags_by([](std::uint32_t n) {
    return n % 3 == 0 ? std::vector<std::string>{"odd"} : std::vector<std::string>{};
  });
  farm.priority_by([](std::uint32_t n) { return static_cast<std::int32_t>(n % 5); });
  if (world.size() == 1) {
    // The only rank running tasks has no tags: such a task is refused, not waited for forever.
    EXPECT_THROW(farm.submit(3), spmd::UsageError);
    return;
  }
  for (std::uint32_t n = 0; n < 60; ++n) farm.submit(n);
  const auto run = farm.run([](std::uint32_t n, spmd::TaskContext<std::uint32_t>& context) {
    return context.worker() * 1000 + static_cast<int>(n);
  });
  EXPECT_EQ(run.report.done, 60U);
  for (const auto& outcome : run.outcomes) {
    if (outcome.task % 3 == 0) {
      EXPECT_EQ(outcome.worker % 2, 1) << "task " << outcome.task;
    }
  }
}

TEST(TaskFarm, BadOptionsAreUsageErrors) {
  const auto& world = spmd::test::world();
  FarmOptions options;
  options.max_attempts = 0;
  EXPECT_THROW((TaskFarm<int, int>(world, options)), spmd::UsageError);
}

}  // namespace

namespace {

// A graph crawl in waves: node n links to (3n + k) % 97 for k = 1..3. With levels, every node's
// recorded depth is its breadth-first distance from 0, whatever the timing; with an admission
// budget, exactly the first `budget` nodes in (depth, key) order are expanded.
struct Visit {
  std::uint32_t node = 0;
  std::uint32_t depth = 0;
  std::uint8_t expand = 1;
};

std::map<std::uint32_t, std::uint32_t> bfs_depths() {
  std::map<std::uint32_t, std::uint32_t> depth{{0, 0}};
  std::deque<std::uint32_t> queue{0};
  while (!queue.empty()) {
    const auto n = queue.front();
    queue.pop_front();
    for (std::uint32_t k = 1; k <= 3; ++k) {
      const auto m = (3 * n + k) % 97;
      if (depth.emplace(m, depth[n] + 1).second) queue.push_back(m);
    }
  }
  return depth;
}

TEST(TaskFarm, LevelsGiveBreadthFirstDepthsAndDeterministicAdmission) {
  const auto& world = spmd::test::world();
  for (const std::uint32_t budget : {1000u, 20u}) {
    spmd::TaskFarm<Visit, std::uint32_t> farm(world);
    farm.key_by([](const Visit& v) { return v.node; });
    farm.level_by([](const Visit& v) { return v.depth; });
    std::vector<std::uint32_t> admitted_order;
    std::uint32_t admitted = 0;
    farm.admit([&](Visit& v) {
      if (admitted < budget) {
        ++admitted;
        admitted_order.push_back(v.node);
      } else {
        v.expand = 0;
      }
    });
    farm.submit(Visit{0, 0, 1});
    const auto run = farm.run([](const Visit& v, spmd::TaskContext<Visit>& ctx) {
      std::this_thread::sleep_for(std::chrono::microseconds((v.node * 37) % 200));  // jitter
      if (v.expand != 0) {
        for (std::uint32_t k = 1; k <= 3; ++k)
          ctx.emit(Visit{(3 * v.node + k) % 97, v.depth + 1, 1});
      }
      return v.depth;
    });
    if (world.rank() != 0) continue;
    const auto depths = bfs_depths();
    if (budget >= depths.size()) {
      ASSERT_EQ(run.outcomes.size(), depths.size());
      for (const auto& outcome : run.outcomes) {
        EXPECT_EQ(outcome.task.depth, depths.at(outcome.task.node)) << outcome.task.node;
      }
    }
    // Admission follows (depth, key) order: the key of a node is its number.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> by_depth;
    for (const auto& [node, depth] : depths) by_depth.emplace_back(depth, node);
    std::sort(by_depth.begin(), by_depth.end());
    std::vector<std::uint32_t> expected;
    for (const auto& [depth, node] : by_depth) {
      if (expected.size() < budget) expected.push_back(node);
    }
    if (budget < depths.size()) {
      EXPECT_EQ(admitted_order, expected);
      std::size_t expanded = 0;
      for (const auto& outcome : run.outcomes) expanded += outcome.task.expand;
      EXPECT_EQ(expanded, budget);
    }
  }
}

}  // namespace
