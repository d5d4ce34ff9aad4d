// spmd-life: Conway's Game of Life on a periodic 2-D grid -- the worked example of a user's own
// solver (README, "Writing your own app"). The library does the rest: the decomposition and its
// ghost cells (BOX: a cell reads its diagonal neighbours), checkpoints and restart at any rank
// count, the output with its snapshots and ParaView sidecar. Results are bit-identical at any
// rank count and across a stop and restart.
//
//   mpirun -np 4 spmd-life --nx 512 --ny 512 --steps 1000 --every 50 -o results/life.h5
//   kill -USR1 <mpirun pid>   ... exit 75, then: ... --restart results/life.checkpoint.h5
#include <cstdint>
#include <functional>

#include <spmdkit/spmdkit.hpp>

namespace {

using Cells = spmd::decomp::Field<std::uint8_t, 2>;

struct Options {
  std::int64_t nx = 128, ny = 128;
  long steps = 100, every = 10;
  double density = 0.3;
  std::uint64_t seed = 1;

  void declare(CLI::App& cli) {
    const auto cells = CLI::Range(std::int64_t{1}, std::int64_t{1} << 20);
    cli.add_option("--nx", nx, "cells along x")->check(cells)->capture_default_str();
    cli.add_option("--ny", ny, "cells along y")->check(cells)->capture_default_str();
    cli.add_option("--steps", steps, "generations")
        ->check(CLI::Range(0L, 1L << 40))
        ->capture_default_str();
    cli.add_option("--every", every, "snapshot every N generations (0: first and last)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    cli.add_option("--density", density, "fraction of cells alive at the start")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    cli.add_option("--seed", seed, "random seed of the initial cells")->capture_default_str();
  }
};

// Cell (y, x) starts alive with probability `density`, from (seed, y, x) alone: the same
// start at any rank count (splitmix64 of the cell's index).
std::uint8_t initially_alive(const Options& options, std::int64_t y, std::int64_t x) {
  std::uint64_t z =
      options.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(y * options.nx + x);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 < options.density ? 1 : 0;
}

// One generation (B3/S23) of the cells of `box` (local coordinates) from `now` into `next`.
void update(const Cells& now, Cells& next, const spmd::decomp::Box<2>& box) {
  const std::uint8_t* c = now.values().data();
  std::uint8_t* out = next.values().data();
  const std::int64_t row = now.strides()[0];
  spmd::decomp::for_each_cell(box, now.strides(), [&](std::int64_t i) {
    const int n = c[i - row - 1] + c[i - row] + c[i - row + 1] + c[i - 1] + c[i + 1] +
                  c[i + row - 1] + c[i + row] + c[i + row + 1];
    out[i] = n == 3 || (n == 2 && c[i] != 0) ? 1 : 0;
  });
}

// One generation of the whole field: ghosts in flight while the interior is done.
void generation(Cells& cells, Cells& next) {
  auto pending = cells.begin_exchange();
  update(cells, next, cells.interior());
  pending.end();
  for (const auto& box : cells.rim()) update(cells, next, box);
  cells.swap(next);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  spmd::CheckpointFlags checkpoints;
  return spmd::run(
      argc, argv,
      {.name = "life",
       .description = "Conway's Game of Life on a periodic grid",
       .default_output = "life.h5"},
      [&](CLI::App& cli) {
        options.declare(cli);
        checkpoints.declare(cli);
      },
      [&](spmd::App& app) {
        using spmd::decomp::Stencil;
        const auto grid = spmd::decomp::make_cart<2>(app.comm(), {.cells = {options.ny, options.nx},
                                                                  .periodic = {true, true},
                                                                  .ghost = {1, 1},
                                                                  .stencil = Stencil::box});
        Cells cells(grid), next(grid);
        spmd::TimeLoop loop(app, checkpoints,
                            {.steps = options.steps,
                             .snapshot_every = options.every,
                             .title = "spmd-life: Game of Life",
                             .may_change_on_restart = {"--steps"}});
        loop.state("cells", cells);
        loop.snapshots(
            "fields/alive", cells,
            {.series = {.units = "1", .long_name = "alive", .time_units = "generations"}});
        const int code = loop.run(
            [&] {
              cells.for_owned(
                  [&](auto& cell, const auto& g) { cell = initially_alive(options, g[0], g[1]); });
            },
            [&](long) { generation(cells, next); });
        if (code != spmd::exit_code::ok) return code;
        std::int64_t alive = 0;
        cells.for_owned([&](std::uint8_t cell, const auto&) { alive += cell; });
        alive = app.comm().allreduce(alive, std::plus<>{});
        app.summary().set("alive", alive);
        app.print("spmd-life: {} x {} cells, {} generations on {} ranks: {} alive\n", options.ny,
                  options.nx, options.steps, app.size(), alive);
        return code;
      });
}
