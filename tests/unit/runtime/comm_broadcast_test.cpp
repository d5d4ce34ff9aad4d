// broadcast: the root's value on every rank, from every root, for values sent as bytes and for
// values sent through their wire codec (strings, nested containers, a user type).
#include <array>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "spmdkit/runtime/comm.hpp"
#include "test_support.hpp"

namespace {

struct Record {  // trivially copyable: travels as its bytes
  double best;
  std::array<int, 3> where;
  bool operator==(const Record&) const = default;
};

Record record_of(int rank) { return {rank * 1.5, {rank, -rank, 7}}; }

std::map<std::string, std::vector<std::string>> names_of(int rank) {
  std::map<std::string, std::vector<std::string>> names;
  for (int i = 0; i <= rank; ++i) names[fmt::format("rank{}", rank)].push_back(std::string(i, 'x'));
  names["ünïcödé"] = {fmt::format("from {}", rank)};
  return names;
}

TEST(Broadcast, EveryRootReachesEveryRank) {
  const auto& world = spmd::test::world();
  for (int root = 0; root < world.size(); ++root) {
    EXPECT_EQ(world.broadcast(world.rank() * 10 + 1, root), root * 10 + 1);
    EXPECT_EQ(world.broadcast(record_of(world.rank()), root), record_of(root));
    EXPECT_EQ(world.broadcast(fmt::format("hello from {}", world.rank()), root),
              fmt::format("hello from {}", root));
    EXPECT_EQ(world.broadcast(names_of(world.rank()), root), names_of(root));
  }
}

TEST(Broadcast, EmptyAndLargeValues) {
  const auto& world = spmd::test::world();
  EXPECT_EQ(world.broadcast(std::string(world.rank() == 0 ? "" : "not me")), "");
  std::vector<double> big(world.rank() == 0 ? 1 << 20 : 3, world.rank() == 0 ? 0.25 : -1.0);
  const auto got = world.broadcast(big);
  ASSERT_EQ(got.size(), std::size_t{1} << 20);
  EXPECT_EQ(got.front(), 0.25);
  EXPECT_EQ(got.back(), 0.25);
}

}  // namespace
