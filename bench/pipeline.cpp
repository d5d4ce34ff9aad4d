// Pipeline throughput: 200 000 small items (8 bytes) through 3 stages (source -> relay -> sink,
// one rank each), against raw MPI point-to-point sends of the same items along the same chain
// (blocking send/recv, one message per item), in the same run:
//   RATIO pipeline_vs_p2p   pipeline items/s / raw items/s   (higher is better; 1 = as fast)
// The pipeline adds what raw sends lack: credits (back-pressure), demand-driven sharing, ordering
// metadata and end-of-stream; raw eager sends have no bound on what is in flight.
#include <mpi.h>

#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/patterns/pipeline.hpp>
#include <spmdkit/runtime/app.hpp>
#include <spmdkit/runtime/error.hpp>

#include "bench_support.hpp"

namespace {

constexpr std::int64_t items = 200000;

void raw_chain(MPI_Comm comm, int rank) {
  std::int64_t value = 0;
  if (rank == 0) {
    for (std::int64_t i = 0; i <= items; ++i) {
      value = i < items ? i : -1;  // -1: end
      MPI_Send(&value, 1, MPI_INT64_T, 1, 0, comm);
    }
  } else if (rank == 1) {
    do {
      MPI_Recv(&value, 1, MPI_INT64_T, 0, 0, comm, MPI_STATUS_IGNORE);
      MPI_Send(&value, 1, MPI_INT64_T, 2, 0, comm);
    } while (value >= 0);
  } else if (rank == 2) {
    std::int64_t sum = 0;
    do {
      MPI_Recv(&value, 1, MPI_INT64_T, 1, 0, comm, MPI_STATUS_IGNORE);
      if (value >= 0) sum += value;
    } while (value >= 0);
    if (sum != items * (items - 1) / 2) throw spmd::Error("raw chain lost items");
  }
}

void pipeline_chain(const spmd::Comm& comm) {
  std::int64_t sum = 0;
  spmd::Pipeline pipeline(comm);
  pipeline
      .source<std::int64_t>("source",
                            [](spmd::StageContext&, spmd::Emit<std::int64_t>& out) {
                              for (std::int64_t i = 0; i < items; ++i) out(i);
                            })
      .stage<std::int64_t, std::int64_t>(
          "relay", [](const std::int64_t& v, spmd::Emit<std::int64_t>& out) { out(v); })
      .sink<std::int64_t>("sink", [&](const std::int64_t& v) { sum += v; });
  const auto report = pipeline.run();
  if (report.items_in[2] != static_cast<std::uint64_t>(items))
    throw spmd::Error("pipeline lost items");
}

void run(spmd::App& app) {
  const auto& comm = app.comm();
  if (comm.size() != 3) throw spmd::UsageError("run this benchmark with exactly 3 ranks");
  std::vector<double> raw, ours;
  for (int round = 0; round < 5; ++round) {
    raw.push_back(bench::timed(comm, [&] { raw_chain(comm, comm.rank()); }));
    ours.push_back(bench::timed(comm, [&] { pipeline_chain(comm); }));
  }
  const double raw_rate = items / bench::median(raw), our_rate = items / bench::median(ours);
  if (app.is_root()) {
    fmt::print(
        "3-stage chain, {} items of 8 B: raw send/recv {:.0f} items/s, pipeline {:.0f} items/s\n",
        items, raw_rate, our_rate);
    fmt::print("RATIO pipeline_vs_p2p {:.3f}\n", our_rate / raw_rate);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return spmd::run(argc, argv,
                   {.name = "bench-pipeline",
                    .description = "Pipeline throughput against raw point-to-point sends"},
                   run);
}
