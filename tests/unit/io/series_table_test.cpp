// Time series (append snapshots), tables (uneven rows per rank) and the XDMF sidecar.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "spmdkit/decomp/io_adapter.hpp"
#include "spmdkit/io/array.hpp"
#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/table.hpp"
#include "spmdkit/io/time_series.hpp"
#include "spmdkit/io/xdmf.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

using spmd::io::Extents;
using spmd::io::Selection;

double frame_value(int step, hsize_t y, hsize_t x) {
  return step * 1000.0 + static_cast<double>(y) * 10.0 + static_cast<double>(x);
}

TEST(TimeSeries, AppendFramesAndTimes) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "series.h5");
  const Extents frame{5, 3};  // ny, nx: fewer rows than 4 ranks' worth for some rank counts
  const Selection mine = spmd::decomp::leading_block(frame, world.rank(), world.size());
  {
    auto file = spmd::io::File::create(world, path);
    auto temperature = spmd::io::TimeSeries::create<double>(
        file, "fields/T", frame, {.units = "K", .long_name = "temperature"});
    auto pressure = spmd::io::TimeSeries::create<float>(file, "fields/p", frame);
    EXPECT_EQ(temperature.time_path(), "fields/time");
    for (int step = 0; step < 3; ++step) {
      std::vector<double> values;
      for (hsize_t y = mine.offset[0]; y < mine.offset[0] + mine.count[0]; ++y) {
        for (hsize_t x = 0; x < frame[1]; ++x) values.push_back(frame_value(step, y, x));
      }
      const auto report = temperature.append<double>(0.5 * step, mine, values);
      EXPECT_TRUE(report.collective) << report.cause;
      std::vector<float> floats(values.begin(), values.end());
      pressure.append<float>(0.5 * step, mine, floats);
    }
    EXPECT_EQ(temperature.frames(), 3U);
    EXPECT_THROW(temperature.append<float>(9.0, mine, std::vector<float>(mine.elements())),
                 spmd::Error);
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  EXPECT_EQ(file.dataset("fields/T").shape(), (Extents{3, 5, 3}));
  EXPECT_EQ(spmd::io::read_times(file, "fields/time"), (std::vector<double>{0.0, 0.5, 1.0}));
  const auto all = spmd::io::read_array<double>(file, "fields/T", Selection{{0, 0, 0}, {3, 5, 3}});
  std::size_t i = 0;
  for (int step = 0; step < 3; ++step) {
    for (hsize_t y = 0; y < 5; ++y) {
      for (hsize_t x = 0; x < 3; ++x) EXPECT_EQ(all[i++], frame_value(step, y, x));
    }
  }
  {
    // Closed before the file: parallel HDF5 closes files only when no object is open.
    const auto time = spmd::io::owned(H5Dopen2(file.id(), "fields/time", H5P_DEFAULT), "H5Dopen2");
    EXPECT_EQ(spmd::io::string_attribute(time.get(), "units"), "s");
  }
  file.close();
  spmd::test::remove_shared(world, path);
}

TEST(Table, UnevenRowsInRankOrderAcrossBatches) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "table.h5");
  // Rank r contributes r rows per batch (rank 0 none), two batches.
  std::vector<std::int64_t> expected_keys;
  std::vector<std::string> expected_words;
  for (int batch = 0; batch < 2; ++batch) {
    for (int r = 0; r < world.size(); ++r) {
      for (int i = 0; i < r; ++i) {
        expected_keys.push_back(batch * 100 + r * 10 + i);
        expected_words.push_back(
            std::string(static_cast<std::size_t>(i + 1), static_cast<char>('a' + r)));
      }
    }
  }
  {
    auto file = spmd::io::File::create(world, path);
    auto table = spmd::io::Table::create(file, "results/tasks");
    for (int batch = 0; batch < 2; ++batch) {
      std::vector<std::int64_t> keys;
      std::vector<double> seconds;
      std::vector<std::string> words;
      for (int i = 0; i < world.rank(); ++i) {
        keys.push_back(batch * 100 + world.rank() * 10 + i);
        seconds.push_back(0.25 * i);
        words.push_back(
            std::string(static_cast<std::size_t>(i + 1), static_cast<char>('a' + world.rank())));
      }
      spmd::io::TableBatch rows;
      rows.column("key", keys).column("seconds", seconds, "s").column("word", words, 16);
      table.append(rows);
    }
    EXPECT_EQ(table.rows(), expected_keys.size());
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  const auto n = static_cast<hsize_t>(expected_keys.size());
  EXPECT_EQ(spmd::io::read_array<std::int64_t>(file, "results/tasks/key", Selection{{0}, {n}}),
            expected_keys);
  EXPECT_EQ(spmd::io::Table::open(file, "results/tasks").read_strings("word"), expected_words);
  file.close();
  spmd::test::remove_shared(world, path);
}

