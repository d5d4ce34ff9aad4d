#pragma once
// spmd-heat's options: declared on the shared command line (and TOML config), validated once.
#include <cstdint>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace heat {

struct Options {
  /// Bounds (README, --help): grid points per axis and in all (the index arithmetic stays far
  /// from overflow; the memory of the ranks is the real limit), and time steps.
  static constexpr long max_points_per_axis = (1L << 31) - 1;
  static constexpr long max_points = 1L << 50;
  static constexpr long max_steps = 1'000'000'000'000L;

  int dims = 2;
  long nx = 64, ny = 64, nz = 32;
  double lx = 1.0, ly = 1.0, lz = 1.0;
  double alpha = 1.0;
  double dt = 0.0;  ///< 0: a safe fraction of the stability limit
  long steps = 200;
  double t_end = 0.0;  ///< > 0: run to this time instead of --steps
  std::string boundary = "dirichlet";
  double boundary_value = 0.0;
  std::string init = "sine";
  std::uint64_t seed = 1;
  long every = 50;  ///< snapshot interval (steps); the final step is always written
  /// Steps per halo exchange and per pass over the field (temporal blocking; K ghost layers).
  long time_block = 1;
  static constexpr long max_time_block = 64;
  int step_delay_ms = 0;  ///< tests only (hidden): slow each step so a signal can land mid-run

  void declare(CLI::App& cli);
  /// Throws spmd::UsageError for inconsistent values (every rank alike).
  void validate() const;
  [[nodiscard]] bool periodic() const noexcept { return boundary == "periodic"; }
};

}  // namespace heat
