// Cartesian decompositions and halo exchange against a serial reference: every ghost cell holds
// exactly the value the global array has there (wrapped across periodic boundaries), cells the
// stencil does not reach keep their sentinel, in 1-D, 2-D and 3-D, periodic or not, STAR and BOX,
// with uneven extents, at every rank count.
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/decomp/cart.hpp"
#include "spmdkit/decomp/halo.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

using namespace spmd::decomp;

constexpr double sentinel = -1.0;

template <std::size_t D>
double reference_value(const std::array<Index, D>& g) {
  double v = 0.5;
  for (std::size_t a = 0; a < D; ++a) v = v * 1000.0 + static_cast<double>(g[a]);
  return v;
}

// Calls fn(local coordinate array) for every cell of the local array, C order.
template <std::size_t D, class Fn>
void for_each_local(const std::array<Index, D>& extents, Fn&& fn) {
  std::array<Index, D> at{};
  const Index total = [&] {
    Index n = 1;
    for (Index e : extents) n *= e;
    return n;
  }();
  for (Index n = 0; n < total; ++n) {
    fn(at);
    for (std::size_t a = D; a-- > 0;) {
      if (++at[a] < extents[a]) break;
      at[a] = 0;
    }
  }
}

template <std::size_t D>
void check_exchange(const CartSpec<D>& spec, bool split_phase) {
  const auto& world = spmd::test::world();
  CartDecomposition<D> cart(world, spec);
  const Subdomain<D>& sub = cart.subdomain();
  const auto extents = sub.local_extents();
  std::vector<double> field(static_cast<std::size_t>(sub.local_cells()), sentinel);
  Index position = 0;
  for_each_local<D>(extents, [&](const std::array<Index, D>& at) {
    bool owned = true;
    std::array<Index, D> g{};
    for (std::size_t a = 0; a < D; ++a) {
      g[a] = sub.owned().lo[a] - sub.ghost()[a] + at[a];
      owned &= g[a] >= sub.owned().lo[a] && g[a] < sub.owned().hi[a];
    }
    if (owned) field[static_cast<std::size_t>(position)] = reference_value<D>(g);
    ++position;
  });

  HaloExchange<double, D> halo(cart);
  if (split_phase) {
    auto pending = halo.begin(field);
    EXPECT_NO_THROW(static_cast<void>(pending.test()));  // may or may not be done yet
    pending.end();
  } else {
    halo.exchange(field);
  }

  position = 0;
  int wrong = 0;
  for_each_local<D>(extents, [&](const std::array<Index, D>& at) {
    std::array<Index, D> g{};
    int outside_axes = 0;
    bool reachable = true;
    for (std::size_t a = 0; a < D; ++a) {
      g[a] = sub.owned().lo[a] - sub.ghost()[a] + at[a];
      if (g[a] < sub.owned().lo[a] || g[a] >= sub.owned().hi[a]) ++outside_axes;
      if (g[a] < 0 || g[a] >= spec.cells[a]) {
        if (spec.periodic[a]) {
          g[a] = (g[a] + spec.cells[a]) % spec.cells[a];
        } else {
          reachable = false;
        }
      }
    }
    if (spec.stencil == Stencil::star && outside_axes > 1) reachable = false;
    const double expected = reachable ? reference_value<D>(g) : sentinel;
    if (field[static_cast<std::size_t>(position)] != expected && ++wrong <= 5) {
      ADD_FAILURE() << "local cell " << position << ": "
                    << field[static_cast<std::size_t>(position)] << ", expected " << expected;
    }
    ++position;
  });
  EXPECT_EQ(wrong, 0);
}

TEST(Halo, OneDimensional) {
  for (bool periodic : {false, true}) {
    for (int ghost : {1, 2}) {
      CartSpec<1> spec{.cells = {13}, .periodic = {periodic}, .ghost = {ghost}};
      SCOPED_TRACE(testing::Message() << "periodic " << periodic << " ghost " << ghost);
      check_exchange<1>(spec, ghost == 2);
    }
  }
}

TEST(Halo, TwoDimensionalStarAndBox) {
  for (auto stencil : {Stencil::star, Stencil::box}) {
    for (auto periodic : {std::array<bool, 2>{false, false}, std::array<bool, 2>{true, false},
                          std::array<bool, 2>{true, true}}) {
      CartSpec<2> spec{.cells = {7, 5}, .periodic = periodic, .ghost = {1, 2}, .stencil = stencil};
      SCOPED_TRACE(testing::Message() << "box " << (stencil == Stencil::box) << " periodic "
                                      << periodic[0] << periodic[1]);
      check_exchange<2>(spec, true);
    }
  }
}

TEST(Halo, ThreeDimensionalStarAndBox) {
  for (auto stencil : {Stencil::star, Stencil::box}) {
    for (bool periodic : {false, true}) {
      CartSpec<3> spec{.cells = {5, 4, 6},
                       .periodic = {periodic, periodic, periodic},
                       .ghost = {1, 1, 1},
                       .stencil = stencil};
      SCOPED_TRACE(testing::Message()
                   << "box " << (stencil == Stencil::box) << " periodic " << periodic);
      check_exchange<3>(spec, stencil == Stencil::box);
    }
  }
}

