// A user's checkpointed solver: 1-D diffusion on a ring, its own name and version.
#include <cstdint>

#include <spmdkit/spmdkit.hpp>

int main(int argc, char** argv) {
  std::int64_t cells = 100;
  long steps = 50;
  spmd::CheckpointFlags checkpoints;
  return spmd::run(
      argc, argv,
      {.name = "diffuse",
       .description = "1-D diffusion on a ring",
       .default_output = "diffuse.h5",
       .version = DIFFUSE_VERSION,
       .program = "diffuse"},
      [&](CLI::App& cli) {
        cli.add_option("--cells", cells)->check(CLI::Range(std::int64_t{4}, std::int64_t{1} << 30));
        cli.add_option("--steps", steps)->check(CLI::NonNegativeNumber);
        checkpoints.declare(cli);
      },
      [&](spmd::App& app) {
        const auto ring = spmd::decomp::make_cart<1>(
            app.comm(), {.cells = {cells}, .periodic = {true}, .ghost = {1}});
        spmd::decomp::Field<double, 1> u(ring), next(ring);
        spmd::TimeLoop loop(app, checkpoints, {.steps = steps, .dt = 0.1, .snapshot_every = 10});
        loop.state("u", u);
        loop.snapshots("fields/u", u);
        return loop.run(
            [&] {
              u.for_owned([&](double& v, const auto& g) { v = g[0] == cells / 2 ? 1.0 : 0.0; });
            },
            [&](long) {
              u.exchange();
              const double* c = u.values().data();
              double* out = next.values().data();
              spmd::decomp::for_each_cell(u.owned_local(), u.strides(), [&](std::int64_t i) {
                out[i] = c[i] + 0.25 * (c[i - 1] - 2 * c[i] + c[i + 1]);
              });
              u.swap(next);
            });
      });
}
