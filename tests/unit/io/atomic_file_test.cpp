// Atomic outputs: the final name only ever holds a complete file.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>

#include <gtest/gtest.h>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/atomic_file.hpp"
#include "spmdkit/io/attributes.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void write_generation(spmd::io::AtomicFile& out, int generation) {
  out.file().set_attribute("generation", static_cast<std::int32_t>(generation));
}

int generation_of(const spmd::Comm& comm, const std::string& path) {
  auto file = spmd::io::File::open(comm, path);
  const int generation = file.scalar_attribute<std::int32_t>("generation");
  file.close();
  return generation;
}

TEST(AtomicFile, AppearsUnderItsNameOnlyOnCommit) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "atomic.h5");
  auto out = spmd::io::AtomicFile::create(world, path);
  write_generation(out, 1);
  world.barrier();
  EXPECT_FALSE(file_exists(path));
  EXPECT_TRUE(file_exists(out.partial_path()));
  out.commit();
  EXPECT_TRUE(out.committed());
  EXPECT_TRUE(file_exists(path));
  EXPECT_FALSE(file_exists(out.partial_path()));
  EXPECT_EQ(generation_of(world, path), 1);
  spmd::test::remove_shared(world, path);
}

TEST(AtomicFile, OlderOutputStaysIntactUntilTheNewOneIsComplete) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "replace.h5");
  {
    auto first = spmd::io::AtomicFile::create(world, path);
    write_generation(first, 1);
    first.commit();
  }
  {
    auto second = spmd::io::AtomicFile::create(world, path);
    write_generation(second, 2);
    second.file().flush();
    world.barrier();
    EXPECT_EQ(generation_of(world, path), 1);  // the old one, complete, while the new is written
    second.file().close();                     // abandoned: never committed
  }
  EXPECT_EQ(generation_of(world, path), 1);
  world.barrier();
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));  // an abandoned file is removed
  if (world.rank() == 0) {
    std::remove(path.c_str());
    std::remove((path + ".tmp").c_str());
  }
}

TEST(AtomicFile, KeepPreviousForCheckpoints) {
  const auto& world = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(world, "checkpoint.h5");
  for (int generation = 1; generation <= 3; ++generation) {
    auto out = spmd::io::AtomicFile::create(world, path, {.keep_previous = true});
    write_generation(out, generation);
    out.commit();
  }
  EXPECT_EQ(generation_of(world, path), 3);
  EXPECT_EQ(generation_of(world, path + ".prev"), 2);
  world.barrier();
  if (world.rank() == 0) {
    std::remove(path.c_str());
    std::remove((path + ".prev").c_str());
  }
}

TEST(AtomicFile, CommitFailureIsReportedOnEveryRank) {
  const auto& world = spmd::test::world();
  // The final name is an existing directory: the rename fails, and every rank must know.
  const std::string directory = spmd::test::shared_scratch_path(world, "is-a-directory");
  if (world.rank() == 0) ::mkdir(directory.c_str(), 0700);
  world.barrier();
  auto out = spmd::io::AtomicFile::create(world, directory);
  write_generation(out, 1);
  EXPECT_THROW(out.commit(), spmd::SystemError);
  world.barrier();
  if (world.rank() == 0) {
    ::rmdir(directory.c_str());
    std::remove((directory + ".tmp").c_str());
  }
}

}  // namespace
