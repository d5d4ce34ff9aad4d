// Keyed reduction against a serial reference: each rank can regenerate every rank's words, so
// the expected totals are computed locally and compared with what the shuffle produced.
#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "spmdkit/patterns/keyed_reduce.hpp"
#include "test_support.hpp"

namespace {

// Rank r's word counts: overlapping vocabularies, some keys only on some ranks, an empty key.
std::unordered_map<std::string, long> words_of(int rank) {
  std::unordered_map<std::string, long> counts;
  for (int i = 0; i < 50 + 7 * rank; ++i) {
    counts[fmt::format("w{}", (i * (rank + 3)) % 61)] += i % 5 + 1;
  }
  counts[fmt::format("rank-{}", rank)] = 1;
  if (rank % 2 == 1) counts[""] += 2;
  return counts;
}

std::map<std::string, long> serial_totals(int ranks) {
  std::map<std::string, long> totals;
  for (int r = 0; r < ranks; ++r) {
    for (const auto& [key, count] : words_of(r)) totals[key] += count;
  }
  return totals;
}

TEST(KeyedReduce, EveryKeyOnItsOwnerWithItsTotal) {
  const auto& world = spmd::test::world();
  const auto owned = spmd::reduce_by_key(world, words_of(world.rank()), std::plus<>{});
  const auto totals = serial_totals(world.size());
  for (const auto& [key, total] : owned) {
    EXPECT_EQ(spmd::key_owner(key, world.size()), world.rank()) << key;
    EXPECT_EQ(total, totals.at(key)) << key;
  }
  long mine = 0;
  for (const auto& [key, total] : totals)
    mine += spmd::key_owner(key, world.size()) == world.rank() ? 1 : 0;
  EXPECT_EQ(static_cast<long>(owned.size()), mine);
}

TEST(KeyedReduce, GatherOrderedByKeyAndTopK) {
  const auto& world = spmd::test::world();
  const auto owned = spmd::reduce_by_key(world, words_of(world.rank()), std::plus<>{});
  const auto all = spmd::gather_by_key(world, owned, 0);
  const auto top = spmd::top_k(world, owned, 5, 0);
  if (world.rank() == 0) {
    const auto totals = serial_totals(world.size());
    EXPECT_EQ(all, totals);
    std::vector<std::pair<std::string, long>> expected(totals.begin(), totals.end());
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    expected.resize(5);
    EXPECT_EQ(top, expected);
  } else {
    EXPECT_TRUE(all.empty());
    EXPECT_TRUE(top.empty());
  }
}

TEST(KeyedReduce, StableHashIsFnv1a) {
  EXPECT_EQ(spmd::stable_hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(spmd::stable_hash("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(spmd::key_owner("anything", 1), 0);
}

}  // namespace

namespace {

// Values need not be trivially copyable: each key collects the set of ranks that held it, as a
// sorted list of rank names (combined by merging), against the serial reference.
TEST(KeyedReduce, ValuesOfAnyEncodableType) {
  const auto& world = spmd::test::world();
  using Holders = std::vector<std::string>;
  auto holders_of = [](int rank) {
    std::unordered_map<std::string, Holders> local;
    for (const auto& [key, count] : words_of(rank)) local[key] = {fmt::format("r{}", rank)};
    return local;
  };
  auto merge = [](Holders a, const Holders& b) {
    Holders both;
    std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    return both;
  };
  const auto owned = spmd::reduce_by_key(world, holders_of(world.rank()), merge);
  const auto all = spmd::gather_by_key(world, owned, 0);
  if (world.rank() == 0) {
    std::map<std::string, Holders> expected;
    for (int r = 0; r < world.size(); ++r) {
      for (const auto& [key, holders] : holders_of(r)) {
        expected[key] = merge(expected[key], holders);
      }
    }
    EXPECT_EQ(all, expected);
  }
}

}  // namespace
