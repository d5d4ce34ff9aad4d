// --io-report: the io layer's log of what each transfer really did. A contiguous array written
// collectively (bytes over all ranks, layout, offset on the file's alignment), a write and a read
// that HDF5 silently did independently (a type conversion) reported with their cause, and
// nothing logged (and no collective added) without the report.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/decomp/io_adapter.hpp"
#include "spmdkit/io/array.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/io/transfer_log.hpp"
#include "spmdkit/runtime/run_report.hpp"
#include "test_support.hpp"

namespace {

using spmd::io::CollectivePolicy;
using spmd::io::Extents;
using spmd::io::Selection;
using spmd::io::TransferLog;
using spmd::io::TransferSummary;

const TransferSummary* find(const std::string& direction, const std::string& dataset) {
  const auto& all = TransferLog::instance().summaries();
  const auto it = std::find_if(all.begin(), all.end(), [&](const TransferSummary& s) {
    return s.direction == direction && s.dataset == dataset;
  });
  return it == all.end() ? nullptr : &*it;
}

// Turns the report on for one test, and off again whatever happens.
struct ReportOn {
  ReportOn() {
    spmd::run_report::request_io(true);
    TransferLog::instance().clear();
  }
  ~ReportOn() {
    spmd::run_report::request_io(false);
    TransferLog::instance().clear();
  }
  ReportOn(const ReportOn&) = delete;
  ReportOn& operator=(const ReportOn&) = delete;
};

TEST(TransferLog, SaysWhatEachTransferDidAndWhyNotCollective) {
  const auto& world = spmd::test::world();
  const ReportOn report;
  const std::string path = spmd::test::shared_scratch_path(world, "io-report.h5");
  // Large enough to be aligned (FileOptions: objects of 256 KiB or more on 1 MiB boundaries).
  const Extents shape{static_cast<hsize_t>(64 * world.size()), 1024};
  const Selection mine = spmd::decomp::leading_block(shape, world.rank(), world.size());
  {
    auto file = spmd::io::File::create(world, path);
    const std::vector<double> values(mine.elements(), 1.5);
    spmd::io::write_array<double>(file, "a", shape, mine, values);
    const std::vector<float> floats(mine.elements(), 2.5F);
    spmd::io::write_array<float>(file, "f", shape, mine, floats);
    // Doubles into the float dataset: HDF5 converts, and goes independent without a word.
    const auto forced = file.dataset("f").write_bytes(H5T_NATIVE_DOUBLE, mine, values.data(),
                                                      CollectivePolicy::ignore);
    EXPECT_FALSE(forced.collective);
    std::vector<double> back(mine.elements());
    spmd::io::read_array_bytes(file, "f", H5T_NATIVE_DOUBLE, mine, back.data(),
                               CollectivePolicy::ignore);
    file.close();
  }
  const std::uint64_t elements = shape[0] * shape[1];

  const TransferSummary* a = find("write", "/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->transfers, 1U);
  EXPECT_EQ(a->bytes, elements * sizeof(double));  // over all ranks
  EXPECT_EQ(a->independent, 0U);
  EXPECT_GT(a->seconds, 0.0);
  EXPECT_EQ(a->layout, "contiguous");
  ASSERT_TRUE(a->offset.has_value());
  EXPECT_EQ(a->alignment, hsize_t{1} << 20);
  EXPECT_TRUE(a->aligned()) << "data at byte " << *a->offset;

  const TransferSummary* f = find("write", "/f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->transfers, 2U);
  EXPECT_EQ(f->independent, 1U);  // the converting one
  EXPECT_EQ(f->bytes, elements * (sizeof(float) + sizeof(double)));
  ASSERT_EQ(f->causes.size(), 1U);
  EXPECT_NE(f->causes.begin()->find("datatype conversion"), std::string::npos)
      << *f->causes.begin();

  const TransferSummary* read = find("read", "/f");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->independent, 1U);

  const auto section = TransferLog::instance().section();
  EXPECT_NE(section.text.find("NOT collective in 1 of 2: "), std::string::npos) << section.text;
  EXPECT_NE(section.text.find("datatype conversion"), std::string::npos) << section.text;
  ASSERT_TRUE(section.json.is_array());
  ASSERT_EQ(section.json.size(), 3U);
  EXPECT_EQ(section.json[0]["dataset"], "/a");
  EXPECT_EQ(section.json[0]["collective"], true);
  EXPECT_EQ(section.json[0]["bytes"], elements * sizeof(double));
  EXPECT_EQ(section.json[1]["collective"], false);
  EXPECT_EQ(section.json[1]["independent"], 1);
  spmd::test::remove_shared(world, path);
}

TEST(TransferLog, NothingIsLoggedWithoutTheReport) {
  const auto& world = spmd::test::world();
  spmd::run_report::request_io(false);
  TransferLog::instance().clear();
  const std::string path = spmd::test::shared_scratch_path(world, "no-report.h5");
  auto file = spmd::io::File::create(world, path);
  const Extents shape{static_cast<hsize_t>(world.size())};
  const Selection mine = spmd::decomp::leading_block(shape, world.rank(), world.size());
  spmd::io::write_array<double>(file, "a", shape, mine, std::vector<double>(mine.elements(), 1.0));
  file.close();
  EXPECT_TRUE(TransferLog::instance().summaries().empty());
  spmd::test::remove_shared(world, path);
}

}  // namespace
