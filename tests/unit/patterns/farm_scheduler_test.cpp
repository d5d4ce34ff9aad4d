// The farm's scheduling decisions without MPI: batches, retries elsewhere, waves, the static
// split, adaptive batch sizes, and properties that hold under any interleaving of completions,
// failures and stops (no task lost, none run twice at once, none finished twice).
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/patterns/detail/farm_scheduler.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace {

using spmd::FarmOptions;
using spmd::TaskState;
using spmd::detail::AttemptStatus;
using spmd::detail::FarmScheduler;
using spmd::detail::PlannedBatch;

std::string key_of(int i) {
  std::string key = std::to_string(i);
  return std::string(6 - key.size(), '0') + key;  // keys sort like their numbers
}

std::string children_of(const std::vector<std::pair<std::string, std::string>>& children) {
  std::string bytes;
  spmd::wire::Writer out(bytes);
  out.put(children);
  return bytes;
}

// Completes every planned task successfully, batch by batch, until nothing is left.
void run_to_end(FarmScheduler& scheduler) {
  for (int round = 0; round < 100000; ++round) {
    const auto batches = scheduler.dispatch();
    if (batches.empty() && scheduler.in_flight() == 0 && !scheduler.start_next_wave()) return;
    for (const PlannedBatch& batch : batches) {
      for (const auto id : batch.ids)
        scheduler.record_attempt(id, AttemptStatus::done, 1e-3, "ok", "", batch.worker);
      scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()),
                               1e-3 * static_cast<double>(batch.ids.size()));
    }
  }
  FAIL() << "the run did not end";
}

TEST(FarmScheduler, EveryTaskRunsOnceAndIsDeliveredInOrder) {
  const FarmOptions options;
  FarmScheduler scheduler(options, 3);
  for (int i = 0; i < 50; ++i) scheduler.submit(key_of(i), "task");
  scheduler.submit(key_of(7), "again");  // a known key
  EXPECT_EQ(scheduler.duplicates(), 1U);
  scheduler.start();
  run_to_end(scheduler);
  EXPECT_EQ(scheduler.done(), 50U);
  EXPECT_EQ(scheduler.unfinished(), 0U);
  const auto [first, last] = scheduler.deliverable_in_order();
  EXPECT_EQ(first, 0U);
  EXPECT_EQ(last, 50U);
  for (std::uint64_t i = 0; i < 50; ++i) EXPECT_EQ(scheduler.task(i).attempts, 1U);
}