TEST(Halo, ExplicitUnevenExtentsAndGivenProcessGrid) {
  const int size = spmd::test::world().size();
  std::vector<Index> extents(static_cast<std::size_t>(size));
  Index total = 0;
  for (int r = 0; r < size; ++r) total += extents[static_cast<std::size_t>(r)] = r + 1;
  CartSpec<2> spec{.cells = {total, 3},
                   .periodic = {true, false},
                   .procs = {size, 1},
                   .ghost = {1, 1},
                   .stencil = Stencil::box,
                   .extents = {extents, {}}};
  check_exchange<2>(spec, true);
}

TEST(Halo, RequestDestroyedWithoutEndCompletes) {
  const auto& world = spmd::test::world();
  CartDecomposition<1> cart(world, {.cells = {8}, .periodic = {true}, .ghost = {1}});
  std::vector<double> field(static_cast<std::size_t>(cart.subdomain().local_cells()),
                            static_cast<double>(world.rank()));
  HaloExchange<double, 1> halo(cart);
  { auto pending = halo.begin(field); }                     // the destructor waits
  const auto n = cart.subdomain().neighbour({-1}).value();  // a copy: the optional is a temporary
  EXPECT_EQ(field.front(), static_cast<double>(n.rank));
  EXPECT_THROW(static_cast<void>(halo.begin(std::span<double>(field).first(1))), spmd::Error);
}

// No silent stencil: with ghosts in 2+ dimensions the stencil must be chosen (a corner-reading
// update with face-only ghosts would read stale corners); 1-D, or no ghosts, needs no choice.
TEST(Cart, StencilMustBeChosenWhereCornersExist) {
  const auto& world = spmd::test::world();
  EXPECT_THROW((CartDecomposition<2>(world, {.cells = {8, 8}, .ghost = {1, 1}})), spmd::UsageError);
  EXPECT_THROW((CartDecomposition<3>(world, {.cells = {4, 4, 4}, .ghost = {0, 0, 1}})),
               spmd::UsageError);
  EXPECT_NO_THROW((CartDecomposition<2>(world, {.cells = {8, 8}})));
  EXPECT_NO_THROW((CartDecomposition<1>(world, {.cells = {8}, .ghost = {1}})));
  EXPECT_NO_THROW(
      (CartDecomposition<2>(world, {.cells = {8, 8}, .ghost = {1, 1}, .stencil = Stencil::box})));
}

TEST(Cart, SubdomainsTileTheGridAndNeighboursAreMutual) {
  const auto& world = spmd::test::world();
  CartDecomposition<2> cart(
      world,
      {.cells = {9, 4}, .periodic = {true, false}, .ghost = {1, 1}, .stencil = Stencil::box});
  std::vector<int> cover(36, 0);
  for (int r = 0; r < world.size(); ++r) {
    const auto sub = cart.subdomain_of(r);
    for (Index y = sub.owned().lo[0]; y < sub.owned().hi[0]; ++y) {
      for (Index x = sub.owned().lo[1]; x < sub.owned().hi[1]; ++x)
        ++cover[static_cast<std::size_t>(y * 4 + x)];
    }
    for (const auto& n : sub.neighbours()) {
      if (n.rank == MPI_PROC_NULL) continue;
      Offset<2> back{-n.offset[0], -n.offset[1]};
      EXPECT_EQ(cart.subdomain_of(n.rank).neighbour(back)->rank, r);
    }
    EXPECT_EQ(sub.neighbours().size(), 8U);
  }
  for (int c : cover) EXPECT_EQ(c, 1);
  EXPECT_EQ(cart.subdomain().owned(), cart.subdomain_of(world.rank()).owned());
}

TEST(Cart, OneRankPeriodicIsItsOwnNeighbour) {
  const auto& world = spmd::test::world();
  const auto self = world.split(world.rank());  // a 1-rank communicator on every rank
  CartDecomposition<2> cart(
      self, {.cells = {3, 3}, .periodic = {true, true}, .ghost = {1, 1}, .stencil = Stencil::star});
  const auto right = cart.subdomain().neighbour({0, 1});
  ASSERT_TRUE(right.has_value());
  EXPECT_EQ(right->rank, 0);
  EXPECT_TRUE(right->periodic_image);
  CartDecomposition<2> closed(self, {.cells = {3, 3}, .ghost = {1, 1}, .stencil = Stencil::star});
  EXPECT_EQ(closed.subdomain().neighbour({0, 1})->rank, MPI_PROC_NULL);
}

TEST(Cart, BadShapesAreUsageErrors) {
  const auto& world = spmd::test::world();
  EXPECT_THROW(CartDecomposition<2>(world, {.cells = {0, 4}}), spmd::UsageError);
  EXPECT_THROW(CartDecomposition<1>(world, {.cells = {-3}}), spmd::UsageError);
  if (world.size() > 1) {
    EXPECT_THROW(CartDecomposition<1>(world, {.cells = {1}}),
                 spmd::UsageError);  // more ranks than cells
  }
  EXPECT_THROW(CartDecomposition<1>(world, {.cells = {4L * world.size()}, .ghost = {5}}),
               spmd::UsageError);  // ghosts wider than a subdomain
}

}  // namespace
