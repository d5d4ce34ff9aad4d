// The task journal: segments round-trip, a killed writer's partial segment is ignored, and a
// farm resumed from its journal finishes with exactly the results of an uninterrupted run.
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/patterns/task_farm.hpp"
#include "spmdkit/patterns/task_journal.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using spmd::JournalRecord;
using spmd::TaskJournal;
using spmd::TaskState;

// A scratch directory of this rank (the journal is written by one process).
struct ScratchDir {
  explicit ScratchDir(const std::string& stem) : path(spmd::test::scratch_path(stem)) {
    fs::remove_all(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  fs::path path;
};

TEST(TaskJournal, SegmentsRoundTripAndPartialOnesAreIgnored) {
  ScratchDir dir("journal-roundtrip");
  TaskJournal journal(dir.path, "params-1");
  EXPECT_FALSE(journal.exists());
  journal.start(false);
  journal.add({"k1", "t1", "r1", "", "", TaskState::done, 1, 3, 0.5});
  journal.add({"k2", std::string("t\0 2", 4), "", "boom", "", TaskState::failed, 3, 1, 0.25});
  journal.flush();
  journal.add({"k3", "t3", std::string(100000, 'r'), "", "c", TaskState::done, 2, 2, 1.0});
  journal.flush();
  journal.flush();  // nothing pending: no empty segment
  EXPECT_EQ(journal.segments_written(), 2u);
  // A writer killed mid-segment leaves only a .tmp behind.
  std::ofstream(dir.path / "segment-00000003.h5.tmp") << "half a file";

  TaskJournal again(dir.path, "params-1");
  EXPECT_TRUE(again.exists());
  const auto records = again.load();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].key, "k1");
  EXPECT_EQ(records[0].result, "r1");
  EXPECT_EQ(records[0].worker, 3);
  EXPECT_EQ(records[0].seconds, 0.5);
  EXPECT_EQ(records[1].task, std::string("t\0 2", 4));
  EXPECT_EQ(records[1].state, TaskState::failed);
  EXPECT_EQ(records[1].error, "boom");
  EXPECT_EQ(records[1].attempts, 3u);
  EXPECT_EQ(records[2].result.size(), 100000u);
  EXPECT_EQ(records[2].children, "c");
  EXPECT_FALSE(fs::exists(dir.path / "segment-00000003.h5.tmp"));

  TaskJournal other(dir.path, "params-2");
  EXPECT_THROW((void)other.load(), spmd::UsageError);
  TaskJournal fresh(dir.path, "params-1");
  EXPECT_THROW(fresh.start(false), spmd::UsageError);  // an unfinished run's work is kept
  fresh.start(true);
  EXPECT_FALSE(fresh.exists());
}

TEST(TaskJournal, ManySegmentsAreMerged) {
  ScratchDir dir("journal-merge");
  TaskJournal journal(dir.path, "");
  journal.start(false);
  const std::size_t flushes = TaskJournal::merge_threshold + 5;
  for (std::size_t i = 0; i < flushes; ++i) {
    journal.add({std::to_string(i), "t", "r", "", "", TaskState::done, 1, 1, 0});
    journal.flush();
  }
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++files;
  EXPECT_LE(files, TaskJournal::merge_threshold);
  const auto records = TaskJournal(dir.path, "").load();
  ASSERT_EQ(records.size(), flushes);
  for (std::size_t i = 0; i < flushes; ++i) EXPECT_EQ(records[i].key, std::to_string(i));
}

// Tasks n in [0, 100) emit n + 100 when n is even; the first run fails every task n % 3 == 0
// for good (as if the run had been cut off there), the resumed run completes.
spmd::FarmRun<int, long> journaled_run(const std::string& journal, bool resume, bool flaky) {
  spmd::FarmOptions options;
  options.journal = journal;
  options.resume = resume;
  options.fingerprint = "test v1";
  options.max_attempts = 1;
  options.journal_interval = 0;
  spmd::TaskFarm<int, long> farm(spmd::test::world(), options);
  for (int n = 0; n < 100; ++n) farm.submit(n);
  return farm.run([flaky](int n, spmd::TaskContext<int>& ctx) {
    if (flaky && n % 3 == 0) throw std::runtime_error("cut off");
    if (n < 100 && n % 2 == 0) ctx.emit(n + 100);
    return static_cast<long>(n) * n - 1;
  });
}

TEST(TaskJournal, ResumedFarmMatchesAnUninterruptedRun) {
  const auto& world = spmd::test::world();
  const std::string journal = spmd::test::shared_scratch_path(world, "farm-journal");
  if (world.rank() == 0) fs::remove_all(journal);

  const auto first = journaled_run(journal, false, true);
  EXPECT_GT(first.report.failed, 0u);
  // Without --resume, the unfinished run's journal is protected, on every rank alike.
  EXPECT_THROW((void)journaled_run(journal, false, false), spmd::UsageError);
  // A different fingerprint is refused everywhere.
  {
    spmd::FarmOptions options;
    options.journal = journal;
    options.resume = true;
    options.fingerprint = "test v2";
    spmd::TaskFarm<int, long> farm(world, options);
    farm.submit(1);
    EXPECT_THROW((void)farm.run([](int n) { return static_cast<long>(n); }), spmd::UsageError);
  }

  const auto resumed = journaled_run(journal, true, false);
  EXPECT_EQ(resumed.report.failed, 0u);
  EXPECT_EQ(resumed.report.resumed, first.report.done);
  EXPECT_EQ(resumed.report.tasks, 150u);
  if (world.rank() == 0) {
    ASSERT_EQ(resumed.outcomes.size(), 150u);
    std::vector<int> tasks;
    std::size_t from_journal = 0;
    for (const auto& outcome : resumed.outcomes) {
      ASSERT_TRUE(outcome.ok()) << outcome.task;
      EXPECT_EQ(*outcome.result, static_cast<long>(outcome.task) * outcome.task - 1);
      tasks.push_back(outcome.task);
      from_journal += outcome.resumed ? 1 : 0;
    }
    EXPECT_EQ(from_journal, first.report.done);
    std::sort(tasks.begin(), tasks.end());
    std::vector<int> expected(100);
    std::iota(expected.begin(), expected.end(), 0);
    for (int n = 0; n < 100; n += 2) expected.push_back(n + 100);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(tasks, expected);
  }
  // The complete run's farm removed the journal as it went out of scope: a new run starts
  // without --resume (it was refused above).
  world.barrier();
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_EQ(journaled_run(journal, false, false).report.failed, 0u);
  world.barrier();
  EXPECT_FALSE(fs::exists(journal));
  if (world.rank() == 0) fs::remove_all(journal);
}

}  // namespace
