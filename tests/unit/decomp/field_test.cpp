// decomp::Field: interior() and rim() cover every owned cell exactly once (any ghost width, any
// subdomain size, empty interiors included); a 9-point update over them equals a serial one at
// any rank count; at() refuses cells the rank does not hold; a series appended from fields in
// place reopens and reads back frame by frame, truncates, and continues.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/decomp/field.hpp"
#include "test_support.hpp"

namespace {

using namespace spmd::decomp;

template <std::size_t D>
std::vector<int> coverage(const Field<int, D>& field) {
  std::vector<int> hits(field.values().size(), 0);
  auto count = [&](const Box<D>& box) {
    for_each_cell(box, field.strides(), [&](Index i) { ++hits[static_cast<std::size_t>(i)]; });
  };
  count(field.interior());
  for (const auto& box : field.rim()) count(box);
  return hits;
}

template <std::size_t D>
void expect_rim_and_interior_partition_owned(const CartSpec<D>& spec) {
  const Field<int, D> field(make_cart<D>(spmd::test::world(), spec));
  const auto hits = coverage(field);
  std::vector<int> owned(hits.size(), 0);
  Field<int, D> marker(make_cart<D>(spmd::test::world(), spec));
  marker.for_owned([](int& v, const auto&) { v = 1; });
  for (std::size_t i = 0; i < hits.size(); ++i) {
    ASSERT_EQ(hits[i], marker.values()[i]) << "local cell " << i;
  }
}

TEST(Field, InteriorAndRimCoverEachOwnedCellOnce) {
  expect_rim_and_interior_partition_owned<1>({.cells = {17}, .ghost = {2}});
  expect_rim_and_interior_partition_owned<2>(
      {.cells = {9, 13}, .ghost = {1, 1}, .stencil = Stencil::box});
  expect_rim_and_interior_partition_owned<2>(
      {.cells = {5, 9}, .ghost = {1, 2}, .stencil = Stencil::star});
  expect_rim_and_interior_partition_owned<3>(
      {.cells = {4, 7, 5}, .ghost = {1, 2, 1}, .stencil = Stencil::box});
  // Subdomains 1 or 2 cells thick along an axis at 3 ranks: empty interiors.
  expect_rim_and_interior_partition_owned<3>(
      {.cells = {4, 4, 6}, .ghost = {1, 1, 1}, .stencil = Stencil::star});
}

// A value per global cell, from its coordinates alone.
double start(Index y, Index x) { return static_cast<double>((y * 31 + x * 17) % 23); }

TEST(Field, NinePointUpdateMatchesSerial) {
  constexpr Index ny = 11, nx = 14;
  const auto grid = make_cart<2>(
      spmd::test::world(),
      {.cells = {ny, nx}, .periodic = {true, true}, .ghost = {1, 1}, .stencil = Stencil::box});
  Field<double, 2> u(grid), next(grid);
  u.for_owned([](double& v, const auto& g) { v = start(g[0], g[1]); });
  auto update = [&](const Box<2>& box) {
    const double* c = u.values().data();
    double* out = next.values().data();
    const Index row = u.strides()[0];
    for_each_cell(box, u.strides(), [&](Index i) {
      out[i] = c[i - row - 1] + c[i - row] + c[i - row + 1] + c[i - 1] + 2 * c[i] + c[i + 1] +
               c[i + row - 1] + c[i + row] + c[i + row + 1];
    });
  };
  auto pending = u.begin_exchange();
  update(u.interior());
  pending.end();
  for (const auto& box : u.rim()) update(box);
  u.swap(next);
  u.for_owned([&](double v, const auto& g) {
    double want = start(g[0], g[1]);
    for (Index dy = -1; dy <= 1; ++dy) {
      for (Index dx = -1; dx <= 1; ++dx)
        want += start((g[0] + dy + ny) % ny, (g[1] + dx + nx) % nx);
    }
    EXPECT_EQ(v, want) << "cell " << g[0] << ", " << g[1];
  });
}

TEST(Field, AtRefusesCellsNotHeld) {
  const auto& world = spmd::test::world();
  Field<double, 1> f(make_cart<1>(world, {.cells = {4 * world.size()}, .ghost = {1}}), 2.5);
  const auto& owned = f.sub().owned();
  EXPECT_EQ(f.at({owned.lo[0] - 1}), 2.5);  // a ghost
  f.at({owned.lo[0]}) = 1.0;
  EXPECT_EQ(f.at({owned.lo[0]}), 1.0);
  EXPECT_THROW(static_cast<void>(f.at({owned.hi[0] + 1})), spmd::Error);
  Field<double, 1> other(make_cart<1>(world, {.cells = {4 * world.size()}, .ghost = {1}}));
  EXPECT_THROW(f.swap(other), spmd::Error);
}

TEST(Field, SeriesAppendedInPlaceReopensAndContinues) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "field-series.h5");
  const auto grid =
      make_cart<2>(world, {.cells = {5, 7}, .ghost = {1, 2}, .stencil = Stencil::star});
  Field<std::int32_t, 2> f(grid, -1);
  auto fill = [&](int frame) {
    f.for_owned([&](std::int32_t& v, const auto& g) {
      v = static_cast<std::int32_t>(frame * 100 + g[0] * 7 + g[1]);
    });
  };
  {
    auto file = spmd::io::File::create(world, path);
    auto series = spmd::io::TimeSeries::create<std::int32_t>(file, "fields/f", {5, 7});
    for (int frame = 0; frame < 3; ++frame) {
      fill(frame);
      f.append_to(series, 0.5 * frame);
    }
    file.close();
  }
  {
    auto file = spmd::io::File::open(world, path, spmd::io::Access::read_write);
    auto series = spmd::io::TimeSeries::open<std::int32_t>(file, "fields/f");
    ASSERT_EQ(series.frames(), 3u);
    EXPECT_EQ(series.times(), (std::vector<double>{0.0, 0.5, 1.0}));
    EXPECT_THROW(static_cast<void>(spmd::io::TimeSeries::open<double>(file, "fields/f")),
                 spmd::Error);
    Field<std::int32_t, 2> back(grid, -1);
    back.read_frame(series, 1);
    fill(1);
    EXPECT_EQ(back.owned_values(), f.owned_values());
    series.truncate(2);
    fill(7);
    f.append_to(series, 3.5);
    EXPECT_EQ(series.frames(), 3u);
    back.read_frame(series, 2);
    EXPECT_EQ(back.owned_values(), f.owned_values());
    EXPECT_EQ(spmd::io::read_times(file, "fields/time"), (std::vector<double>{0.0, 0.5, 3.5}));
    EXPECT_TRUE(series.xdmf_field("f").integer);
    file.close();
  }
  spmd::test::remove_shared(world, path);
}

}  // namespace
