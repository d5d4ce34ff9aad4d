// Agreement on how a run ended: the lowest failed rank reports, the largest exit code wins, and a
// failed rank does not wait for ranks that never arrive.
#include <chrono>
#include <exception>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "spmdkit/runtime/environment.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/failure_agreement.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(AgreeOnFailure, AllSucceed) {
  const auto agreement = spmd::test::world().agree_on_failure({0, false});
  ASSERT_TRUE(agreement.has_value());
  EXPECT_EQ(agreement->exit_code, 0);
  EXPECT_EQ(agreement->first_failed_rank, -1);
}

TEST(AgreeOnFailure, OneRankFailsOthersFinish) {
  const auto& world = spmd::test::world();
  const int failing = world.size() - 1;
  const bool i_fail = world.rank() == failing;
  const auto agreement =
      world.agree_on_failure({i_fail ? 2 : 0, i_fail},
                             i_fail ? std::optional(std::chrono::milliseconds(10s)) : std::nullopt);
  ASSERT_TRUE(agreement.has_value());
  EXPECT_EQ(agreement->exit_code, 2);
  EXPECT_EQ(agreement->first_failed_rank, failing);
}

TEST(AgreeOnFailure, LowestFailedRankAndLargestCodeWin) {
  const auto& world = spmd::test::world();
  // Every rank fails, with exit code = rank + 1.
  const auto agreement = world.agree_on_failure({world.rank() + 1, true}, 10s);
  ASSERT_TRUE(agreement.has_value());
  EXPECT_EQ(agreement->first_failed_rank, 0);
  EXPECT_EQ(agreement->exit_code, world.size());
}

TEST(AgreeOnFailure, FailedRankGivesUpWhenOthersDoNotArrive) {
  const auto& world = spmd::test::world();
  if (world.size() < 2) GTEST_SKIP() << "needs a second rank that arrives late";
  // A private communicator: the late collective must not disturb later tests. It is kept for the
  // life of the process because rank 0 leaves its part of the collective pending (as spmd::run
  // does just before it aborts), and Open MPI must not see the communicator freed under it.
  static const auto comm = world.duplicate();
  if (comm.rank() == 0) {
    const auto start = std::chrono::steady_clock::now();
    const auto agreement = comm.agree_on_failure({1, true}, 100ms);
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(agreement.has_value());
    EXPECT_GE(waited, 100ms);
    EXPECT_LT(waited, 5s);
  } else {
    std::this_thread::sleep_for(600ms);  // "busy elsewhere" well past rank 0's patience
    const auto agreement = comm.agree_on_failure({0, false});
    ASSERT_TRUE(agreement.has_value());  // rank 0's contribution was posted before it gave up
    EXPECT_EQ(agreement->first_failed_rank, 0);
  }
  world.barrier();
}

// The failure protocol of the pipeline and the farm: the same error on every rank, of the kind
// of the lowest failing rank.
TEST(AgreeOnFailure, FirstFailureIsThrownEverywhere) {
  const auto& world = spmd::test::world();
  EXPECT_NO_THROW(world.throw_first_failure(nullptr, ""));
  const int last = world.size() - 1;
  auto fail_on = [&](int rank, auto error) {
    std::exception_ptr mine;
    if (world.rank() == rank) mine = std::make_exception_ptr(error);
    world.throw_first_failure(mine, "failed on rank " + std::to_string(world.rank()));
  };
  try {
    fail_on(last, spmd::UsageError("bad input"));
    ADD_FAILURE() << "no error thrown";
  } catch (const spmd::UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "failed on rank " + std::to_string(last));
  }
  // Every rank fails, rank 0 with an error and the others with bad input: rank 0's error wins.
  std::exception_ptr mine = world.rank() == 0 ? std::make_exception_ptr(spmd::Error("broken"))
                                              : std::make_exception_ptr(spmd::UsageError("bad"));
  try {
    world.throw_first_failure(mine, "from " + std::to_string(world.rank()));
    ADD_FAILURE() << "no error thrown";
  } catch (const spmd::UsageError&) {
    ADD_FAILURE() << "rank 0's kind of error was not kept";
  } catch (const spmd::Error& e) {
    EXPECT_EQ(std::string(e.what()), "from 0");
  }
}

TEST(AgreeOnFailure, GraceComesFromTheEnvironment) {
  ::setenv("SPMD_FAILURE_GRACE_MS", "250", 1);
  EXPECT_EQ(spmd::failure_grace(), 250ms);
  ::setenv("SPMD_FAILURE_GRACE_MS", "not a number", 1);
  EXPECT_EQ(spmd::failure_grace(), 1500ms);
  ::unsetenv("SPMD_FAILURE_GRACE_MS");
  EXPECT_EQ(spmd::failure_grace(), 1500ms);
}

}  // namespace
