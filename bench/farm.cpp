// How fast does the task farm hand out work? Null tasks (a task returns its input) at 2 ranks
// (master + one worker), against the raw MPI ping-pong round trip measured in the same run:
//   RATIO tasks_vs_pingpong          one task per message: tasks/s x round trip  (target >= 0.8)
//   RATIO tasks_batched_vs_pingpong  adaptive batching:    tasks/s x round trip  (target >= 3)
// Higher is better. A ratio of 1 means a task costs one round trip; prefetch (several batches in
// flight) hides the latency, batching amortises it. Medians of several rounds. These measure
// dispatch to the worker, so the master only schedules; with the master running tasks too (the
// default), the same runs must not be slower (its dispatching stays on its main thread):
//   RATIO tasks_vs_pingpong_master_computes          one task per message, master computing
//   RATIO tasks_batched_vs_pingpong_master_computes  adaptive batching, master computing
// With --across-hosts (master on one host, the worker on another: slurm/cluster/lab mpirun
// --map-by node) the round trip is a TCP one and the ratios are
//   RATIO tasks_vs_pingpong_tcp                  the farm as it comes (prefetch + adaptive
//                                                batches)                    (target >= 3)
//   RATIO tasks_one_per_message_vs_pingpong_tcp  --batch 1: prefetch alone
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

#include "bench_support.hpp"

namespace {

constexpr int rounds = 5;

double pingpong_round_trip(const spmd::Comm& comm) {
  return bench::seconds_per_call(comm, 20000, [&] { bench::raw_pingpong(comm); });
}

struct NullTaskRun {
  double tasks_per_second = 0;  ///< the run's (the master's makespan, broadcast)
  double submit_seconds = 0;    ///< per task submitted on the master, before the run
};

// `count` null tasks submitted and run.
NullTaskRun null_tasks(const spmd::Comm& comm, std::uint64_t count,
                       const spmd::FarmOptions& options) {
  spmd::TaskFarm<std::uint64_t, std::uint64_t> farm(comm, options);
  const auto submitting = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < count; ++i) farm.submit(i);
  const double submit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - submitting).count() /
      static_cast<double>(count);
  std::uint64_t received = 0;
  const auto report = farm.run([](std::uint64_t n) { return n; }, [&](const auto&) { ++received; });
  if (comm.rank() == 0 && received != count) throw spmd::Error("lost tasks");
  return {static_cast<double>(count) / report.seconds, submit_seconds};
}

struct Settings {
  bool across_hosts = false;
  std::uint64_t single_tasks = 100'000;
  std::uint64_t batched_tasks = 1'000'000;
};

void run(spmd::App& app, const Settings& settings) {
  const auto& comm = app.comm();
  if (comm.size() != 2) throw spmd::UsageError("run this benchmark with exactly 2 ranks");
  if (settings.across_hosts) bench::require_ranks_0_and_1_on_different_hosts(app.provenance());
  spmd::FarmOptions single;
  single.batch = 1;
  single.master_runs_tasks = false;
  spmd::FarmOptions batched;  // adaptive
  batched.master_runs_tasks = false;
  spmd::FarmOptions single_master = single;
  single_master.master_runs_tasks = true;
  spmd::FarmOptions batched_master = batched;
  batched_master.master_runs_tasks = true;

  std::vector<double> rtt, one, many, one_master, many_master, submits;
  for (int round = 0; round < rounds; ++round) {
    rtt.push_back(pingpong_round_trip(comm));
    one.push_back(null_tasks(comm, settings.single_tasks, single).tasks_per_second);
    const NullTaskRun batched_run = null_tasks(comm, settings.batched_tasks, batched);
    many.push_back(batched_run.tasks_per_second);
    submits.push_back(batched_run.submit_seconds);
    if (!settings.across_hosts) {
      one_master.push_back(null_tasks(comm, settings.single_tasks, single_master).tasks_per_second);
      many_master.push_back(
          null_tasks(comm, settings.batched_tasks, batched_master).tasks_per_second);
    }
  }
  const double round_trip = bench::median(rtt);
  const double single_rate = bench::median(one);
  const double batched_rate = bench::median(many);
  if (app.is_root()) {
    const auto& place = app.provenance().placement;
    fmt::print("master on {}, worker on {}\n", place[0].host, place[1].host);
    fmt::print("ping-pong 8 B round trip (raw MPI): {:.3f} us -> {:.0f} round trips/s\n",
               round_trip * 1e6, 1 / round_trip);
    fmt::print("null tasks, one per message:   {:.0f} tasks/s\n", single_rate);
    fmt::print("null tasks, adaptive batches:  {:.0f} tasks/s\n", batched_rate);
    fmt::print("submitting them: {:.0f} ns per task on the master (median; before the run)\n",
               bench::median(submits) * 1e9);
    if (settings.across_hosts) {
      fmt::print("RATIO tasks_one_per_message_vs_pingpong_tcp {:.3f}\n", single_rate * round_trip);
      fmt::print("RATIO tasks_vs_pingpong_tcp {:.3f}\n", batched_rate * round_trip);
    } else {
      const auto [few, most] = std::minmax_element(many.begin(), many.end());
      fmt::print("adaptive batches over {} rounds: {:.2f}-{:.2f} x the round trip (median below)\n",
                 rounds, *few * round_trip, *most * round_trip);
      fmt::print("RATIO tasks_vs_pingpong {:.3f}\n", single_rate * round_trip);
      fmt::print("RATIO tasks_batched_vs_pingpong {:.3f}\n", batched_rate * round_trip);
      fmt::print("null tasks, master computing too: {:.0f} one per message, {:.0f} batched\n",
                 bench::median(one_master), bench::median(many_master));
      fmt::print("RATIO tasks_vs_pingpong_master_computes {:.3f}\n",
                 bench::median(one_master) * round_trip);
      fmt::print("RATIO tasks_batched_vs_pingpong_master_computes {:.3f}\n",
                 bench::median(many_master) * round_trip);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  return spmd::run(
      argc, argv,
      {.name = "bench-farm", .description = "Task farm null-task rate against the MPI ping-pong"},
      [&](CLI::App& cli) {
        cli.add_flag("--across-hosts", settings.across_hosts,
                     "ranks 0 and 1 are on different hosts: report the _tcp ratios");
        cli.add_option("--single-tasks", settings.single_tasks, "tasks of the one-per-message run")
            ->capture_default_str();
        cli.add_option("--batched-tasks", settings.batched_tasks, "tasks of the batched run")
            ->capture_default_str();
      },
      [&](spmd::App& app) { run(app, settings); });
}