TEST(FarmScheduler, KeysAreFoundAgainAcrossTheIndexGrowing) {
  // The key index grows from 64 slots by doubling and probes linearly: every key must be found
  // again after any number of growths, also keys that differ only in their last byte.
  const FarmOptions options;
  FarmScheduler scheduler(options, 1);
  constexpr int count = 20000;
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(scheduler.submit(key_of(i), "task"), static_cast<std::uint64_t>(i));
  }
  for (int i = count - 1; i >= 0; --i) {
    EXPECT_EQ(scheduler.submit(key_of(i), "again"), static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(scheduler.size(), static_cast<std::size_t>(count));
  EXPECT_EQ(scheduler.duplicates(), static_cast<std::uint64_t>(count));
  EXPECT_EQ(scheduler.task(123).task, "task");
  EXPECT_EQ(scheduler.submit("", "empty key"), static_cast<std::uint64_t>(count));
  EXPECT_EQ(scheduler.submit("", "empty key again"), static_cast<std::uint64_t>(count));
}

TEST(FarmScheduler, SlotsAndAWorkingMasterGetBatchesForEverySlot) {
  FarmOptions options;
  options.slots = 3;
  options.prefetch = 2;
  options.master_runs_tasks = true;
  FarmScheduler scheduler(options, 2);
  EXPECT_FALSE(scheduler.runs_inline());
  EXPECT_EQ(scheduler.runners(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(scheduler.task_slots(), 9);
  for (int i = 0; i < 100; ++i) scheduler.submit(key_of(i), "task");
  scheduler.start();
  // Each rank: one batch per slot running and the prefetch depth behind them (2 + 3 - 1).
  std::map<int, int> batches_by_rank;
  for (const PlannedBatch& batch : scheduler.dispatch()) {
    ++batches_by_rank[batch.worker];
    for (const auto id : batch.ids)
      scheduler.record_attempt(id, AttemptStatus::done, 1e-3, "ok", "", batch.worker);
    scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()), 1e-3);
  }
  EXPECT_EQ(batches_by_rank, (std::map<int, int>{{0, 4}, {1, 4}, {2, 4}}));
  run_to_end(scheduler);
  EXPECT_EQ(scheduler.done(), 100U);

  // Without a working master, rank 0 gets nothing; a single rank with one slot runs inline.
  options.master_runs_tasks = false;
  FarmScheduler workers_only(options, 2);
  EXPECT_EQ(workers_only.runners(), (std::vector<int>{1, 2}));
  EXPECT_EQ(workers_only.task_slots(), 6);
  options.slots = 1;
  FarmScheduler single(options, 0);
  EXPECT_TRUE(single.runs_inline());
  EXPECT_EQ(single.task_slots(), 1);
  options.slots = 4;
  FarmScheduler single_with_slots(options, 0);
  EXPECT_FALSE(single_with_slots.runs_inline());
  EXPECT_EQ(single_with_slots.runners(), (std::vector<int>{0}));
}

TEST(FarmScheduler, TasksFewerThanTheSlotsAreSpreadEvenly) {
  // 78 tasks of a breadth-first level, 3 ranks of 64 slots: 26 each, every one starting at once
  // (filling rank 0 to its depth first gave it 65 -- one waited for a slot while others idled).
  FarmOptions options;
  options.slots = 64;
  FarmScheduler scheduler(options, 2);
  for (int i = 0; i < 78; ++i) scheduler.submit(key_of(i), "task");
  scheduler.start();
  std::map<int, std::size_t> tasks_by_rank;
  for (const PlannedBatch& batch : scheduler.dispatch())
    tasks_by_rank[batch.worker] += batch.ids.size();
  EXPECT_EQ(tasks_by_rank, (std::map<int, std::size_t>{{0, 26}, {1, 26}, {2, 26}}));
  EXPECT_FALSE(scheduler.has_queued());
}

TEST(FarmScheduler, TinyTasksStayWithTheWorkersWhileTheyHaveWork) {
  FarmOptions options;  // the master runs tasks (the default)
  options.batch = 1;
  FarmScheduler scheduler(options, 1);
  for (int i = 0; i < 100; ++i) scheduler.submit(key_of(i), "task");
  scheduler.start();
  auto give_back = [&](const PlannedBatch& batch, double seconds) {
    for (const auto id : batch.ids)
      scheduler.record_attempt(id, AttemptStatus::done, seconds, "ok", "", batch.worker);
    scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()),
                             seconds * static_cast<double>(batch.ids.size()));
  };
  // Nothing measured yet: the master takes its share.
  const auto first = scheduler.dispatch();
  EXPECT_TRUE(
      std::any_of(first.begin(), first.end(), [](const PlannedBatch& b) { return b.worker == 0; }));
  // The master's come back having taken 1 us each (tiny); the worker's stay out, running.
  for (const auto& batch : first) {
    if (batch.worker == 0) give_back(batch, 1e-6);
  }
  // While the worker has work, the master takes none of the tiny tasks still queued.
  for (int round = 0; round < 3; ++round) {
    for (const auto& batch : scheduler.dispatch()) {
      EXPECT_EQ(batch.worker, 1) << "round " << round;
      if (batch.worker == 0) give_back(batch, 1e-6);
    }
  }
  EXPECT_TRUE(scheduler.has_queued());
}

