// Tree reductions of serialized objects against serial references, at every radix and root:
// maps (commutative merge), strings (non-commutative: rank order must hold), uneven vectors.
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "spmdkit/patterns/tree_reduce.hpp"
#include "test_support.hpp"

namespace {

using Histogram = std::map<std::string, long>;

Histogram histogram_of(int rank) {
  Histogram h;
  for (int i = 0; i <= rank * 3; ++i) h[fmt::format("bin{}", (i * 7 + rank) % 11)] += i + 1;
  if (rank % 2 == 0) h["even"] = rank;
  return h;
}

Histogram merge_histograms(Histogram a, const Histogram& b) {
  for (const auto& [key, count] : b) a[key] += count;
  return a;
}

TEST(TreeReduce, HistogramsAtEveryRadixAndRoot) {
  const auto& world = spmd::test::world();
  Histogram expected;
  for (int r = 0; r < world.size(); ++r) expected = merge_histograms(expected, histogram_of(r));
  for (int radix = 2; radix <= 5; ++radix) {
    for (const int root : {0, world.size() - 1}) {
      const auto result = spmd::tree_reduce(world, histogram_of(world.rank()), merge_histograms,
                                            {.radix = radix, .root = root});
      if (world.rank() == root) {
        ASSERT_TRUE(result.has_value());
        EXPECT_EQ(*result, expected) << "radix " << radix;
      } else {
        EXPECT_FALSE(result.has_value());
      }
    }
  }
}

TEST(TreeReduce, NonCommutativeMergeKeepsRankOrder) {
  const auto& world = spmd::test::world();
  std::string expected;
  for (int r = 0; r < world.size(); ++r) expected += fmt::format("[{}]", r);
  for (int radix = 2; radix <= 4; ++radix) {
    const auto all = spmd::tree_allreduce(
        world, fmt::format("[{}]", world.rank()),
        [](std::string a, const std::string& b) { return a + b; }, radix);
    EXPECT_EQ(all, expected) << "radix " << radix;
  }
}

TEST(TreeReduce, UnevenVectorsAndEmptyRanks) {
  const auto& world = spmd::test::world();
  std::vector<double> mine(world.rank() % 2 == 1 ? 0 : 1000 * (world.rank() + 1), world.rank());
  const auto all = spmd::tree_allreduce(
      world, mine,
      [](std::vector<double> a, const std::vector<double>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
      },
      3);
  std::vector<double> expected;
  for (int r = 0; r < world.size(); ++r) {
    expected.insert(expected.end(), r % 2 == 1 ? 0 : 1000 * (r + 1), static_cast<double>(r));
  }
  EXPECT_EQ(all, expected);
}

TEST(TreeReduce, BadRadixIsAUsageError) {
  const auto& world = spmd::test::world();
  EXPECT_THROW((void)spmd::tree_reduce(world, 1, [](int a, int b) { return a + b; }, {.radix = 1}),
               spmd::UsageError);
}

}  // namespace
