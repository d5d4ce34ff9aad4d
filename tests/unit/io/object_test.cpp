// The io object model: File, Group and Dataset with one API -- datasets listed (recursively or
// one group deep) with shape and element type, groups created with their parents, attributes on
// each, boxes read and written, the collective slab reader against a serial reference, objects
// that outlive the File they came from, and tables of structs written and read back.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/io/table.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

using spmd::io::ElementKind;
using spmd::io::Extents;
using spmd::io::Selection;

std::vector<std::string> paths(const std::vector<spmd::io::DatasetInfo>& datasets) {
  std::vector<std::string> out;
  for (const auto& d : datasets) out.push_back(d.path);
  return out;
}

TEST(IoObjects, ListsDatasetsWithShapeAndType) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "dataset-info.h5");
  {
    auto file = spmd::io::File::create(world, path);
    const Selection none{{0}, {0}};
    const Selection all{{0}, {3}};
    const bool root = world.rank() == 0;
    const std::vector<float> f{1, 2, 3};
    const std::vector<std::uint16_t> u{4, 5, 6};
    file.create_dataset<float>("a/f", {3})
        .write(root ? all : none, root ? f : std::vector<float>{});
    const auto a_b = file.create_group("a/b");
    a_b.create_dataset<std::uint16_t>("u", {3}, {.units = "1"})
        .write(root ? all : none, root ? u : std::vector<std::uint16_t>{});
    auto table = spmd::io::Table::create(file, "t");
    spmd::io::TableBatch batch;
    const std::vector<std::string> words =
        root ? std::vector<std::string>{"x", "yy"} : std::vector<std::string>{};
    batch.column("word", words);
    table.append(batch);
    const auto group = file.create_group("g/h");
    group.set_attribute("note", "created with its parent");
    group.set_attribute("answer", std::int32_t{42});
    file.set_attribute("scale", 2.5);
  }  // the groups and the file close here, in any order
  auto file = spmd::io::File::open(world, path);
  EXPECT_EQ(paths(file.datasets()), (std::vector<std::string>{"/a/b/u", "/a/f", "/t/word"}));
  EXPECT_EQ(paths(file.datasets("a", /*recursive=*/false)), std::vector<std::string>{"/a/f"});
  const auto integers = [](const spmd::io::DatasetInfo& d) {
    return d.element == ElementKind::uint16;
  };
  EXPECT_EQ(paths(file.datasets(integers)), std::vector<std::string>{"/a/b/u"});
  const auto a = file.group("a");
  EXPECT_EQ(a.path(), "/a");
  EXPECT_EQ(paths(a.datasets()), (std::vector<std::string>{"/a/b/u", "/a/f"}));
  const auto u = a.dataset("b/u");
  EXPECT_EQ(u.path(), "/a/b/u");
  EXPECT_EQ(u.info().element, ElementKind::uint16);
  EXPECT_EQ(u.info().type_name, "uint16");
  EXPECT_EQ(u.shape(), (Extents{3}));
  EXPECT_EQ(u.string_attribute("units"), "1");
  EXPECT_EQ(u.read_all<double>(), (std::vector<double>{4, 5, 6}));  // converted in memory
  const auto word = file.dataset("/t/word").info();
  EXPECT_FALSE(word.numeric());
  EXPECT_EQ(word.type_name, "string");
  EXPECT_THROW(static_cast<void>(file.dataset("nothing")), spmd::Error);
  EXPECT_THROW(static_cast<void>(file.group("a/nothing")), spmd::Error);
  EXPECT_TRUE(file.exists("g/h"));
  EXPECT_FALSE(file.exists("g/x/h"));
  EXPECT_EQ(file.group("g/h").string_attribute("note"), "created with its parent");
  EXPECT_EQ(file.group("g/h").scalar_attribute<std::int32_t>("answer"), 42);
  EXPECT_EQ(file.scalar_attribute<double>("scale"), 2.5);
  EXPECT_EQ(file.group("g/h").attribute_names(), (std::vector<std::string>{"answer", "note"}));
  EXPECT_THROW(static_cast<void>(file.scalar_attribute<double>("nothing")), spmd::Error);
  std::size_t size = 0;
  EXPECT_TRUE(
      spmd::io::with_element_type(ElementKind::float32, [&](auto zero) { size = sizeof zero; }));
  EXPECT_EQ(size, sizeof(float));
  EXPECT_FALSE(spmd::io::with_element_type(ElementKind::other, [&](auto) { size = 0; }));
  file.close();  // closes `a` and `u` too: HDF5 refuses to close a file with objects open
  EXPECT_THROW(static_cast<void>(u.shape()), spmd::Error);
  EXPECT_THROW(static_cast<void>(a.dataset("f")), spmd::Error);
  spmd::test::remove_shared(world, path);
}

