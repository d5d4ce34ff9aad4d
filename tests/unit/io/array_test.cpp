// Distributed arrays: every rank writes its box (some boxes empty), the file holds the global
// array exactly as a serial program would have written it, and the transfer was collective.
#include <cmath>
#include <cstdio>

#include <fstream>

#include <gtest/gtest.h>

#include "spmdkit/decomp/io_adapter.hpp"
#include "spmdkit/io/array.hpp"
#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

using spmd::io::Extents;
using spmd::io::Selection;

// The serial reference: element value from its global index, distinct everywhere.
template <class T>
T reference(const Extents& shape, const Extents& index) {
  double flat = 0;
  for (std::size_t d = 0; d < shape.size(); ++d)
    flat = flat * static_cast<double>(shape[d]) + static_cast<double>(index[d]);
  return static_cast<T>(flat * 0.5 + 1.0);
}

// Fills `box` of the global array with reference values (C order).
template <class T>
std::vector<T> fill(const Extents& shape, const Selection& box) {
  std::vector<T> values;
  values.reserve(box.elements());
  Extents index = box.offset;
  for (hsize_t n = 0; n < box.elements(); ++n) {
    values.push_back(reference<T>(shape, index));
    for (std::size_t d = shape.size(); d-- > 0;) {  // odometer, last dimension fastest
      if (++index[d] < box.offset[d] + box.count[d]) break;
      index[d] = box.offset[d];
    }
  }
  return values;
}

Selection whole(const Extents& shape) { return Selection{Extents(shape.size(), 0), shape}; }

// An uneven split along the leading dimension: rank r gets r+1 rows until they run out, so with
// more ranks than rows some ranks own nothing.
Selection uneven_block(const Extents& shape, int rank) {
  Selection box{Extents(shape.size(), 0), shape};
  hsize_t start = 0;
  for (int r = 0; r < rank; ++r) start += static_cast<hsize_t>(r + 1);
  start = std::min(start, shape[0]);
  box.offset[0] = start;
  box.count[0] = std::min<hsize_t>(static_cast<hsize_t>(rank + 1), shape[0] - start);
  if (rank == spmd::test::world().size() - 1) box.count[0] = shape[0] - start;  // the rest
  return box;
}

class ArrayRoundTrip : public testing::TestWithParam<Extents> {};

