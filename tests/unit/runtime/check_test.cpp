// The one checker: failing MPI and HDF5 codes become typed exceptions with code, class and text.
#include <hdf5.h>
#include <mpi.h>

#include <boost/mpi/exception.hpp>

#include <gtest/gtest.h>

#include "spmdkit/runtime/check.hpp"
#include "test_support.hpp"

namespace {

TEST(CheckMpi, SuccessDoesNotThrow) {
  EXPECT_NO_THROW(spmd::check_mpi(MPI_SUCCESS, "MPI_Barrier"));
}

TEST(CheckMpi, FailingCallBecomesMpiErrorWithClassAndText) {
  const auto& world = spmd::test::world();
  const int no_such_rank = world.size();  // one past the last rank
  int payload = 7;
  try {
    spmd::check_mpi(MPI_Send(&payload, 1, MPI_INT, no_such_rank, 0, world), "MPI_Send");
    FAIL() << "expected an MpiError";
  } catch (const spmd::MpiError& e) {
    EXPECT_EQ(e.error_class(), MPI_ERR_RANK);
    EXPECT_NE(e.code(), MPI_SUCCESS);
    EXPECT_EQ(e.call(), "MPI_Send");
    EXPECT_FALSE(e.text().empty());
    EXPECT_NE(std::string(e.what()).find("MPI_Send failed"), std::string::npos) << e.what();
  }
}

TEST(CheckMpi, IsAnSpmdError) {
  EXPECT_THROW(spmd::check_mpi(MPI_ERR_ARG, "MPI_Whatever"), spmd::Error);
}

TEST(CheckMpi, BoostMpiExceptionFoldsIntoMpiError) {
  const spmd::MpiError folded = spmd::to_mpi_error(boost::mpi::exception("MPI_Send", MPI_ERR_TAG));
  EXPECT_EQ(folded.call(), "MPI_Send");
  EXPECT_EQ(folded.code(), MPI_ERR_TAG);
  EXPECT_EQ(folded.error_class(), MPI_ERR_TAG);
  EXPECT_FALSE(folded.text().empty());
}

TEST(CheckMpi, FailingBoostMpiCallThrows) {
#ifndef NDEBUG
  // Boost.MPI 1.74 asserts (aborts) on a failing MPI call before it would throw when NDEBUG is
  // not defined: only optimised builds can show the exception path.
  GTEST_SKIP() << "Boost.MPI asserts instead of throwing in builds without NDEBUG";
#else
  const auto& world = spmd::test::world().boost();
  try {
    world.send(world.size(), 0, 42);  // invalid destination
    FAIL() << "expected boost::mpi::exception";
  } catch (const boost::mpi::exception& e) {
    const spmd::MpiError folded = spmd::to_mpi_error(e);
    EXPECT_EQ(folded.error_class(), MPI_ERR_RANK);
    EXPECT_FALSE(folded.text().empty());
    EXPECT_EQ(folded.call(), "MPI_Send");
  }
#endif
}

TEST(CheckH5, ReturnsNonNegativeValues) {
  EXPECT_EQ(spmd::check_h5(herr_t{0}, "H5Something"), 0);
  const hid_t plist = spmd::check_h5(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
  EXPECT_GE(plist, 0);
  H5Pclose(plist);
}

TEST(CheckH5, FailingCallBecomesHdf5ErrorWithStackText) {
  const std::string path = spmd::test::scratch_path("does-not-exist/nothing.h5");
  testing::internal::CaptureStderr();
  try {
    spmd::check_h5(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "H5Fopen");
    ADD_FAILURE() << "expected an Hdf5Error";
  } catch (const spmd::Hdf5Error& e) {
    EXPECT_LT(e.code(), 0);
    EXPECT_EQ(e.call(), "H5Fopen");
    EXPECT_NE(e.text().find("unable to open file"), std::string::npos) << e.text();
  }
  // The runtime switched HDF5's own error printing off: the message is in the exception only.
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