// One long value among many short ones: the column is as wide as the longest value on any rank,
// written in several slabs (64 KiB here) by the ranks that hold more rows (the others write nothing
// in the extra rounds), and the file stays near the size of the text (compressed padding).
TEST(Table, LongestValueWidthSlabsAndBoundedFile) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "wide-table.h5");
  constexpr std::size_t long_value = 16 << 10;  // 4 padded rows make one slab of 64 KiB
  std::vector<std::string> expected;
  std::vector<std::string> mine;
  for (int r = 0; r < world.size(); ++r) {
    const int rows = 40 * r + 3;  // rank 0: 1 slab; rank 1: 11 slabs; rank 3: 31 slabs
    for (int i = 0; i < rows; ++i) {
      std::string value = i == 1 && r == world.size() - 1 ? std::string(long_value, 'L')
                                                          : fmt::format("r{}-{}", r, i);
      if (r == world.rank()) mine.push_back(value);
      expected.push_back(std::move(value));
    }
  }
  {
    auto file = spmd::io::File::create(world, path);
    auto table = spmd::io::Table::create(file, "t");
    table.set_string_slab_bytes(64 << 10);
    spmd::io::TableBatch batch;
    batch.column("word", mine, spmd::io::TableBatch::longest_value);
    table.append(batch);
    spmd::io::TableBatch second;  // a later batch takes the column's width
    second.column("word", std::vector<std::string>{"x"}, spmd::io::TableBatch::longest_value);
    table.append(second);
    file.close();
  }
  for (int r = 0; r < world.size(); ++r) expected.emplace_back("x");
  auto file = spmd::io::File::open(world, path);
  EXPECT_EQ(spmd::io::Table::open(file, "t").read_strings("word"), expected);
  file.close();
  if (world.rank() == 0) {
    // Uncompressed: rows x 16 KiB (0.7 MB at one rank, 4 MB at four).
    EXPECT_LT(std::filesystem::file_size(path), expected.size() * 1024 + 100000);
  }
  spmd::test::remove_shared(world, path);
}

TEST(Table, TooLongStringAndMismatchedColumnsAreErrors) {
  const auto& world = spmd::test::world();
  spmd::io::TableBatch batch;
  EXPECT_THROW(batch.column("w", std::vector<std::string>{"much too long"}, 4), spmd::Error);
  const std::string path = spmd::test::shared_scratch_path(world, "bad-table.h5");
  auto file = spmd::io::File::create(world, path);
  auto table = spmd::io::Table::create(file, "t");
  spmd::io::TableBatch uneven;
  uneven.column("a", std::vector<int>{1, 2}).column("b", std::vector<int>{1});
  EXPECT_THROW(table.append(uneven), spmd::Error);  // on every rank: no hang
  file.close();
  spmd::test::remove_shared(world, path);
}

TEST(Xdmf, SidecarPointsIntoTheFile) {
  const auto& world = spmd::test::world();
  if (world.rank() != 0) return;
  const std::string path = spmd::test::scratch_path("heat.xmf");
  spmd::io::write_xdmf(path, "heat.h5", {{4, 6}, {0.0, 0.0}, {0.5, 0.25}}, {0.0, 0.1},
                       {{"T", "fields/T"}});
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string xml = text.str();
  EXPECT_NE(xml.find("CollectionType=\"Temporal\""), std::string::npos);
  EXPECT_NE(xml.find("TopologyType=\"2DCoRectMesh\" Dimensions=\"4 6\""), std::string::npos);
  EXPECT_NE(xml.find("heat.h5:/fields/T"), std::string::npos);
  EXPECT_NE(xml.find("<Time Value=\"0.10000000000000001\"/>"), std::string::npos);
  EXPECT_EQ(xml.find(".tmp"), std::string::npos);
  std::remove(path.c_str());
  EXPECT_THROW(spmd::io::write_xdmf(path, "x.h5", {{4}, {0.0}, {1.0}}, {0.0}, {}), spmd::Error);
}

}  // namespace
