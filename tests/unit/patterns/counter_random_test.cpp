// Philox4x32-10 against Random123's known-answer vectors, and the properties spmd-pi relies on.
#include <set>

#include <gtest/gtest.h>

#include "spmdkit/patterns/counter_random.hpp"

namespace {

TEST(Philox, KnownAnswers) {
  using C = spmd::Philox::Counter;
  EXPECT_EQ(spmd::Philox::block({0, 0, 0, 0}, {0, 0}),
            (C{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(spmd::Philox::block({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                                {0xffffffff, 0xffffffff}),
            (C{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(spmd::Philox::block({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                                {0xa4093822, 0x299f31d0}),
            (C{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, UniformsAreInRangeAndDifferPerIndexSeedAndStream) {
  const spmd::Philox a(1), b(2);
  std::set<double> seen;
  double mean = 0;
  constexpr int n = 100000;
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto [x, y] = a.uniform_pair(i);
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    ASSERT_GE(y, 0.0);
    ASSERT_LT(y, 1.0);
    mean += x + y;
    if (i < 1000) seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_NEAR(mean / (2 * n), 0.5, 0.005);
  EXPECT_NE(a.uniform_pair(5), b.uniform_pair(5));
  EXPECT_NE(a.uniform_pair(5, 0), a.uniform_pair(5, 1));
  EXPECT_EQ(a.uniform_pair(123456789), spmd::Philox(1).uniform_pair(123456789));
}

}  // namespace
