// GoogleTest main for MPI tests. Every rank runs every test; after each test the ranks agree on
// its result, so a failure on any rank fails the test on every rank (named with the failing
// ranks), and the exit code is agreed by all ranks. Only rank 0 prints the usual gtest report;
// other ranks print just their own failures, tagged with their rank.
#include <mpi.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "spmdkit/runtime/environment.hpp"

namespace {

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

class RankAgreement : public testing::EmptyTestEventListener {
 public:
  explicit RankAgreement(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (rank_ != 0 && result.failed() && !agreeing_) {
      const std::string text = fmt::format("[rank {}] {}:{}: Failure\n{}\n", rank_,
                                           result.file_name() != nullptr ? result.file_name() : "?",
                                           result.line_number(), result.message());
      std::fputs(text.c_str(), stderr);
      std::fflush(stderr);
    }
  }

  // Runs before the result printer's OnTestEnd (end events go to listeners in reverse order),
  // so a failure added here is reported as this test's.
  void OnTestEnd(const testing::TestInfo& info) override {
    const int failed_here = info.result()->Failed() ? 1 : 0;
    std::vector<int> all(static_cast<std::size_t>(size_));
    MPI_Allgather(&failed_here, 1, MPI_INT, all.data(), 1, MPI_INT, comm_);
    std::vector<int> failed_ranks;
    for (int r = 0; r < size_; ++r) {
      if (all[static_cast<std::size_t>(r)] != 0) failed_ranks.push_back(r);
    }
    const std::string failing = fmt::format("{}", fmt::join(failed_ranks, ", "));
    if (!failing.empty() && (failed_here == 0 || failing != std::to_string(rank_))) {
      agreeing_ = true;  // rank 0 reports this one; the others need not repeat it
      ADD_FAILURE() << "this test failed on rank(s) " << failing << " of " << size_;
      agreeing_ = false;
    }
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  bool agreeing_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  spmd::Environment env(argc, argv, spmd::Threading::funneled);
  const int rank = world_rank();

  testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new RankAgreement(env.control()));  // gtest takes ownership

  const int local = RUN_ALL_TESTS();
  int agreed = 0;
  MPI_Allreduce(&local, &agreed, 1, MPI_INT, MPI_MAX, env.control());
  return agreed;
}
