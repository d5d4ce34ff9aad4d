// What a file holds: datasets listed (recursively or one group deep) with shape and element
// type, typed dispatch on the element type, groups created with their parents.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/dataset_info.hpp"
#include "spmdkit/io/table.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

using spmd::io::ElementKind;

std::vector<std::string> paths(const std::vector<spmd::io::DatasetInfo>& datasets) {
  std::vector<std::string> out;
  for (const auto& d : datasets) out.push_back(d.path);
  return out;
}

TEST(DatasetInfo, ListsDatasetsWithShapeAndType) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "dataset-info.h5");
  {
    auto file = spmd::io::File::create(world, path);
    const spmd::io::Box none{{0}, {0}};
    const spmd::io::Box all{{0}, {3}};
    const bool root = world.rank() == 0;
    const std::vector<float> f{1, 2, 3};
    const std::vector<std::uint16_t> u{4, 5, 6};
    spmd::io::write_array<float>(file, "a/f", {3}, root ? all : none,
                                 root ? std::span<const float>(f) : std::span<const float>());
    spmd::io::write_array<std::uint16_t>(file, "a/b/u", {3}, root ? all : none,
                                         root ? std::span<const std::uint16_t>(u)
                                              : std::span<const std::uint16_t>());
    auto table = spmd::io::Table::create(file, "t");
    spmd::io::TableBatch batch;
    const std::vector<std::string> words = root ? std::vector<std::string>{"x", "yy"}
                                                : std::vector<std::string>{};
    batch.column("word", words);
    table.append(batch);
    {
      const auto group = spmd::io::create_group(file, "g/h");
      spmd::io::set_attribute(group.get(), "note", "created with its parent");
    }
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  const auto everything = spmd::io::list_datasets(file);
  EXPECT_EQ(paths(everything), (std::vector<std::string>{"/a/b/u", "/a/f", "/t/word"}));
  const auto shallow = spmd::io::list_datasets(file, "a", /*recursive=*/false);
  EXPECT_EQ(paths(shallow), std::vector<std::string>{"/a/f"});
  const auto u = spmd::io::dataset_info(file, "a/b/u");
  EXPECT_EQ(u.element, ElementKind::uint16);
  EXPECT_EQ(u.type_name, "uint16");
  EXPECT_EQ(u.shape, (spmd::io::Extents{3}));
  const auto word = spmd::io::dataset_info(file, "/t/word");
  EXPECT_FALSE(word.numeric());
  EXPECT_EQ(word.type_name, "string");
  EXPECT_THROW(static_cast<void>(spmd::io::dataset_info(file, "nothing")), spmd::Error);
  EXPECT_TRUE(spmd::io::exists(file.id(), "g/h"));
  std::size_t size = 0;
  EXPECT_TRUE(spmd::io::with_element_type(ElementKind::float32, [&](auto zero) { size = sizeof zero; }));
  EXPECT_EQ(size, sizeof(float));
  EXPECT_FALSE(spmd::io::with_element_type(ElementKind::other, [&](auto) { size = 0; }));
  file.close();
  spmd::test::remove_shared(world, path);
}

}  // namespace
