// The one checker must cost next to nothing on the success path: every raw MPI call in spmdkit
// goes through check_mpi. Google Benchmark times the cheapest MPI call there is (MPI_Comm_rank,
// a few ns) bare and checked, 1 rank:
//   RATIO check_mpi_vs_bare   checked / bare time per call (lower is better). Target: under
//   1 ns added per call, i.e. <= 1.2 on this call; any real MPI call (>= 100 ns) sees < 1 %.
#include <mpi.h>

#include <map>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <spmdkit/runtime/check.hpp>
#include <spmdkit/runtime/environment.hpp>

namespace {

void bare_comm_rank(benchmark::State& state) {
  int rank = 0;
  for (auto _ : state) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    benchmark::DoNotOptimize(rank);
  }
}

void checked_comm_rank(benchmark::State& state) {
  int rank = 0;
  for (auto _ : state) {
    spmd::check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    benchmark::DoNotOptimize(rank);
  }
}

// Keeps Google Benchmark's console table and remembers the median time of each benchmark (ns).
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.aggregate_name == "median") {
        nanoseconds[run.run_name.function_name] = run.GetAdjustedRealTime();
      }
    }
  }
  std::map<std::string, double> nanoseconds;  // the benchmarks' default time unit
};

}  // namespace

int main(int argc, char** argv) {
  spmd::Environment env(argc, argv);
  benchmark::RegisterBenchmark("bare_comm_rank", bare_comm_rank)->Repetitions(9);
  benchmark::RegisterBenchmark("checked_comm_rank", checked_comm_rank)->Repetitions(9);
  benchmark::Initialize(&argc, argv);
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double bare = reporter.nanoseconds["bare_comm_rank"];
  const double checked = reporter.nanoseconds["checked_comm_rank"];
  fmt::print("check_mpi adds {:.2f} ns per call ({:.2f} ns bare)\n", checked - bare, bare);
  fmt::print("RATIO check_mpi_vs_bare {:.3f}\n", checked / bare);
  return 0;
}