TEST(FarmScheduler, NoTaskStartsThatCannotFinishBeforeTheDeadline) {
  FarmOptions options;
  options.batch = 1;
  FarmScheduler scheduler(options, 2);
  // Estimates from the task: "est:S" (seconds), anything else unknown.
  scheduler.set_estimate([](std::string_view task) {
    return task.starts_with("est:") ? std::stod(std::string(task.substr(4))) : -1.0;
  });
  scheduler.submit(key_of(0), "est:50");  // too long for the time left
  scheduler.submit(key_of(1), "est:5");
  scheduler.submit(key_of(2), "unknown");  // nothing measured yet: started
  scheduler.submit(key_of(3), "unknown");
  scheduler.start();
  scheduler.set_deadline(10.0);
  scheduler.set_now(0.0);
  std::vector<std::uint64_t> started;
  for (const PlannedBatch& batch : scheduler.dispatch()) {
    for (const auto id : batch.ids) started.push_back(id);
  }
  std::sort(started.begin(), started.end());
  EXPECT_EQ(started, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(scheduler.past_deadline(), 1U);
  // Measured times now speak for tasks without an estimate: 8 s leaves 3 s too little.
  // Task 3 emits task 4.
  const std::string emitted = children_of({{key_of(4), "unknown"}});
  for (const auto id : started) {
    scheduler.record_attempt(id, AttemptStatus::done, 8.0, "ok", id == 3 ? emitted : "", 1);
  }
  EXPECT_DOUBLE_EQ(scheduler.expected_seconds(4), 8.0);
  scheduler.set_now(7.0);  // 3 s left
  EXPECT_TRUE(scheduler.dispatch().empty());
  EXPECT_EQ(scheduler.past_deadline(), 2U);
  EXPECT_EQ(scheduler.unfinished(), 2U);  // set aside, pending: for a resumed run
  EXPECT_FALSE(scheduler.has_queued());
}

TEST(FarmScheduler, HigherPriorityRunsFirstAndEqualOnesInSubmissionOrder) {
  FarmOptions options;
  options.batch = 1;
  options.prefetch = 1;
  FarmScheduler scheduler(options, 1);
  scheduler.set_priority([](std::string_view task) { return std::stoi(std::string(task)); });
  const std::vector<std::string> priorities{"0", "5", "-1", "5", "0", "9"};
  for (int i = 0; i < static_cast<int>(priorities.size()); ++i) {
    scheduler.submit(key_of(i), priorities[static_cast<std::size_t>(i)]);
  }
  scheduler.start();
  std::vector<std::uint64_t> order;
  while (true) {
    const auto batches = scheduler.dispatch();
    if (batches.empty()) break;
    for (const PlannedBatch& batch : batches) {
      for (const auto id : batch.ids) {
        order.push_back(id);
        scheduler.record_attempt(id, AttemptStatus::done, 1e-3, "ok", "", batch.worker);
      }
      scheduler.batch_returned(batch.worker, 1, 1e-3);
    }
  }
  EXPECT_EQ(order, (std::vector<std::uint64_t>{5, 1, 3, 0, 4, 2}));
}

TEST(FarmScheduler, TaggedTasksRunOnlyOnRanksWithEveryTag) {
  FarmOptions options;
  FarmScheduler scheduler(options, 3);
  scheduler.set_rank_tags({{}, {}, {"big"}, {"gpu", "big"}});
  // A task's bytes are its tags, comma-separated.
  scheduler.set_tags([](std::string_view task) {
    std::vector<std::string> tags;
    std::string text(task);
    for (std::size_t at = 0; !text.empty() && at != std::string::npos;) {
      const std::size_t end = text.find(',', at);
      tags.push_back(text.substr(at, end == std::string::npos ? end : end - at));
      at = end == std::string::npos ? end : end + 1;
    }
    return tags;
  });
  const std::vector<std::string> tasks{"", "big", "gpu", "big,gpu", "gpu,big"};
  for (int round = 0; round < 10; ++round) {
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      scheduler.submit(key_of(static_cast<int>(round * 10 + i)), tasks[i]);
    }
  }
  EXPECT_THROW(scheduler.submit("tpu-task", "tpu"), spmd::UsageError);  // no rank has it
  EXPECT_EQ(scheduler.size(), 50U);                                     // and it was not added
  scheduler.start();
  // Every task goes to a rank with its tags; the gpu tasks' retries stay on rank 3, the only
  // one that has gpu.
  std::map<std::string, std::set<int>> ranks_by_tags;
  bool failed_once = false;
  for (int round = 0; round < 1000; ++round) {
    const auto batches = scheduler.dispatch();
    if (batches.empty() && scheduler.in_flight() == 0) break;
    for (const PlannedBatch& batch : batches) {
      for (const auto id : batch.ids) {
        const std::string& task = scheduler.task(id).task;
        ranks_by_tags[task].insert(batch.worker);
        const bool fail = !failed_once && task == "gpu";
        failed_once = failed_once || fail;
        scheduler.record_attempt(id, fail ? AttemptStatus::failed : AttemptStatus::done, 1e-3, "ok",
                                 "", batch.worker);
      }
      scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()), 1e-3);
    }
  }
  EXPECT_EQ(scheduler.done(), 50U);
  EXPECT_EQ(scheduler.retries(), 1U);
  const std::set<int> big_ranks{2, 3};
  EXPECT_TRUE(std::includes(big_ranks.begin(), big_ranks.end(), ranks_by_tags["big"].begin(),
                            ranks_by_tags["big"].end()));
  EXPECT_EQ(ranks_by_tags["gpu"], (std::set<int>{3}));
  EXPECT_EQ(ranks_by_tags["big,gpu"], (std::set<int>{3}));
  EXPECT_EQ(ranks_by_tags["gpu,big"], (std::set<int>{3}));
  EXPECT_TRUE(ranks_by_tags[""].contains(1));
}

