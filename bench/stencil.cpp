// The heat sweep's sustained memory bandwidth against a STREAM-style triad in the same run, and
// its strong scaling from 1 to 2 ranks:
//   RATIO stencil_vs_stream     heat steps with temporal blocking (--time-block K, default 8):
//                               16 B per point and step / triad bandwidth, 2 ranks (target >= 2)
//   RATIO stencil_vs_stream_k1  the same for the one-step sweep (halo exchange overlapped with
//                               the interior update; memory-bound: at most ~0.9)
//   RATIO strong_scaling_1to2   efficiency t(1 rank) / (2 t(2 ranks)), same grid, one-step sweep
// Higher is better. A step is counted as 16 bytes per point (read u, write the next u) whatever
// the sweep really moves: with K steps per pass over the field it moves about 16/K, which is how
// it gets past the memory-bandwidth bound. The triad a = b + s*c moves 24 per element. A 2-D grid
// of doubles well beyond cache (default 4096^2: 128 MiB per field).
//   mpirun -np 2 bench_stencil [--n 4096] [--steps 24] [--rounds 5] [--time-block 8]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

#include "bench_support.hpp"
#include "solver.hpp"

namespace {

heat::Options grid(long n, long time_block = 1) {
  heat::Options opt;
  opt.nx = n;
  opt.ny = n;
  opt.init = "random";
  opt.time_block = time_block;
  return opt;
}

void run(spmd::App& app, long n, int steps, int rounds, long time_block) {
  const auto& world = app.comm();
  const double points = static_cast<double>(n) * static_cast<double>(n);
  // STREAM triad, every rank on its own arrays of the same total size as its share of the grid.
  const auto elements = static_cast<std::size_t>(points / world.size());
  std::vector<double> a(elements, 0.0), b(elements, 1.0), c(elements, 2.0);
  const double scalar = 3.0;
  auto triad = [&] {
    double* __restrict pa = a.data();
    const double* __restrict pb = b.data();
    const double* __restrict pc = c.data();
    for (std::size_t i = 0; i < elements; ++i) pa[i] = pb[i] + scalar * pc[i];
    // Each repetition must really run: the compiler may not assume memory is unchanged.
    asm volatile("" : : "r"(pa) : "memory");
  };
  heat::Solver<2> solver(world, grid(n));
  solver.initialise();
  heat::Solver<2> blocked(world, grid(n, time_block));
  blocked.initialise();
  const auto no_time = [](long) { return 0.0; };
  std::vector<double> triad_s, stencil_s, blocked_s;
  for (int r = 0; r < rounds; ++r) {
    triad_s.push_back(bench::timed(world, [&] {
      for (int s = 0; s < steps; ++s) triad();
    }));
    stencil_s.push_back(bench::timed(world, [&] {
      for (int s = 0; s < steps; ++s) solver.step();
    }));
    blocked_s.push_back(bench::timed(world, [&] { blocked.advance(1, steps, no_time, nullptr); }));
  }
  const double triad_bw =
      24.0 * static_cast<double>(elements) * world.size() * steps / bench::median(triad_s);
  const double stencil_bw = 16.0 * points * steps / bench::median(stencil_s);
  const double blocked_bw = 16.0 * points * steps / bench::median(blocked_s);

  // Strong scaling: the same grid on rank 0 alone, then on every rank.
  double efficiency = 1.0;
  if (world.size() == 2) {
    const auto alone = world.split(world.rank() == 0 ? 0 : MPI_UNDEFINED);
    std::vector<double> one;
    if (world.rank() == 0) {
      heat::Solver<2> single(alone, grid(n));
      single.initialise();
      for (int r = 0; r < rounds; ++r)
        one.push_back(bench::timed(alone, [&] {
          for (int s = 0; s < steps; ++s) single.step();
        }));
    }
    world.barrier();
    double t1 = world.rank() == 0 ? bench::median(one) : 0.0;
    MPI_Bcast(&t1, 1, MPI_DOUBLE, 0, world);
    efficiency = t1 / (2.0 * bench::median(stencil_s));
  }
  if (app.is_root()) {
    fmt::print("{}^2 grid, {} ranks: triad {:.1f} GB/s, heat step {:.1f} GB/s ({:.2f} ms/step)\n",
               n, world.size(), triad_bw / 1e9, stencil_bw / 1e9,
               1e3 * bench::median(stencil_s) / steps);
    fmt::print("  with --time-block {}: {:.1f} GB/s equivalent ({:.2f} ms/step)\n", time_block,
               blocked_bw / 1e9, 1e3 * bench::median(blocked_s) / steps);
    fmt::print("RATIO strong_scaling_1to2 {:.3f}\n", efficiency);
    fmt::print("RATIO stencil_vs_stream_k1 {:.3f}\n", stencil_bw / triad_bw);
    fmt::print("RATIO stencil_vs_stream {:.3f}\n", blocked_bw / triad_bw);
  }
}

}  // namespace

int main(int argc, char** argv) {
  long n = 4096;
  int steps = 24;
  int rounds = 5;
  long time_block = 8;
  return spmd::run(
      argc, argv, {.name = "bench-stencil", .description = "heat sweep vs STREAM triad"},
      [&](CLI::App& cli) {
        cli.add_option("--n", n)->capture_default_str();
        cli.add_option("--steps", steps)->capture_default_str();
        cli.add_option("--rounds", rounds)->capture_default_str();
        cli.add_option("--time-block", time_block)->capture_default_str();
      },
      [&](spmd::App& app) { run(app, n, steps, rounds, time_block); });
}
