// Typed reductions against serial references computed from every rank's known contribution.
#include <array>
#include <numeric>

#include <gtest/gtest.h>

#include "spmdkit/runtime/comm.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

// A user type: the bounding interval and count of some samples.
struct Range {
  double lo, hi;
  long count;
  friend bool operator==(const Range&, const Range&) = default;
};
Range merge(const Range& a, const Range& b) {
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi), a.count + b.count};
}
Range mine(int rank) { return {-1.0 * rank, 2.0 * rank + 0.5, rank + 1L}; }

// Non-commutative: 2x2 integer matrix product, so any reordering changes the result.
using Matrix = std::array<long, 4>;
Matrix times(const Matrix& a, const Matrix& b) {
  return {a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
          a[2] * b[1] + a[3] * b[3]};
}
Matrix matrix_of(int rank) { return {1, rank + 1L, 0, 1 + (rank % 2)}; }
struct MatrixProduct {
  Matrix operator()(const Matrix& a, const Matrix& b) const { return times(a, b); }
};

TEST(Reduce, BuiltInTypesAndOperations) {
  const auto& world = spmd::test::world();
  const int p = world.size();
  const int r = world.rank();
  EXPECT_EQ(world.allreduce(static_cast<long>(r + 1), std::plus<>{}), p * (p + 1L) / 2);
  EXPECT_EQ(world.allreduce(2.0 + r, spmd::op::max{}), 1.0 + p);
  EXPECT_EQ(world.allreduce(5 - r, spmd::op::min{}), 5 - (p - 1));
  const auto sums = world.allreduce(std::vector<int>{r, 1, -r}, std::plus<>{});
  EXPECT_EQ(sums, (std::vector<int>{p * (p - 1) / 2, p, -p * (p - 1) / 2}));
  const auto on_root = world.reduce(1, std::plus<>{}, p - 1);
  EXPECT_EQ(on_root.has_value(), r == p - 1);
  if (on_root) {
    EXPECT_EQ(*on_root, p);
  }
}

TEST(Reduce, UserTypeWithLambda) {
  const auto& world = spmd::test::world();
  Range expected = mine(0);
  for (int q = 1; q < world.size(); ++q) expected = merge(expected, mine(q));
  const long offset = 0;  // a capturing lambda is fine for blocking calls
  const Range got = world.allreduce(mine(world.rank()), [offset](const Range& a, const Range& b) {
    Range m = merge(a, b);
    m.count += offset;
    return m;
  });
  EXPECT_EQ(got, expected);
}

TEST(Reduce, NonCommutativeKeepsRankOrder) {
  const auto& world = spmd::test::world();
  Matrix expected = matrix_of(0);
  for (int q = 1; q < world.size(); ++q) expected = times(expected, matrix_of(q));
  EXPECT_EQ(world.allreduce(matrix_of(world.rank()), MatrixProduct{}, spmd::Commutative::no),
            expected);
  // Inclusive and exclusive prefixes, in rank order too.
  Matrix prefix = matrix_of(0);
  for (int q = 1; q <= world.rank(); ++q) prefix = times(prefix, matrix_of(q));
  EXPECT_EQ(world.scan(matrix_of(world.rank()), MatrixProduct{}, spmd::Commutative::no), prefix);
  const Matrix identity{1, 0, 0, 1};
  Matrix before = identity;
  for (int q = 0; q < world.rank(); ++q) before = times(before, matrix_of(q));
  EXPECT_EQ(world.exscan(matrix_of(world.rank()), MatrixProduct{}, identity, spmd::Commutative::no),
            before);
}

// Comm keeps its rank and size (read once from MPI): they must be MPI's for every communicator,
// and a null communicator has neither.
TEST(Communicator, RankAndSizeAreMpisOwn) {
  const auto& world = spmd::test::world();
  const auto halves = world.split(world.rank() % 2);
  int rank = -1, size = -1;
  MPI_Comm_rank(halves.native(), &rank);
  MPI_Comm_size(halves.native(), &size);
  EXPECT_EQ(halves.rank(), rank);
  EXPECT_EQ(halves.size(), size);
  EXPECT_EQ(halves.size(), (world.size() + 1 - world.rank() % 2) / 2);
  EXPECT_EQ(halves.allreduce(1, std::plus<>{}), halves.size());
  const auto none = world.split(MPI_UNDEFINED);
  EXPECT_TRUE(none.is_null());
  EXPECT_THROW(static_cast<void>(none.rank()), spmd::Error);
  EXPECT_THROW(static_cast<void>(spmd::Comm().size()), spmd::Error);
}

TEST(Reduce, NonBlocking) {
  const auto& world = spmd::test::world();
  auto pending = world.iallreduce(static_cast<double>(world.rank()), std::plus<>{});
  auto product = world.iallreduce(matrix_of(world.rank()), MatrixProduct{}, spmd::Commutative::no);
  const double p = world.size();
  EXPECT_EQ(pending.wait(), p * (p - 1) / 2);
  Matrix expected = matrix_of(0);
  for (int q = 1; q < world.size(); ++q) expected = times(expected, matrix_of(q));
  EXPECT_EQ(product.wait(), expected);
  EXPECT_TRUE(pending.test());
  { auto dropped = world.iallreduce(1, std::plus<>{}); }  // destructor waits: no leak, no hang
}

}  // namespace