TEST(FarmScheduler, RetriesWaitTheirBackoffAndATaskMayHaveItsOwnAttempts) {
  FarmOptions options;
  options.max_attempts = 3;
  options.retry_backoff = 2.0;
  FarmScheduler scheduler(options, 2);
  scheduler.set_attempts([](std::string_view task) { return task == "once" ? 1U : 0U; });
  scheduler.submit(key_of(0), "flaky");
  scheduler.submit(key_of(1), "once");
  scheduler.start();
  scheduler.set_now(0);
  for (const PlannedBatch& batch : scheduler.dispatch()) {
    for (const auto id : batch.ids) {
      scheduler.record_attempt(id, AttemptStatus::failed, 0.1, "boom", "", batch.worker);
    }
    scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()), 0.1);
  }
  // "once" had its one attempt; "flaky" waits 2 s, then 4 s after its second failure.
  EXPECT_EQ(scheduler.task(1).state, TaskState::failed);
  EXPECT_EQ(scheduler.failed(), 1U);
  scheduler.set_now(1.9);
  EXPECT_TRUE(scheduler.dispatch().empty());
  EXPECT_TRUE(scheduler.has_queued());  // waiting, not forgotten
  scheduler.set_now(2.0);
  auto batches = scheduler.dispatch();
  ASSERT_EQ(batches.size(), 1U);
  scheduler.record_attempt(0, AttemptStatus::failed, 0.1, "boom", "", batches[0].worker);
  scheduler.batch_returned(batches[0].worker, 1, 0.1);
  scheduler.set_now(5.9);
  EXPECT_TRUE(scheduler.dispatch().empty());
  scheduler.set_now(6.0);
  EXPECT_EQ(scheduler.dispatch().size(), 1U);
}

TEST(FarmScheduler, FirstBatchesHoldOneTaskUntilTimesAreKnown) {
  const FarmOptions options;
  FarmScheduler scheduler(options, 2);
  for (int i = 0; i < 10000; ++i) scheduler.submit(key_of(i), "t");
  scheduler.start();
  const auto first = scheduler.dispatch();
  ASSERT_FALSE(first.empty());
  for (const auto& batch : first) EXPECT_EQ(batch.ids.size(), 1U);
  // Short tasks measured: batches grow toward batch_seconds of work, a fair share at most.
  for (const auto& batch : first) {
    scheduler.record_attempt(batch.ids[0], AttemptStatus::done, 1e-6, "", "", batch.worker);
    scheduler.batch_returned(batch.worker, 1, 1e-6);
  }
  EXPECT_GT(scheduler.batch_size(), 100U);
  EXPECT_LE(scheduler.batch_size(), 10000U / (2 * (options.prefetch + 1)));
  // Deep prefetch for batches of microseconds, 2 for batches of real work.
  EXPECT_EQ(scheduler.prefetch_depth(1), options.prefetch);
  EXPECT_EQ(scheduler.prefetch_depth(scheduler.batch_size()), 2U);
}