TEST_P(ArrayRoundTrip, UnevenAndEmptyBoxes) {
  const auto& world = spmd::test::world();
  const Extents shape = GetParam();
  const std::string path = spmd::test::shared_scratch_path(world, "array.h5");
  const Selection mine = uneven_block(shape, world.rank());
  {
    auto file = spmd::io::File::create(world, path);
    const auto as_double = fill<double>(shape, mine);
    const auto as_int = fill<std::int32_t>(shape, mine);
    const auto as_float = fill<float>(shape, mine);
    auto report = spmd::io::write_array<double>(file, "fields/T", shape, mine, as_double,
                                                {.units = "K", .long_name = "temperature"});
    EXPECT_TRUE(report.collective) << report.mode << ": " << report.cause;
    spmd::io::write_array<std::int32_t>(file, "ints", shape, mine, as_int);
    spmd::io::write_array<float>(file, "deep/group/floats", shape, mine, as_float);
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  EXPECT_EQ(file.dataset("fields/T").shape(), shape);
  spmd::io::TransferReport report;
  EXPECT_EQ(spmd::io::read_array<double>(file, "fields/T", whole(shape), &report),
            fill<double>(shape, whole(shape)));
  EXPECT_TRUE(report.collective) << report.mode << ": " << report.cause;
  EXPECT_EQ(spmd::io::read_array<std::int32_t>(file, "ints", whole(shape)),
            fill<std::int32_t>(shape, whole(shape)));
  EXPECT_EQ(spmd::io::read_array<float>(file, "deep/group/floats", mine), fill<float>(shape, mine));
  {
    const auto dataset = spmd::io::owned(H5Dopen2(file.id(), "fields/T", H5P_DEFAULT), "H5Dopen2");
    EXPECT_EQ(spmd::io::string_attribute(dataset.get(), "units"), "K");
    EXPECT_EQ(spmd::io::string_attribute(dataset.get(), "long_name"), "temperature");
  }
  file.close();
  spmd::test::remove_shared(world, path);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ArrayRoundTrip,
                         testing::Values(Extents{10}, Extents{2}, Extents{7, 5}, Extents{3, 1},
                                         Extents{5, 4, 3}, Extents{0, 4}));

TEST(Array, ChunkedAndCompressedRoundTrip) {
  const auto& world = spmd::test::world();
  const Extents shape{37, 16};
  const std::string path = spmd::test::shared_scratch_path(world, "gzip.h5");
  const Selection mine = spmd::decomp::leading_block(shape, world.rank(), world.size());
  {
    auto file = spmd::io::File::create(world, path);
    const auto report = spmd::io::write_array<double>(
        file, "z", shape, mine, fill<double>(shape, mine), {.chunk = {8, 16}, .gzip_level = 4});
    EXPECT_TRUE(report.collective) << report.cause;
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  EXPECT_EQ(spmd::io::read_array<double>(file, "z", whole(shape)),
            fill<double>(shape, whole(shape)));
  file.close();
  spmd::test::remove_shared(world, path);
}

TEST(Array, WrittenAtPRanksReadAtFewer) {
  const auto& world = spmd::test::world();
  const Extents shape{11, 3, 2};
  const std::string path = spmd::test::shared_scratch_path(world, "p-to-q.h5");
  {
    auto file = spmd::io::File::create(world, path);
    const Selection mine = spmd::decomp::leading_block(shape, world.rank(), world.size());
    spmd::io::write_array<double>(file, "a", shape, mine, fill<double>(shape, mine));
    file.close();
  }
  // Read with a smaller communicator (world size - 1, at least 1) and its own decomposition.
  const int readers = std::max(1, world.size() - 1);
  const auto sub = world.split(world.rank() < readers ? 0 : 1);
  if (world.rank() < readers) {
    auto file = spmd::io::File::open(sub, path);
    const Selection mine = spmd::decomp::leading_block(shape, sub.rank(), sub.size());
    EXPECT_EQ(spmd::io::read_array<double>(file, "a", mine), fill<double>(shape, mine));
    file.close();
  }
  spmd::test::remove_shared(world, path);
}

TEST(Array, NonCollectiveTransferIsDetected) {
  const auto& world = spmd::test::world();
  const Extents shape{6};
  const std::string path = spmd::test::shared_scratch_path(world, "conversion.h5");
  auto file = spmd::io::File::create(world, path);
  const Selection mine = spmd::decomp::leading_block(shape, world.rank(), world.size());
  spmd::io::write_array<float>(file, "f", shape, mine, fill<float>(shape, mine));
  // Reading floats as doubles needs a type conversion: HDF5 silently goes independent.
  std::vector<double> values(mine.elements());
  const auto report = spmd::io::read_array_bytes(file, "f", H5T_NATIVE_DOUBLE, mine, values.data(),
                                                 spmd::io::CollectivePolicy::ignore);
  EXPECT_FALSE(report.collective);
  EXPECT_NE(report.cause.find("datatype conversion"), std::string::npos) << report.cause;
  EXPECT_THROW(spmd::io::read_array_bytes(file, "f", H5T_NATIVE_DOUBLE, mine, values.data(),
                                          spmd::io::CollectivePolicy::require),
               spmd::Error);
  file.close();
  spmd::test::remove_shared(world, path);
}

TEST(Array, BadBoxesAreClearErrors) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "bad-box.h5");
  auto file = spmd::io::File::create(world, path);
  const Extents shape{4, 4};
  const Selection outside{{3, 0}, {2, 4}};
  std::vector<double> values(outside.elements());
  EXPECT_THROW(spmd::io::write_array<double>(file, "x", shape, outside, values), spmd::Error);
  EXPECT_THROW(spmd::io::write_array<double>(file, "y", shape, Selection{{0, 0}, {1, 4}},
                                             std::vector<double>(3)),
               spmd::Error);
  file.close();
  spmd::test::remove_shared(world, path);
}

TEST(File, MissingFileIsAUsageErrorNamingIt) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "no/such/file.h5");
  try {
    auto file = spmd::io::File::open(world, path);
    ADD_FAILURE() << "expected UsageError";
  } catch (const spmd::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(File, DirectoryEmptyOrTextIsAUsageErrorSayingWhat) {
  const auto& world = spmd::test::world();
  const std::string text = spmd::test::shared_scratch_path(world, "not-hdf5.txt");
  const std::string empty = spmd::test::shared_scratch_path(world, "empty.h5");
  if (world.rank() == 0) {
    std::ofstream(text) << "plain text, no HDF5 signature\n";
    std::ofstream{empty};
  }
  world.barrier();
  for (const auto& [path, why] : {std::pair<std::string, std::string>{"/tmp", "a directory"},
                                  {text, "not an HDF5 file"},
                                  {empty, "empty"}}) {
    try {
      auto file = spmd::io::File::open(world, path);
      ADD_FAILURE() << "expected UsageError for " << path;
    } catch (const spmd::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }
  spmd::test::remove_shared(world, text);
  spmd::test::remove_shared(world, empty);
}

TEST(File, ExistsWalksThePath) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "exists.h5");
  auto file = spmd::io::File::create(world, path);
  spmd::io::write_array<double>(file, "a/b/c", {1}, Selection{{0}, {world.rank() == 0 ? 1U : 0U}},
                                std::vector<double>(world.rank() == 0 ? 1 : 0, 1.0));
  EXPECT_TRUE(file.exists("a/b/c"));
  EXPECT_TRUE(file.exists("/a/b"));
  EXPECT_FALSE(file.exists("a/x/c"));
  EXPECT_FALSE(file.exists("nothing"));
  file.close();
  spmd::test::remove_shared(world, path);
}

}  // namespace
