#pragma once
// The heat equation u_t = alpha * laplace(u) on a D-dimensional box, explicit finite differences
// (FTCS) on a Cartesian decomposition: the book's data decomposition, with the halo exchange in
// flight while the interior is updated (its asynchronous chapter, MPI style).
//
// Every owned point is updated with the same arithmetic in the same order whatever the
// decomposition, and every reduction is order-free, so results are bit-identical for any rank
// count.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numbers>
#include <span>
#include <vector>

#include <spmdkit/decomp.hpp>
#include <spmdkit/patterns.hpp>
#include <spmdkit/runtime.hpp>

#include "options.hpp"

namespace heat {

using spmd::decomp::Index;

struct StepStats {
  long step = 0;
  double time = 0, min = 0, max = 0, mean = 0, l2 = 0;
  double error_max = std::numeric_limits<double>::quiet_NaN();  ///< vs the exact solution (sine)
};

/// Counter-based random numbers: the value at a global index depends on (seed, index) only.
inline double uniform01(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + index + 0x632BE59BD9B4E019ULL;  // splitmix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

template <std::size_t D>
class Solver {
 public:
  Solver(const spmd::Comm& comm, const Options& options)
      : options_(options),
        cart_(spmd::decomp::make_cart<D>(comm, spec(options))),
        u_(cart_, options.boundary_value),
        next_(cart_, options.boundary_value) {  // ghosts on Dirichlet
                                                // boundaries keep it
    const std::array<double, 3> lengths_zyx{options.lz, options.ly, options.lx};
    for (std::size_t a = 0; a < D; ++a) {
      length_[a] = lengths_zyx[3 - D + a];
      const auto n = static_cast<double>(cells()[a]);
      // Dirichlet: n interior points, the boundary nodes (at 0 and L) live in the ghosts.
      spacing_[a] = options.periodic() ? length_[a] / n : length_[a] / (n + 1);
      origin_[a] = options.periodic() ? 0.0 : spacing_[a];
    }
    double inverse_h2 = 0;
    for (double h : spacing_) inverse_h2 += 1.0 / (h * h);
    stability_limit_ = 1.0 / (2.0 * options.alpha * inverse_h2);
    dt_ = options.dt > 0 ? options.dt : 0.9 * stability_limit_;
    if (dt_ > stability_limit_) {
      throw spmd::UsageError(
          fmt::format("--dt {} exceeds the stability limit {:.6g} of this grid "
                      "(alpha {}): the scheme would blow up",
                      dt_, stability_limit_, options.alpha));
    }
    steps_ = options.steps;
    if (options.t_end > 0) {
      const double needed = std::ceil(options.t_end / dt_ - 1e-9);
      if (!(needed <= static_cast<double>(Options::max_steps))) {
        throw spmd::UsageError(
            fmt::format("--t-end {} takes {:.3g} steps of dt {:.4g} s, more "
                        "than {} (shorten it, or raise --dt)",
                        options.t_end, needed, dt_, Options::max_steps));
      }
      steps_ = static_cast<long>(needed);
      dt_ = options.t_end / static_cast<double>(steps_);  // land exactly on t_end
    }
    for (std::size_t a = 0; a < D; ++a)
      coefficient_[a] = dt_ * options.alpha / (spacing_[a] * spacing_[a]);
  }

  [[nodiscard]] const spmd::decomp::CartDecomposition<D>& cart() const noexcept { return *cart_; }
  [[nodiscard]] const spmd::decomp::Subdomain<D>& sub() const noexcept {
    return cart_->subdomain();
  }
  [[nodiscard]] const std::array<Index, D>& cells() const noexcept { return cart_->spec().cells; }
  [[nodiscard]] const std::array<double, D>& spacing() const noexcept { return spacing_; }
  [[nodiscard]] const std::array<double, D>& origin() const noexcept { return origin_; }
  [[nodiscard]] double dt() const noexcept { return dt_; }
  [[nodiscard]] long steps() const noexcept { return steps_; }
  /// The temperature field (state and output of the run).
  [[nodiscard]] spmd::decomp::Field<double, D>& field() noexcept { return u_; }

  void initialise() {
    u_.for_owned([&](double& v, const std::array<Index, D>& g) { v = initial(g); });
  }

  /// One time step: halo exchange in flight while the interior is updated, then the rim.
  void step() {
    auto pending = u_.begin_exchange();
    update(u_.interior());  // needs no ghost
    pending.end();
    for (const auto& box : u_.rim()) update(box);
    u_.swap(next_);
  }

  /// Collective: statistics of the field at `time` (order-free, so identical for any rank count).
  [[nodiscard]] StepStats stats(long step, double time) const {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    double error = 0;
    spmd::ExactSum sum, squares;
    const bool sine = options_.init == "sine";
    u_.for_owned([&](double v, const std::array<Index, D>& g) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum.add(v);
      squares.add(v * v);
      if (sine) error = std::max(error, std::fabs(v - exact_sine(g, time)));
    });
    const spmd::Comm& comm = cart_->comm();
    const auto agreed = comm.allreduce(std::vector<double>{-lo, hi, error}, spmd::op::max{});
    sum.all_reduce(comm);
    squares.all_reduce(comm);
    double points = 1, volume = 1;
    for (std::size_t a = 0; a < D; ++a) {
      points *= static_cast<double>(cells()[a]);
      volume *= spacing_[a];
    }
    StepStats s{step,
                time,
                -agreed[0],
                agreed[1],
                sum.value() / points,
                std::sqrt(squares.value() * volume)};
    if (sine) s.error_max = agreed[2];
    return s;
  }

 private:
  static spmd::decomp::CartSpec<D> spec(const Options& options) {
    const std::array<long, 3> cells_zyx{options.nz, options.ny, options.nx};
    spmd::decomp::CartSpec<D> s;
    s.stencil = spmd::decomp::Stencil::star;  // the 5-/7-point update reads faces only
    for (std::size_t a = 0; a < D; ++a) {
      s.cells[a] = cells_zyx[3 - D + a];
      s.periodic[a] = options.periodic();
      s.ghost[a] = 1;
    }
    return s;
  }

  [[nodiscard]] double position(std::size_t axis, Index g) const {
    return origin_[axis] + static_cast<double>(g) * spacing_[axis];
  }

  [[nodiscard]] double sine_mode(const std::array<Index, D>& g) const {
    const double k = options_.periodic() ? 2.0 : 1.0;  // the lowest mode the boundaries allow
    double v = 1.0;
    for (std::size_t a = 0; a < D; ++a)
      v *= std::sin(k * std::numbers::pi * position(a, g[a]) / length_[a]);
    return v;
  }

  [[nodiscard]] double exact_sine(const std::array<Index, D>& g, double time) const {
    const double k = options_.periodic() ? 2.0 : 1.0;
    double rate = 0;
    for (double l : length_) rate += 1.0 / (l * l);
    rate *= options_.alpha * k * k * std::numbers::pi * std::numbers::pi;
    return options_.boundary_value + sine_mode(g) * std::exp(-rate * time);
  }

  [[nodiscard]] double initial(const std::array<Index, D>& g) const {
    if (options_.init == "sine") return options_.boundary_value + sine_mode(g);
    if (options_.init == "random") {
      std::uint64_t linear = 0;
      for (std::size_t a = 0; a < D; ++a)
        linear = linear * static_cast<std::uint64_t>(cells()[a]) + static_cast<std::uint64_t>(g[a]);
      return options_.boundary_value + uniform01(options_.seed, linear);
    }
    double r2 = 0;  // hotspot: a Gaussian bump in the middle
    for (std::size_t a = 0; a < D; ++a) {
      const double d = (position(a, g[a]) - 0.5 * length_[a]) / (0.1 * length_[a]);
      r2 += d * d;
    }
    return options_.boundary_value + std::exp(-r2);
  }

  // The FTCS update of `box` (local coordinates, ghosts included).
  void update(const spmd::decomp::Box<D>& box) {
    if (box.cells() == 0) return;
    const auto& lo = box.lo;
    const auto& hi = box.hi;
    const auto& stride = u_.strides();
    const double* u = u_.values().data();
    double* out = next_.values().data();
    if constexpr (D == 1) {
      for (Index x = lo[0]; x < hi[0]; ++x) {
        out[x] = u[x] + coefficient_[0] * (u[x + 1] - 2.0 * u[x] + u[x - 1]);
      }
    } else if constexpr (D == 2) {
      const Index sy = stride[0];
      for (Index y = lo[0]; y < hi[0]; ++y) {
        for (Index x = lo[1]; x < hi[1]; ++x) {
          const Index c = y * sy + x;
          double change = coefficient_[0] * (u[c + sy] - 2.0 * u[c] + u[c - sy]);
          change += coefficient_[1] * (u[c + 1] - 2.0 * u[c] + u[c - 1]);
          out[c] = u[c] + change;
        }
      }
    } else {
      const Index sz = stride[0], sy = stride[1];
      for (Index z = lo[0]; z < hi[0]; ++z) {
        for (Index y = lo[1]; y < hi[1]; ++y) {
          for (Index x = lo[2]; x < hi[2]; ++x) {
            const Index c = z * sz + y * sy + x;
            double change = coefficient_[0] * (u[c + sz] - 2.0 * u[c] + u[c - sz]);
            change += coefficient_[1] * (u[c + sy] - 2.0 * u[c] + u[c - sy]);
            change += coefficient_[2] * (u[c + 1] - 2.0 * u[c] + u[c - 1]);
            out[c] = u[c] + change;
          }
        }
      }
    }
  }

  Options options_;
  std::shared_ptr<const spmd::decomp::CartDecomposition<D>> cart_;
  spmd::decomp::Field<double, D> u_, next_;
  std::array<double, D> length_{}, spacing_{}, origin_{}, coefficient_{};
  double stability_limit_ = 0, dt_ = 0;
  long steps_ = 0;
};

}  // namespace heat
