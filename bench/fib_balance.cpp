// Load balance on the skewed fib mix (300 n, log-uniform up to 4*10^6: a few inputs cost most of
// the work), 3 ranks = 2 workers: the book's fixed split (--schedule static) against dynamic
// pulling, in the same run, for the inputs in random order and sorted (as an inputs file often
// is). Prints both makespans and efficiencies (busy time / worker time):
//   RATIO fib_dynamic_vs_static   dynamic / static makespan, sorted inputs (lower is better)
// The master only schedules here (--master-schedules-only), as in the book's pools: two workers on
// the 2 cores, the master a third process that mostly sleeps.
#include <algorithm>

#include <fmt/format.h>
#include <spmdkit/runtime/app.hpp>
#include <spmdkit/runtime/error.hpp>

#include "fib_workload.hpp"
#include "inputs.hpp"

namespace {

struct Comparison {
  double dynamic_makespan, static_makespan;
  spmd::FarmReport dynamic_report, static_report;
};

Comparison compare(const spmd::Comm& comm, const std::vector<std::uint64_t>& inputs) {
  std::vector<double> dynamic_runs, static_runs;
  Comparison c{};
  for (int round = 0; round < 3; ++round) {
    auto d = bench::fib_farm(comm, inputs, spmd::Schedule::dynamic, false);
    auto s = bench::fib_farm(comm, inputs, spmd::Schedule::static_blocks, false);
    dynamic_runs.push_back(d.makespan);
    static_runs.push_back(s.makespan);
    c.dynamic_report = d.report;
    c.static_report = s.report;
  }
  c.dynamic_makespan = bench::median(dynamic_runs);
  c.static_makespan = bench::median(static_runs);
  return c;
}

void print(const char* label, const Comparison& c) {
  fmt::print("  {}:\n", label);
  fmt::print("    dynamic: makespan {:.3f} s, efficiency {:.2f}, {} messages\n", c.dynamic_makespan,
             c.dynamic_report.efficiency(), c.dynamic_report.messages);
  fmt::print("    static:  makespan {:.3f} s, efficiency {:.2f}, {} messages\n", c.static_makespan,
             c.static_report.efficiency(), c.static_report.messages);
}

void run(spmd::App& app) {
  const auto& comm = app.comm();
  if (comm.size() < 3) throw spmd::UsageError("run this benchmark with at least 3 ranks");
  auto inputs = fib::skewed_inputs(300, 4000000, 9);
  const Comparison shuffled = compare(comm, inputs);
  std::sort(inputs.begin(), inputs.end());
  const Comparison sorted = compare(comm, inputs);
  if (app.is_root()) {
    fmt::print("fib, 300 skewed inputs up to 4*10^6 on {} workers:\n", comm.size() - 1);
    print("inputs in random order", shuffled);
    print("inputs sorted", sorted);
    fmt::print("RATIO fib_dynamic_vs_static {:.3f}\n",
               sorted.dynamic_makespan / sorted.static_makespan);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return spmd::run(argc, argv,
                   {.name = "bench-fib-balance",
                    .description = "Dynamic against static scheduling on a skewed workload"},
                   run);
}