TEST(FarmScheduler, ARetryGoesToAnotherWorkerAndFailsForGoodAfterMaxAttempts) {
  FarmOptions options;
  options.max_attempts = 3;
  FarmScheduler scheduler(options, 2);
  scheduler.submit("a", "t");
  scheduler.start();
  int last_worker = -1;
  for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
    const auto batches = scheduler.dispatch();
    ASSERT_EQ(batches.size(), 1U);
    const auto& batch = batches.front();
    if (last_worker > 0) {
      EXPECT_NE(batch.worker, last_worker) << "attempt " << attempt;
    }
    last_worker = batch.worker;
    const bool finished =
        scheduler.record_attempt(0, AttemptStatus::failed, 0.1, "boom", "", batch.worker);
    scheduler.batch_returned(batch.worker, 1, 0.1);
    EXPECT_EQ(finished, attempt == 3);
  }
  EXPECT_EQ(scheduler.task(0).state, TaskState::failed);
  EXPECT_EQ(scheduler.retries(), 2U);
  EXPECT_EQ(scheduler.failed(), 1U);
  EXPECT_NE(scheduler.detail(0).error.find("boom (rank"), std::string::npos);
  EXPECT_TRUE(scheduler.dispatch().empty());
}

TEST(FarmScheduler, AnInterruptionIsNotAnAttemptAndAFailureKeepsItsData) {
  FarmOptions options;
  options.max_attempts = 1;
  FarmScheduler scheduler(options, 1);
  scheduler.submit("a", "t");
  scheduler.start();
  // Interrupted twice (a stop, a job's end): never failed, the task is first in line again.
  for (int interruption = 0; interruption < 2; ++interruption) {
    const auto batches = scheduler.dispatch();
    ASSERT_EQ(batches.size(), 1U);
    EXPECT_EQ(scheduler.task(0).attempts, 1U);
    EXPECT_FALSE(scheduler.record_attempt(0, AttemptStatus::interrupted, 0.1, "stopped", "",
                                          batches[0].worker));
    scheduler.batch_returned(batches[0].worker, 1, 0.1);
    EXPECT_EQ(scheduler.task(0).attempts, 0U);
    EXPECT_EQ(scheduler.task(0).state, TaskState::pending);
    EXPECT_EQ(scheduler.unfinished(), 1U);
  }
  EXPECT_EQ(scheduler.interruptions(), 2U);
  // Its one real attempt fails, with data (a command's exit status and output).
  const auto batches = scheduler.dispatch();
  ASSERT_EQ(batches.size(), 1U);
  EXPECT_TRUE(scheduler.record_attempt(0, AttemptStatus::failed, 0.1, "exit status 3", "",
                                       batches[0].worker, "status=3"));
  EXPECT_EQ(scheduler.task(0).state, TaskState::failed);
  EXPECT_EQ(scheduler.task(0).attempts, 1U);
  EXPECT_EQ(scheduler.task(0).result, "status=3");
  EXPECT_EQ(scheduler.retries(), 0U);
}

TEST(FarmScheduler, ATaskThatIsAlwaysInterruptedEndsFailedInsteadOfLooping) {
  FarmOptions options;
  options.max_attempts = 1;
  FarmScheduler scheduler(options, 2);
  scheduler.submit("a", "t");
  scheduler.start();
  bool finished = false;
  std::uint32_t rounds = 0;
  while (!finished && rounds < 100) {
    const auto batches = scheduler.dispatch();
    ASSERT_EQ(batches.size(), 1U);
    finished = scheduler.record_attempt(0, AttemptStatus::interrupted, 0, "stopped", "",
                                        batches[0].worker);
    scheduler.batch_returned(batches[0].worker, 1, 0);
    ++rounds;
  }
  EXPECT_EQ(rounds, FarmScheduler::max_interruptions + 1);
  EXPECT_EQ(scheduler.task(0).state, TaskState::failed);
  EXPECT_NE(scheduler.detail(0).error.find("interrupted 11 times"), std::string::npos)
      << scheduler.detail(0).error;
}

