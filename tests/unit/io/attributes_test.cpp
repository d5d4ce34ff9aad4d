// Attributes and provenance: what makes an output file self-describing.
#include <cstdio>

#include <gtest/gtest.h>

#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/io/provenance_attributes.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

TEST(Attributes, RoundTripOnTheRootAndReplace) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "attributes.h5");
  {
    auto file = spmd::io::File::create(world, path);
    spmd::io::set_attribute(file.id(), "title", "a test file");
    spmd::io::set_attribute(file.id(), "alpha", 0.25);
    spmd::io::set_attribute(file.id(), "steps", std::int64_t{1000});
    spmd::io::set_attribute(file.id(), "spacing", std::vector<double>{0.1, 0.2, 0.3});
    spmd::io::set_attribute(file.id(), "title", "replaced title");
    spmd::io::set_attribute(file.id(), "unicode", "Wärme ∇²u");
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  EXPECT_EQ(spmd::io::string_attribute(file.id(), "title"), "replaced title");
  EXPECT_EQ(spmd::io::string_attribute(file.id(), "unicode"), "Wärme ∇²u");
  EXPECT_EQ(spmd::io::attribute<double>(file.id(), "alpha"), std::vector<double>{0.25});
  EXPECT_EQ(spmd::io::attribute<std::int64_t>(file.id(), "steps"), std::vector<std::int64_t>{1000});
  EXPECT_EQ(spmd::io::attribute<double>(file.id(), "spacing"),
            (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_TRUE(spmd::io::has_attribute(file.id(), "alpha"));
  EXPECT_FALSE(spmd::io::has_attribute(file.id(), "beta"));
  EXPECT_THROW(static_cast<void>(spmd::io::string_attribute(file.id(), "alpha")), spmd::Error);
  file.close();
  spmd::test::remove_shared(world, path);
}

TEST(Attributes, ProvenanceOnTheRoot) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "provenance.h5");
  const char* argv[] = {"spmd-demo", "--steps", "3"};
  auto provenance =
      spmd::Provenance::collect(world, "demo", 3, argv, spmd::test::environment().threading());
  provenance.config_toml = std::string(70000, 'x');  // larger than a compact attribute may be
  {
    auto file = spmd::io::File::create(world, path);
    spmd::io::write_provenance(file, provenance, "demo output");
    file.close();
  }
  auto file = spmd::io::File::open(world, path);
  EXPECT_EQ(spmd::io::string_attribute(file.id(), "Conventions"), "CF-1.8");
  EXPECT_EQ(spmd::io::string_attribute(file.id(), "title"), "demo output");
  EXPECT_EQ(spmd::io::string_attribute(file.id(), "command_line"), "spmd-demo --steps 3");
  EXPECT_EQ(spmd::io::attribute<std::int32_t>(file.id(), "ranks"),
            std::vector<std::int32_t>{world.size()});
  EXPECT_EQ(spmd::io::string_attribute(file.id(), "config").size(), 70000U);
  EXPECT_EQ(spmd::io::string_attribute(file.id(), "provenance_json"), provenance.to_json());
  EXPECT_NE(spmd::io::string_attribute(file.id(), "history").find("spmd-demo --steps 3"),
            std::string::npos);
  file.close();
  spmd::test::remove_shared(world, path);
}

}  // namespace
