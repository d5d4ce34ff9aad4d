// A field with ghosts written in place at P ranks and read back at Q ranks, each rank with its
// own subdomain of another decomposition: every owned cell comes back; ghosts stay untouched.
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/decomp/io_adapter.hpp"
#include "test_support.hpp"

namespace {

using namespace spmd::decomp;

double value(Index z, Index y, Index x) { return static_cast<double>(z * 10000 + y * 100 + x); }

std::vector<double> make_field(const Subdomain<3>& sub, double ghost_value) {
  const auto e = sub.local_extents();
  std::vector<double> field(static_cast<std::size_t>(sub.local_cells()), ghost_value);
  const auto& o = sub.owned();
  for (Index z = o.lo[0]; z < o.hi[0]; ++z) {
    for (Index y = o.lo[1]; y < o.hi[1]; ++y) {
      for (Index x = o.lo[2]; x < o.hi[2]; ++x) {
        field[static_cast<std::size_t>(sub.local_index({z, y, x}))] = value(z, y, x);
      }
    }
  }
  static_cast<void>(e);
  return field;
}

TEST(IoAdapter, FieldWrittenAtPReadAtQ) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "field.h5");
  const CartSpec<3> spec{.cells = {4, 5, 6}, .ghost = {1, 2, 1}, .stencil = Stencil::star};
  {
    CartDecomposition<3> cart(world, spec);
    auto file = spmd::io::File::create(world, path);
    const auto field = make_field(cart.subdomain(), -7.0);
    const auto report = write_field<double>(file, "fields/T", cart.subdomain(),
                                            std::span<const double>(field), {.units = "K"});
    EXPECT_TRUE(report.collective) << report.cause;
    file.close();
  }
  // Read back on a different number of ranks (all but the last, at least 1), another grid.
  const int readers = std::max(1, world.size() - 1);
  const auto sub_comm = world.split(world.rank() < readers ? 0 : 1);
  if (world.rank() < readers) {
    CartDecomposition<3> cart(sub_comm,
                              {.cells = {4, 5, 6}, .ghost = {1, 1, 2}, .stencil = Stencil::star});
    auto file = spmd::io::File::open(sub_comm, path);
    std::vector<double> field(static_cast<std::size_t>(cart.subdomain().local_cells()), -7.0);
    const auto report =
        read_field<double>(file, "fields/T", cart.subdomain(), std::span<double>(field));
    EXPECT_TRUE(report.collective) << report.cause;
    EXPECT_EQ(field, make_field(cart.subdomain(), -7.0));
    file.close();
  }
  spmd::test::remove_shared(world, path);
}

}  // namespace