TEST(FarmScheduler, StaticSplitGivesContiguousBlocks) {
  FarmOptions options;
  options.schedule = spmd::Schedule::static_blocks;
  {
    // The master runs tasks (the default): it takes the first block.
    FarmScheduler with_master(options, 3);
    for (int i = 0; i < 10; ++i) with_master.submit(key_of(i), "t");
    with_master.start();
    const auto blocks = with_master.split_statically();
    ASSERT_EQ(blocks.size(), 4U);
    EXPECT_EQ(blocks[0].worker, 0);
    EXPECT_EQ(blocks[0].ids, (std::vector<std::uint64_t>{0, 1, 2}));
    EXPECT_EQ(blocks[3].ids, (std::vector<std::uint64_t>{8, 9}));
  }
  options.master_runs_tasks = false;
  FarmScheduler scheduler(options, 3);
  for (int i = 0; i < 10; ++i) scheduler.submit(key_of(i), "t");
  scheduler.start();
  const auto blocks = scheduler.split_statically();
  ASSERT_EQ(blocks.size(), 3U);
  EXPECT_EQ(blocks[0].ids, (std::vector<std::uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(blocks[1].ids, (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(blocks[2].ids, (std::vector<std::uint64_t>{7, 8, 9}));
  EXPECT_EQ(blocks[2].worker, 3);
  EXPECT_EQ(scheduler.in_flight(), 10U);
  EXPECT_TRUE(scheduler.dispatch().empty());
}

TEST(FarmScheduler, WavesRunLevelByLevelInKeyOrder) {
  FarmOptions options;
  options.batch = 1;
  FarmScheduler scheduler(options, 1);
  scheduler.set_levels(
      [](std::string_view task) { return static_cast<std::uint32_t>(task[0] - '0'); });
  scheduler.submit("b", "0");
  scheduler.submit("z", "1");
  scheduler.submit("a", "0");
  scheduler.start();
  std::vector<std::string> order;
  for (int round = 0; round < 100; ++round) {
    const auto batches = scheduler.dispatch();
    if (batches.empty() && scheduler.in_flight() == 0 && !scheduler.start_next_wave()) break;
    for (const auto& batch : batches) {
      for (const auto id : batch.ids) {
        order.push_back(scheduler.detail(id).key);
        // "a" emits a deeper task and a task of its own level (joins the current wave).
        const std::string children =
            scheduler.detail(id).key == "a" ? children_of({{"y", "1"}, {"c", "0"}}) : "";
        scheduler.record_attempt(id, AttemptStatus::done, 0, "", children, batch.worker);
      }
      scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()), 0);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "y", "z"}));
}

TEST(FarmScheduler, RestoredTasksAreNotRunAgain) {
  const FarmOptions options;
  FarmScheduler scheduler(options, 2);
  scheduler.submit("a", "t");
  scheduler.submit("b", "t");
  scheduler.restore(
      {"a", "t", "result", "", children_of({{"c", "t"}}), TaskState::done, 1, 1, 0.5});
  scheduler.restore({"b", "t", "", "boom", "", TaskState::failed, 3, 1, 0.5});  // tried afresh
  scheduler.start();
  EXPECT_EQ(scheduler.resumed(), 1U);
  std::set<std::string> ran;
  for (int round = 0; round < 100 && (scheduler.has_queued() || scheduler.in_flight() > 0);
       ++round) {
    for (const auto& batch : scheduler.dispatch()) {
      for (const auto id : batch.ids) {
        ran.insert(scheduler.detail(id).key);
        scheduler.record_attempt(id, AttemptStatus::done, 0, "", "", batch.worker);
      }
      scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()), 0);
    }
  }
  EXPECT_EQ(ran, (std::set<std::string>{"b", "c"}));
  EXPECT_EQ(scheduler.done(), 3U);
}

