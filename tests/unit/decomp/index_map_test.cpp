// Index maps against brute force: for n in 0..200 and p in 1..9 (n < p included), every index has
// exactly one owner, local positions are dense and in global order, and the inverse maps agree.
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/decomp/index_map.hpp"
#include "spmdkit/runtime/error.hpp"

namespace {

using spmd::decomp::Index;

template <class Map>
void check_against_brute_force(const Map& map, const std::vector<int>& expected_owner) {
  const Index n = map.size();
  ASSERT_EQ(static_cast<Index>(expected_owner.size()), n);
  std::vector<std::vector<Index>> owned(static_cast<std::size_t>(map.ranks()));
  for (Index i = 0; i < n; ++i) {
    ASSERT_EQ(map.owner(i), expected_owner[static_cast<std::size_t>(i)]) << "i=" << i;
    owned[static_cast<std::size_t>(map.owner(i))].push_back(i);
  }
  for (int r = 0; r < map.ranks(); ++r) {
    const auto& mine = owned[static_cast<std::size_t>(r)];
    ASSERT_EQ(map.local_size(r), static_cast<Index>(mine.size())) << "rank " << r;
    Index local = 0;
    for (Index i : spmd::decomp::indices(map, r)) {
      ASSERT_EQ(i, mine[static_cast<std::size_t>(local)]);
      ASSERT_EQ(map.local_to_global(r, local), i);
      const auto where = map.global_to_local(i);
      ASSERT_EQ(where.rank, r);
      ASSERT_EQ(where.local, local);
      ++local;
    }
    ASSERT_EQ(local, map.local_size(r));
  }
}

TEST(IndexMaps, BruteForce) {
  for (Index n = 0; n <= 200; ++n) {
    for (int p = 1; p <= 9; ++p) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " p=" << p);
      // Block: balanced, the first n % p ranks one larger.
      std::vector<int> block(static_cast<std::size_t>(n));
      {
        Index i = 0;
        for (int r = 0; r < p; ++r) {
          for (Index k = 0; k < n / p + (r < n % p ? 1 : 0); ++k)
            block[static_cast<std::size_t>(i++)] = r;
        }
      }
      check_against_brute_force(spmd::decomp::BlockMap(n, p), block);
      std::vector<int> cyclic(static_cast<std::size_t>(n));
      for (Index i = 0; i < n; ++i) cyclic[static_cast<std::size_t>(i)] = static_cast<int>(i % p);
      check_against_brute_force(spmd::decomp::CyclicMap(n, p), cyclic);
      for (Index b : {1, 2, 3, 7, 64}) {
        std::vector<int> block_cyclic(static_cast<std::size_t>(n));
        for (Index i = 0; i < n; ++i)
          block_cyclic[static_cast<std::size_t>(i)] = static_cast<int>((i / b) % p);
        check_against_brute_force(spmd::decomp::BlockCyclicMap(n, p, b), block_cyclic);
      }
      // Explicit: uneven, with empty ranks (every third rank gets nothing).
      std::vector<Index> extents(static_cast<std::size_t>(p), 0);
      Index left = n;
      for (int r = 0; r < p && left > 0; ++r) {
        if (r % 3 == 1 && r != p - 1) continue;
        const Index take = (r == p - 1) ? left : std::min(left, static_cast<Index>(r + 2));
        extents[static_cast<std::size_t>(r)] = take;
        left -= take;
      }
      if (left > 0) extents.back() += left;
      std::vector<int> explicit_owner;
      for (int r = 0; r < p; ++r) {
        for (Index k = 0; k < extents[static_cast<std::size_t>(r)]; ++k)
          explicit_owner.push_back(r);
      }
      check_against_brute_force(spmd::decomp::ExplicitMap(extents), explicit_owner);
    }
  }
}

TEST(IndexMaps, BadArgumentsAreUsageErrors) {
  EXPECT_THROW(spmd::decomp::BlockMap(-1, 2), spmd::UsageError);
  EXPECT_THROW(spmd::decomp::CyclicMap(5, 0), spmd::UsageError);
  EXPECT_THROW(spmd::decomp::BlockCyclicMap(5, 2, 0), spmd::UsageError);
  EXPECT_THROW(spmd::decomp::ExplicitMap({}), spmd::UsageError);
  EXPECT_THROW(spmd::decomp::ExplicitMap({2, -1}), spmd::UsageError);
}

}  // namespace
