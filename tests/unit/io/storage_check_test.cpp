// find_missing_storage: a complete file passes; a lost write is found whichever way it shows
// (a hole in a dataset's storage, a file cut short, a lost superblock), independently of the
// MPI-IO layer that wrote the file.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/decomp/io_adapter.hpp"
#include "spmdkit/io/array.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/io/storage_check.hpp"
#include "spmdkit/io/table.hpp"
#include "test_support.hpp"

namespace {

using spmd::io::find_missing_storage;

// Collective: a file with a contiguous 1-D array of `rows` doubles and a chunked table column;
// returns (offset, bytes) of the array's storage (rank 0's view: every rank gets the same).
std::pair<haddr_t, hsize_t> write_sample(const std::string& path, hsize_t rows) {
  const auto& comm = spmd::test::world();
  auto file = spmd::io::File::create(comm, path);
  const auto box = spmd::decomp::leading_block({rows}, comm.rank(), comm.size());
  std::vector<double> mine(box.count[0]);
  std::iota(mine.begin(), mine.end(), static_cast<double>(box.offset[0]) + 1.0);
  spmd::io::write_array<double>(file, "field", {rows}, box, mine);
  std::pair<haddr_t, hsize_t> storage;
  {
    auto table = spmd::io::Table::create(file, "table");
    std::vector<std::int64_t> keys(static_cast<std::size_t>(comm.rank() + 3), 7);
    table.append(spmd::io::TableBatch().column("key", keys));
    const spmd::io::Handle dataset =
        spmd::io::owned(H5Dopen2(file.id(), "field", H5P_DEFAULT), "H5Dopen2");
    storage = {H5Dget_offset(dataset.get()), H5Dget_storage_size(dataset.get())};
  }
  file.close();
  return storage;
}

TEST(StorageCheck, CompleteFilePasses) {
  const auto& comm = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(comm, "storage-complete.h5");
  write_sample(path, 1 << 16);
  if (comm.rank() == 0) {
    const auto missing = find_missing_storage(path);
    EXPECT_FALSE(missing.has_value()) << *missing;
  }
  spmd::test::remove_shared(comm, path);
}

TEST(StorageCheck, FindsAHoleInADataset) {
  const auto& comm = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(comm, "storage-hole.h5");
  const auto [offset, bytes] = write_sample(path, 1 << 16);  // 512 KiB of data
  if (comm.rank() == 0) {
    ASSERT_NE(offset, HADDR_UNDEF);
    // What a write lost to a full disk leaves: a range of the dataset never allocated.
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const off_t at = static_cast<off_t>(offset + bytes / 2) & ~off_t{65535};
    const int punched = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at, 65536);
    ::close(fd);
    if (punched != 0) GTEST_SKIP() << "this file system cannot punch holes";
    const auto missing = find_missing_storage(path);
    ASSERT_TRUE(missing.has_value());
    EXPECT_NE(missing->find("dataset 'field'"), std::string::npos) << *missing;
    EXPECT_NE(missing->find("never written"), std::string::npos) << *missing;
  }
  spmd::test::remove_shared(comm, path);
}

TEST(StorageCheck, FindsAFileCutShort) {
  const auto& comm = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(comm, "storage-short.h5");
  const auto [offset, bytes] = write_sample(path, 1 << 16);
  if (comm.rank() == 0) {
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(offset + bytes / 2)), 0);
    const auto missing = find_missing_storage(path);
    ASSERT_TRUE(missing.has_value());
  }
  spmd::test::remove_shared(comm, path);
}

TEST(StorageCheck, FindsALostSuperblock) {
  const auto& comm = spmd::test::world();
  const std::string path = spmd::test::shared_scratch_path(comm, "storage-superblock.h5");
  write_sample(path, 1024);
  if (comm.rank() == 0) {
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const std::vector<char> zeros(512, 0);
    ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), 0), 512);
    ::close(fd);
    const auto missing = find_missing_storage(path);
    ASSERT_TRUE(missing.has_value());
    EXPECT_NE(missing->find("does not read back as HDF5"), std::string::npos) << *missing;
  }
  spmd::test::remove_shared(comm, path);
}

TEST(StorageCheck, MissingFileIsReported) {
  EXPECT_TRUE(find_missing_storage("/nonexistent/spmdkit/none.h5").has_value());
}

}  // namespace