// Objects hold the file they came from: they work after the File moved or went away, and a
// closed file is an Error on use, not a dangling identifier.
TEST(IoObjects, OutliveTheFileObjectAndRefuseAClosedFile) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "objects-outlive.h5");
  {
    std::optional<spmd::io::Table> table;
    std::optional<spmd::io::Dataset> values;
    {
      auto file = spmd::io::File::create(world, path);
      table.emplace(spmd::io::Table::create(file, "t"));
      values.emplace(file.create_dataset<std::int32_t>("values", {4}));
      auto moved = std::move(file);
    }
    spmd::io::TableBatch batch;
    batch.column("rank", std::vector<std::int32_t>{world.rank()});
    EXPECT_EQ(table->append(batch), static_cast<hsize_t>(world.size()));
    const Selection box = world.rank() == 0 ? Selection{{0}, {4}} : Selection{{0}, {0}};
    values->write(box, world.rank() == 0 ? std::vector<std::int32_t>{1, 2, 3, 4}
                                         : std::vector<std::int32_t>{});
    EXPECT_EQ(values->read_all<std::int32_t>(), (std::vector<std::int32_t>{1, 2, 3, 4}));
    const auto file = values->file();
    values.reset();
    table.reset();
    file.close();
    EXPECT_FALSE(file.is_open());
    EXPECT_THROW(static_cast<void>(file.dataset("values")), spmd::Error);
  }
  spmd::test::remove_shared(world, path);
}

// The slab reader at every rank count against the serial answer: uneven blocks (one rank may
// have none), slabs of a few rows, every element seen once, in order within a block.
TEST(IoObjects, SlabReaderSeesEveryElementOnce) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "slabs.h5");
  const Extents shape{7, 3};
  std::vector<std::int64_t> all(21);
  std::iota(all.begin(), all.end(), 100);
  auto file = spmd::io::File::create(world, path);
  const auto dataset = file.create_dataset<std::int64_t>("grid", shape);
  dataset.write(world.rank() == 0 ? Selection{{0, 0}, shape} : Selection{{0, 0}, {0, 3}},
                world.rank() == 0 ? all : std::vector<std::int64_t>{});
  // Rank r owns rows [r * 3, r * 3 + 3) clipped to 7 -- rank 3 owns none.
  const hsize_t first = std::min<hsize_t>(7, static_cast<hsize_t>(world.rank()) * 3);
  const Selection block{{first, 0}, {std::min<hsize_t>(7, first + 3) - first, 3}};
  std::vector<std::int64_t> seen;
  int slabs = 0;
  dataset.for_each_slab<std::int64_t>(
      block, 2 * 3 * sizeof(std::int64_t),
      [&](const Selection& slab, std::span<const std::int64_t> values) {
        EXPECT_LE(slab.count[0], 2u);
        EXPECT_EQ(values.size(), slab.elements());
        seen.insert(seen.end(), values.begin(), values.end());
        ++slabs;
      });
  const std::vector<std::int64_t> expected(
      all.begin() + static_cast<long>(first * 3),
      all.begin() + static_cast<long>((first + block.count[0]) * 3));
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(slabs, static_cast<int>((block.count[0] + 1) / 2));
  file.close();
  spmd::test::remove_shared(world, path);
}

struct Task {
  std::uint64_t n = 0;
  std::string label;
  double seconds = 0;
  std::uint8_t ok = 0;
  friend bool operator==(const Task&, const Task&) = default;
};

// A vector of structs is a table in one call, and reads back into structs (rows in rank order).
TEST(IoObjects, TableOfStructsRoundTrips) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "struct-table.h5");
  const spmd::io::RowColumns columns{
      spmd::io::field("n", &Task::n, "1"), spmd::io::field("label", &Task::label),
      spmd::io::field("seconds", &Task::seconds, "s"), spmd::io::field("ok", &Task::ok)};
  std::vector<Task> expected;
  std::vector<Task> mine;
  for (int r = 0; r < world.size(); ++r) {
    for (int i = 0; i < r + 1; ++i) {
      Task task{static_cast<std::uint64_t>(10 * r + i),
                std::string(static_cast<std::size_t>(i + 1), 'a'), 0.5 * i,
                static_cast<std::uint8_t>(i % 2)};
      if (r == world.rank()) mine.push_back(task);
      expected.push_back(std::move(task));
    }
  }
  {
    auto file = spmd::io::File::create(world, path);
    auto table = spmd::io::Table::create(file, "tasks");
    table.append(columns.batch(mine));
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  const auto table = spmd::io::Table::open(file, "tasks");
  EXPECT_EQ(table.rows(), expected.size());
  EXPECT_EQ(table.column_names(), (std::vector<std::string>{"label", "n", "ok", "seconds"}));
  EXPECT_EQ(columns.read(table), expected);
  EXPECT_EQ(file.dataset("tasks/seconds").string_attribute("units"), "s");
  EXPECT_THROW(static_cast<void>(spmd::io::Table::open(file, "nothing")), spmd::Error);
  file.close();
  spmd::test::remove_shared(world, path);
}

}  // namespace
