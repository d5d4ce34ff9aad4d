#include "options.hpp"

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

namespace heat {

void Options::declare(CLI::App& cli) {
  cli.add_option("--dims", dims, "2 or 3 dimensions")
      ->check(CLI::IsMember({2, 3}))
      ->capture_default_str();
  cli.add_option("--nx", nx, "grid points along x")->capture_default_str();
  cli.add_option("--ny", ny, "grid points along y")->capture_default_str();
  cli.add_option("--nz", nz, "grid points along z (3-D)")->capture_default_str();
  cli.add_option("--lx", lx, "domain length along x [m]")->capture_default_str();
  cli.add_option("--ly", ly, "domain length along y [m]")->capture_default_str();
  cli.add_option("--lz", lz, "domain length along z [m]")->capture_default_str();
  cli.add_option("--alpha", alpha, "diffusivity [m2 s-1]")->capture_default_str();
  cli.add_option("--dt", dt, "time step [s] (default: 0.9 of the stability limit)");
  cli.add_option("--steps", steps, "time steps")->capture_default_str();
  cli.add_option("--t-end", t_end, "run to this time [s] instead of --steps");
  cli.add_option("--boundary", boundary, "dirichlet or periodic")->capture_default_str();
  cli.add_option("--boundary-value", boundary_value, "Dirichlet value [K]")->capture_default_str();
  cli.add_option("--init", init, "sine, hotspot or random")->capture_default_str();
  cli.add_option("--seed", seed, "seed of --init random")->capture_default_str();
  cli.add_option("--every", every, "snapshot every N steps (and the last)")->capture_default_str();
  cli.add_option("--time-block", time_block,
                 "steps per halo exchange and per pass over the field (temporal blocking: K "
                 "ghost layers, K times fewer messages, the field read from memory once per K "
                 "steps; results bit-identical to 1; every rank needs K cells per axis)")
      ->check(CLI::Range(1L, max_time_block))
      ->capture_default_str();
  cli.add_option("--test-step-delay-ms", step_delay_ms)->group("");  // hidden: for tests
}

void Options::validate() const {
  using spmd::UsageError;
  for (auto [name, n] : {std::pair{"--nx", nx}, {"--ny", ny}, {"--nz", nz}}) {
    if (n < 1 || n > max_points_per_axis) {
      throw UsageError(fmt::format("{} must be in [1, {}], got {}", name, max_points_per_axis, n));
    }
  }
  const double points = static_cast<double>(nx) * static_cast<double>(ny) *
                        (dims == 3 ? static_cast<double>(nz) : 1.0);
  if (points > static_cast<double>(max_points)) {
    throw UsageError(fmt::format("the grid has {:.3g} points, more than {:.3g}", points,
                                 static_cast<double>(max_points)));
  }
  for (auto [name, l] : {std::pair{"--lx", lx}, {"--ly", ly}, {"--lz", lz}}) {
    if (!(l > 0)) throw UsageError(fmt::format("{} must be positive, got {}", name, l));
  }
  if (!(alpha > 0)) throw UsageError(fmt::format("--alpha must be positive, got {}", alpha));
  if (dt < 0) throw UsageError(fmt::format("--dt must be positive, got {}", dt));
  if (t_end < 0) throw UsageError(fmt::format("--t-end must be positive, got {}", t_end));
  if (t_end == 0 && (steps < 1 || steps > max_steps)) {
    throw UsageError(fmt::format("--steps must be in [1, {}], got {}", max_steps, steps));
  }
  if (every < 1) throw UsageError(fmt::format("--every must be at least 1, got {}", every));
  if (boundary != "dirichlet" && boundary != "periodic") {
    throw UsageError(fmt::format("--boundary must be dirichlet or periodic, got '{}'", boundary));
  }
  if (init != "sine" && init != "hotspot" && init != "random") {
    throw UsageError(fmt::format("--init must be sine, hotspot or random, got '{}'", init));
  }
}

}  // namespace heat
