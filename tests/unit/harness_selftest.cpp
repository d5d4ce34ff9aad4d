// Tests of the MPI test harness itself (tests/support/mpi_gtest_main.cpp), run through
// expect_run.py with a --gtest_filter: a failure on one rank must fail the test on every rank,
// name the failing rank, and make the whole run exit non-zero.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

TEST(HarnessSelfTest, PassesOnEveryRank) { EXPECT_EQ(1 + 1, 2); }

TEST(HarnessSelfTest, FailsOnLastRankOnly) {
  const auto& world = spmd::test::world();
  EXPECT_NE(world.rank(), world.size() - 1) << "deliberate failure on the last rank";
}

}  // namespace