// Any interleaving: batches come back in random order, attempts fail at random, tasks emit
// children (new keys and known ones), a stop may end dispatching at any point. Whatever happens:
// no task is in two batches at once, none finishes twice or runs after finishing, attempts never
// exceed max_attempts, and every task ends done, failed after its last attempt, or -- only after
// a stop -- unfinished.
TEST(FarmScheduler, NoTaskLostOrRunTwiceUnderAnyInterleaving) {
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 random(seed);
    FarmOptions options;
    options.max_attempts = 1 + seed % 3;
    options.prefetch = 1 + seed % 4;
    if (seed % 5 == 0) options.batch = 1 + seed % 7;
    if (seed % 7 == 0) options.schedule = spmd::Schedule::static_blocks;
    const int workers = 1 + static_cast<int>(seed % 4);
    FarmScheduler scheduler(options, workers);
    const bool waves = seed % 3 == 0;
    if (waves) {
      scheduler.set_levels(
          [](std::string_view task) { return static_cast<std::uint32_t>(task.size()); });
    }
    const int submitted = 1 + static_cast<int>(random() % 60);
    for (int i = 0; i < submitted; ++i) scheduler.submit(key_of(i), "t");
    scheduler.start();
    const bool stops = seed % 4 == 0;
    const int stop_after = static_cast<int>(random() % 50);
    std::vector<PlannedBatch> out;  // in flight, in any order
    std::set<std::uint64_t> in_flight;
    std::set<std::uint64_t> finished;
    int emitted = 0;
    auto take_planned = [&](std::vector<PlannedBatch> batches) {
      for (auto& batch : batches) {
        for (const auto id : batch.ids) {
          ASSERT_TRUE(in_flight.insert(id).second)
              << "seed " << seed << ": task " << id << " in two batches at once";
          ASSERT_FALSE(finished.count(id))
              << "seed " << seed << ": finished task " << id << " sent";
          ASSERT_LE(scheduler.task(id).attempts, options.max_attempts) << "seed " << seed;
        }
        out.push_back(std::move(batch));
      }
    };
    if (options.schedule == spmd::Schedule::static_blocks)
      take_planned(scheduler.split_statically());
    bool stopped = false;
    for (int step = 0; step < 100000; ++step) {
      if (stops && step == stop_after) stopped = true;
      if (!stopped) take_planned(scheduler.dispatch());
      if (out.empty()) {
        if (!stopped && !scheduler.has_queued() && scheduler.start_next_wave()) continue;
        break;
      }
      // A random batch comes back.
      const std::size_t pick = random() % out.size();
      PlannedBatch batch = std::move(out[pick]);
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(pick));
      for (const auto id : batch.ids) {
        in_flight.erase(id);
        // Done, failed (counts as an attempt) or interrupted (does not).
        const auto roll = random() % 8;
        const AttemptStatus status = roll == 0   ? AttemptStatus::interrupted
                                     : roll <= 2 ? AttemptStatus::failed
                                                 : AttemptStatus::done;
        const bool ok = status == AttemptStatus::done;
        std::vector<std::pair<std::string, std::string>> children;
        if (ok && emitted < 200 && random() % 3 == 0) {
          const std::string child_task = waves ? std::string(scheduler.task(id).task) + "t" : "t";
          children.emplace_back(key_of(1000 + emitted++), child_task);
          children.emplace_back(key_of(static_cast<int>(random() % 1200)),
                                child_task);  // maybe known
        }
        const bool done =
            scheduler.record_attempt(id, status, 1e-4, ok ? "r" : "e",
                                     children.empty() ? "" : children_of(children), batch.worker);
        if (done) {
          ASSERT_TRUE(finished.insert(id).second)
              << "seed " << seed << ": task " << id << " finished twice";
        }
      }
      scheduler.batch_returned(batch.worker, static_cast<std::uint32_t>(batch.ids.size()),
                               1e-4 * static_cast<double>(batch.ids.size()));
    }
    ASSERT_TRUE(out.empty()) << "seed " << seed;
    EXPECT_EQ(scheduler.in_flight(), 0U) << "seed " << seed;
    std::uint64_t done = 0, failed = 0, pending = 0;
    for (std::uint64_t id = 0; id < scheduler.size(); ++id) {
      const auto& t = scheduler.task(id);
      EXPECT_LE(t.attempts, options.max_attempts) << "seed " << seed;
      switch (t.state) {
        case TaskState::done: ++done; break;
        case TaskState::failed:
          ++failed;
          EXPECT_EQ(t.attempts, options.max_attempts) << "seed " << seed;
          break;
        case TaskState::pending: ++pending; break;
      }
    }
    EXPECT_EQ(done, scheduler.done()) << "seed " << seed;
    EXPECT_EQ(failed, scheduler.failed()) << "seed " << seed;
    EXPECT_EQ(done + failed, finished.size()) << "seed " << seed;
    EXPECT_EQ(pending, scheduler.unfinished()) << "seed " << seed;
    if (!stopped) {
      EXPECT_EQ(pending, 0U) << "seed " << seed << ": a task was lost";
    }
  }
}

}  // namespace
