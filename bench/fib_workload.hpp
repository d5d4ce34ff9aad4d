#pragma once
// The spmd-fib workload for the benchmarks: the app's own fast doubling and description of F(n),
// run on a task farm over a skewed input mix.
#include <cstdint>
#include <vector>

#include <spmdkit/patterns/task_farm.hpp>

#include "bench_support.hpp"
#include "fibonacci.hpp"

namespace bench {

struct FibRun {
  double makespan = 0;  ///< seconds from submission to the last result (rank 0's clock)
  spmd::FarmReport report;
};

/// Collective: computes every F(n) of `inputs` on a farm with `schedule` (the master running
/// tasks too, as by default, or only scheduling).
inline FibRun fib_farm(const spmd::Comm& comm, const std::vector<std::uint64_t>& inputs,
                       spmd::Schedule schedule, bool master_runs_tasks = true) {
  spmd::FarmOptions options;
  options.schedule = schedule;
  options.master_runs_tasks = master_runs_tasks;
  FibRun run;
  run.makespan = timed(comm, [&] {
    spmd::TaskFarm<std::uint64_t, fib::FibResult> farm(comm, options);
    farm.submit_all(inputs);
    run.report = farm.run([](std::uint64_t n) { return fib::describe(fib::fibonacci(n)); },
                          [](const auto&) {});
  });
  return run;
}

}  // namespace bench
