// spmd-test-fail: a test-only app that fails on purpose, to show that spmd::run ends a job
// promptly with exactly one message however the failure happens.
//   --fail-rank R   the rank that throws (-1: none, -2: every rank)
//   --others MODE   what the other ranks do meanwhile: barrier (block in a collective, the worst
//                   case), finish (return normally), compute (busy for a long time, no MPI)
//   --kind KIND     runtime (std::runtime_error), usage (spmd::UsageError), mpi (a failing MPI
//                   call), code (return exit code 3 without an exception)
//   --open-file P   first, every rank opens the output P collectively and the failing rank alone
//                   changes it (creates a group), so that the ranks hold it in different states
//                   when they fail: closing it at MPI_Finalize would not match up (a hang)
#include <mpi.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include <spmdkit/spmdkit.hpp>

namespace {

struct Options {
  int fail_rank = -1;
  std::string others = "barrier";
  std::string kind = "runtime";
  std::string open_file;
};

void fail(const spmd::App& app, const std::string& kind) {
  if (kind == "usage") throw spmd::UsageError("--size must be positive, got -1");
  if (kind == "mpi") {
    int payload = 0;
    spmd::check_mpi(MPI_Send(&payload, 1, MPI_INT, app.size(), 0, app.comm()), "MPI_Send");
  }
  throw std::runtime_error("deliberate failure for the test");
}

int body(spmd::App& app, const Options& opt) {
  const bool i_fail = opt.fail_rank == -2 || opt.fail_rank == app.rank();
  std::optional<spmd::io::AtomicFile> out;
  if (!opt.open_file.empty()) {
    out.emplace(spmd::io::AtomicFile::create(app.comm(), opt.open_file));
    if (i_fail) {
      // Not collective, on purpose: only this rank's metadata cache holds the new group.
      const auto group = spmd::io::owned(
          H5Gcreate2(out->id(), "only_here", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2");
    }
  }
  if (opt.others == "throw" && !i_fail) throw std::runtime_error("failing too");
  if (i_fail) {
    if (opt.kind == "code") return spmd::exit_code::tasks_failed;
    fail(app, opt.kind);
  }
  if (opt.others == "barrier") {
    app.comm().barrier();  // never completes when a rank failed: spmd::run must not hang here
  } else if (opt.others == "compute") {
    std::this_thread::sleep_for(std::chrono::seconds(60));
  }
  app.print("done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  return spmd::run(
      argc, argv, {.name = "test-fail", .description = "fails on purpose (tests only)"},
      [&](CLI::App& cli) {
        cli.add_option("--fail-rank", opt.fail_rank, "rank that fails (-1 none, -2 all)");
        cli.add_option("--others", opt.others)
            ->check(CLI::IsMember({"barrier", "finish", "compute", "throw"}));
        cli.add_option("--open-file", opt.open_file, "output held open when failing");
        cli.add_option("--kind", opt.kind)
            ->check(CLI::IsMember({"runtime", "usage", "mpi", "code"}));
      },
      [&](spmd::App& app) { return body(app, opt); });
}
