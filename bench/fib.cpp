// spmd-fib's workload against the book's tool: the same skewed inputs (1000 n, log-uniform up to
// 300 000) and the same fast-doubling algorithm, on 2 ranks (the master computes too: 2 task
// runners) against Python's ProcessPoolExecutor with 2 processes on Python integers, in the same
// run:
//   RATIO fib_vs_python_pool        spmd makespan / Python makespan (lower is better; <= 0.05)
//   RATIO farm_cpu_efficiency_np2   time inside tasks / (makespan x 2 ranks): how much of the two
//                                   cores the farm keeps busy at mpirun -np 2      (>= 0.9);
//                                   2000 skewed inputs up to 10^6 (~2 s of work)
//   RATIO farm_cpu_efficiency_np2_master_schedules_only   the same with a master that only
//                                   schedules (one core idles: at most 0.5)
// The Python side gets the kinder digit count (from the bit length); spmd-fib converts F(n) to
// decimal exactly. While Python runs, the MPI ranks sleep (they would otherwise steal its cores).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <spmdkit/runtime/app.hpp>
#include <spmdkit/runtime/error.hpp>

#include "fib_workload.hpp"
#include "inputs.hpp"

namespace {

// Collective barrier that sleeps instead of spinning.
void sleeping_barrier(MPI_Comm comm) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  while (done == 0) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

double python_makespan(const std::vector<std::uint64_t>& inputs) {
  const std::string path = fmt::format("/tmp/spmd-bench-fib-{}.txt", ::getpid());
  {
    std::ofstream out(path);
    for (const auto n : inputs) out << n << '\n';
  }
  const std::string command = fmt::format("python3 {}/fib_pool.py {} 2", SPMD_BENCH_DIR, path);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw spmd::Error("cannot run " + command);
  double makespan = -1;
  char line[256];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::sscanf(line, "MAKESPAN %lf", &makespan);
  }
  const int status = ::pclose(pipe);
  std::remove(path.c_str());
  if (status != 0 || makespan <= 0) throw spmd::Error("the Python baseline failed: " + command);
  return makespan;
}

void run(spmd::App& app) {
  const auto& comm = app.comm();
  if (comm.size() != 2) throw spmd::UsageError("run this benchmark with exactly 2 ranks");
  const auto inputs = fib::skewed_inputs(1000, 300000, 5);
  std::vector<double> ours, efficiency, efficiency_master_only;
  spmd::FarmReport report;
  for (int round = 0; round < 5; ++round) {
    auto run = bench::fib_farm(comm, inputs, spmd::Schedule::dynamic);
    ours.push_back(run.makespan);
    report = run.report;
  }
  // The efficiency on a mix long enough to be measured (~2 s of work; the mix above is 50 ms).
  const auto longer = fib::skewed_inputs(2000, 1000000, 11);
  for (int round = 0; round < 3; ++round) {
    for (const bool master_runs_tasks : {true, false}) {
      const auto run = bench::fib_farm(comm, longer, spmd::Schedule::dynamic, master_runs_tasks);
      const double used = run.report.busy_seconds / (run.report.seconds * comm.size());
      (master_runs_tasks ? efficiency : efficiency_master_only).push_back(used);
    }
  }
  double python = 0;
  if (comm.rank() == 0) python = python_makespan(inputs);
  sleeping_barrier(comm);
  const double spmd_makespan = bench::median(ours);
  if (app.is_root()) {
    fmt::print(
        "fib, 1000 skewed inputs up to 300000: spmd (2 ranks) {:.3f} s, Python "
        "ProcessPoolExecutor (2 processes) {:.3f} s\n",
        spmd_makespan, python);
    fmt::print("  spmd: {:.3f} s inside tasks, {} messages\n", report.busy_seconds,
               report.messages);
    fmt::print("RATIO fib_vs_python_pool {:.4f}\n", spmd_makespan / python);
    fmt::print("RATIO farm_cpu_efficiency_np2 {:.3f}\n", bench::median(efficiency));
    fmt::print("RATIO farm_cpu_efficiency_np2_master_schedules_only {:.3f}\n",
               bench::median(efficiency_master_only));
  }
}

}  // namespace

int main(int argc, char** argv) {
  return spmd::run(argc, argv,
                   {.name = "bench-fib", .description = "spmd-fib against a Python process pool"},
                   run);
}
