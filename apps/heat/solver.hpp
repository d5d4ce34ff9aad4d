#pragma once
// The heat equation u_t = alpha * laplace(u) on a D-dimensional box, explicit finite differences
// (FTCS) on a Cartesian decomposition: the book's data decomposition, with the halo exchange in
// flight while the interior is updated (its asynchronous chapter, MPI style).
//
// Every owned point is updated with the same arithmetic in the same order whatever the
// decomposition, and every reduction is order-free, so results are bit-identical for any rank
// count.
//
// Temporal blocking (--time-block K > 1): the ghosts are K layers wide (edges and corners too),
// exchanged once per K steps; then one pass over the field does the K steps as a wavefront along
// the slowest axis: step t of row y is computed as soon as step t-1 of rows y-1..y+1 exists, the
// intermediate steps living in three rows per step (in cache), so the field streams through
// memory once per K steps instead of once per step. Toward a neighbour each intermediate step
// also covers the ghost layers it can (step t of K: K-t of them), which is redundant work in
// place of messages; at a Dirichlet boundary the ghosts keep the boundary value. Each cell's
// update is the same expression (one row kernel for both sweeps) on the same inputs, so results
// are bit-identical to the one-step sweep, and the statistics of every step are gathered from
// the rows as they are produced (order-free sums: identical too).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
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

// The innermost loops of the FTCS update, compiled for AVX2 as well as for the baseline, the
// CPU picking one when the program loads (GCC's function multiversioning): a blocked sweep is
// bound by arithmetic, not memory, and AVX2 doubles it. Both versions do the same IEEE
// operations per cell (no FMA: -ffp-contract=off, and AVX2 alone does not imply it), so the
// results do not depend on the CPU.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SPMD_HEAT_KERNEL __attribute__((target_clones("avx2", "default"))) inline
#else
#define SPMD_HEAT_KERNEL inline
#endif

// Cells lo..hi-1 of a line: `below`/`above` are the neighbouring lines along the slow axis.
SPMD_HEAT_KERNEL void ftcs_line_2d(const double* below, const double* mid, const double* above,
                                   double* __restrict out, Index lo, Index hi, double c0,
                                   double c1) {
  for (Index x = lo; x < hi; ++x) {
    double change = c0 * (above[x] - 2.0 * mid[x] + below[x]);
    change += c1 * (mid[x + 1] - 2.0 * mid[x] + mid[x - 1]);
    out[x] = mid[x] + change;
  }
}

// The same in 3-D: one line along x of the planes below, mid and above, `sy` apart along y.
SPMD_HEAT_KERNEL void ftcs_line_3d(const double* below, const double* mid, const double* above,
                                   double* __restrict out, Index sy, Index lo, Index hi,
                                   const double* c) {
  for (Index x = lo; x < hi; ++x) {
    double change = c[0] * (above[x] - 2.0 * mid[x] + below[x]);
    change += c[1] * (mid[x + sy] - 2.0 * mid[x] + mid[x - sy]);
    change += c[2] * (mid[x + 1] - 2.0 * mid[x] + mid[x - 1]);
    out[x] = mid[x] + change;
  }
}
#undef SPMD_HEAT_KERNEL

template <std::size_t D>
class Solver {
 public:
  Solver(const spmd::Comm& comm, const Options& options)
      : options_(options),
        cart_(make_cart(comm, options)),
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
  /// (The one-step sweep: advance() uses it for --time-block 1.)
  void step() {
    auto pending = u_.begin_exchange();
    update(u_.interior());  // needs no ghost
    pending.end();
    for (const auto& box : u_.rim()) update(box);
    u_.swap(next_);
  }

  /// Collective: steps first..first+count-1, in blocks of --time-block steps. With `stats`,
  /// appends each step's statistics (the time of step s: time_of(s)).
  void advance(long first, long count, const std::function<double(long)>& time_of,
               std::vector<StepStats>* stats) {
    for (long done = 0; done < count;) {
      const long block = std::min(options_.time_block, count - done);
      const long step_first = first + done;
      if (options_.time_block == 1) {
        step();
        if (stats != nullptr) stats->push_back(this->stats(step_first, time_of(step_first)));
      } else {
        std::vector<Accumulator> levels(stats != nullptr ? static_cast<std::size_t>(block) : 0);
        for (long t = 0; t < static_cast<long>(levels.size()); ++t) {
          levels[static_cast<std::size_t>(t)].time = time_of(step_first + t);
        }
        sweep_block(static_cast<int>(block), levels);
        for (long t = 0; t < static_cast<long>(levels.size()); ++t) {
          stats->push_back(reduce(levels[static_cast<std::size_t>(t)], step_first + t));
        }
      }
      done += block;
    }
  }

  /// Collective: statistics of the field at `time` (order-free, so identical for any rank count).
  [[nodiscard]] StepStats stats(long step, double time) const {
    Accumulator acc;
    acc.time = time;
    const bool sine = options_.init == "sine";
    u_.for_owned([&](double v, const std::array<Index, D>& g) {
      acc.lo = std::min(acc.lo, v);
      acc.hi = std::max(acc.hi, v);
      acc.sum.add(v);
      acc.squares.add(v * v);
      if (sine) acc.error = std::max(acc.error, std::fabs(v - exact_sine(g, time)));
    });
    return reduce(acc, step);
  }

 private:
  // One rank's part of a step's statistics.
  struct Accumulator {
    double time = 0;
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    double error = 0;
    spmd::ExactSum sum, squares;
  };

  [[nodiscard]] StepStats reduce(Accumulator& acc, long step) const {
    const spmd::Comm& comm = cart_->comm();
    const auto agreed =
        comm.allreduce(std::vector<double>{-acc.lo, acc.hi, acc.error}, spmd::op::max{});
    acc.sum.all_reduce(comm);
    acc.squares.all_reduce(comm);
    double points = 1, volume = 1;
    for (std::size_t a = 0; a < D; ++a) {
      points *= static_cast<double>(cells()[a]);
      volume *= spacing_[a];
    }
    StepStats s{step,
                acc.time,
                -agreed[0],
                agreed[1],
                acc.sum.value() / points,
                std::sqrt(acc.squares.value() * volume)};
    if (options_.init == "sine") s.error_max = agreed[2];
    return s;
  }

  static std::shared_ptr<const spmd::decomp::CartDecomposition<D>> make_cart(
      const spmd::Comm& comm, const Options& options) {
    try {
      return spmd::decomp::make_cart<D>(comm, spec(options));
    } catch (const spmd::UsageError& e) {
      if (options.time_block == 1) throw;
      // K ghost layers need K cells per rank along every axis.
      throw spmd::UsageError(fmt::format("--time-block {}: {} (use a smaller K or fewer ranks)",
                                         options.time_block, e.what()));
    }
  }

  static spmd::decomp::CartSpec<D> spec(const Options& options) {
    const std::array<long, 3> cells_zyx{options.nz, options.ny, options.nx};
    spmd::decomp::CartSpec<D> s;
    // The 5-/7-point update reads faces only; K steps at once reach edges and corners too.
    s.stencil = options.time_block > 1 ? spmd::decomp::Stencil::box : spmd::decomp::Stencil::star;
    for (std::size_t a = 0; a < D; ++a) {
      s.cells[a] = cells_zyx[3 - D + a];
      s.periodic[a] = options.periodic();
      s.ghost[a] = static_cast<int>(options.time_block);
    }
    return s;
  }

  // `steps` (<= --time-block) steps in one pass over the field (see the header). `levels`:
  // empty, or one accumulator per step for its statistics.
  void sweep_block(int steps, std::vector<Accumulator>& levels) {
    {
      auto pending = u_.begin_exchange();
      pending.end();
    }
    const spmd::decomp::Box<D> owned = u_.owned_local();
    const auto& coords = sub().coords();
    const auto& procs = cart_->procs();
    // Step t (1..steps) covers the owned cells and, toward each neighbour, steps - t ghosts.
    std::vector<spmd::decomp::Box<D>> region(static_cast<std::size_t>(steps) + 1, owned);
    for (int t = 1; t <= steps; ++t) {
      auto& r = region[static_cast<std::size_t>(t)];
      for (std::size_t a = 0; a < D; ++a) {
        const bool periodic = options_.periodic();
        if (periodic || coords[a] > 0) r.lo[a] -= steps - t;
        if (periodic || coords[a] < procs[a] - 1) r.hi[a] += steps - t;
      }
    }
    const Index row = D == 1 ? 1 : u_.strides()[0];  // cells of one row (a slab for 3-D)
    const std::size_t ring_cells =
        static_cast<std::size_t>(3 * (steps - 1)) * static_cast<std::size_t>(row);
    // Of a ring row's cells outside a step's region only the Dirichlet ghosts are ever read:
    // never written, they keep the boundary value they start with.
    if (ring_.size() < ring_cells) ring_.assign(ring_cells, options_.boundary_value);
    const double* u = u_.values().data();
    double* next = next_.values().data();
    double* ring = ring_.data();
    const auto in_rows = [](const spmd::decomp::Box<D>& r, Index y) {
      return y >= r.lo[0] && y < r.hi[0];
    };
    // Step t's row y: step 0 is the field; rows beyond a Dirichlet boundary are its ghosts.
    const auto input_row = [&](int t, Index y) -> const double* {
      if (t == 0 || !in_rows(region[static_cast<std::size_t>(t)], y)) return u + y * row;
      return ring + (static_cast<Index>(3 * (t - 1)) + y % 3) * row;
    };
    const auto output_row = [&](int t, Index y) -> double* {
      if (t == steps) return next + y * row;
      return ring + (static_cast<Index>(3 * (t - 1)) + y % 3) * row;
    };
    const auto& first = region[1];
    for (Index front = first.lo[0]; front < first.hi[0] + steps - 1; ++front) {
      for (int t = 1; t <= steps; ++t) {
        const Index y = front - (t - 1);
        const auto& r = region[static_cast<std::size_t>(t)];
        if (!in_rows(r, y)) continue;
        double* out = output_row(t, y);
        update_row(input_row(t - 1, y - 1), input_row(t - 1, y), input_row(t - 1, y + 1), out, r);
        if (!levels.empty() && in_rows(owned, y)) {
          accumulate_row(levels[static_cast<std::size_t>(t - 1)], out, y, owned);
        }
      }
    }
    u_.swap(next_);
  }

  // Adds the owned cells of row y (local) of one step to its statistics.
  void accumulate_row(Accumulator& acc, const double* values, Index y,
                      const spmd::decomp::Box<D>& owned) {
    const bool sine = options_.init == "sine";
    const auto& ghost = sub().ghost();
    const auto& origin = sub().owned().lo;
    std::array<Index, D> g{};
    g[0] = origin[0] + (y - ghost[0]);
    const auto add_run = [&](const double* run, Index length) {
      // A contiguous run along x: its sums in one call each (exact: the order does not matter).
      acc.sum.add(std::span<const double>(run, static_cast<std::size_t>(length)));
      squares_.resize(static_cast<std::size_t>(length));
      for (Index i = 0; i < length; ++i) {
        const double v = run[i];
        squares_[static_cast<std::size_t>(i)] = v * v;
        acc.lo = std::min(acc.lo, v);
        acc.hi = std::max(acc.hi, v);
        if (sine) {
          if constexpr (D > 1) g[D - 1] = origin[D - 1] + (owned.lo[D - 1] + i - ghost[D - 1]);
          acc.error = std::max(acc.error, std::fabs(v - exact_sine(g, acc.time)));
        }
      }
      acc.squares.add(std::span<const double>(squares_));
    };
    if constexpr (D == 1) {
      add_run(values, 1);
    } else if constexpr (D == 2) {
      add_run(values + owned.lo[1], owned.hi[1] - owned.lo[1]);
    } else {
      const Index sy = u_.strides()[1];
      for (Index l = owned.lo[1]; l < owned.hi[1]; ++l) {
        g[1] = origin[1] + (l - ghost[1]);
        add_run(values + l * sy + owned.lo[2], owned.hi[2] - owned.lo[2]);
      }
    }
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

  // The FTCS update of `box` (local coordinates, ghosts included), row by row.
  void update(const spmd::decomp::Box<D>& box) {
    if (box.cells() == 0) return;
    const Index row = D == 1 ? 1 : u_.strides()[0];
    const double* u = u_.values().data();
    double* out = next_.values().data();
    for (Index y = box.lo[0]; y < box.hi[0]; ++y) {
      update_row(u + (y - 1) * row, u + y * row, u + (y + 1) * row, out + y * row, box);
    }
  }

  // The FTCS update of one row along the slowest axis (a cell in 1-D, a line in 2-D, a plane in
  // 3-D) over `box`'s extent on the other axes: `below`, `mid` and `above` are the rows y-1, y
  // and y+1 of the step before. The one place the arithmetic lives: both sweeps use it, so they
  // agree to the bit.
  void update_row(const double* below, const double* mid, const double* above,
                  double* __restrict out, const spmd::decomp::Box<D>& box) const {
    if constexpr (D == 1) {
      out[0] = mid[0] + coefficient_[0] * (above[0] - 2.0 * mid[0] + below[0]);
    } else if constexpr (D == 2) {
      ftcs_line_2d(below, mid, above, out, box.lo[1], box.hi[1], coefficient_[0], coefficient_[1]);
    } else {
      const Index sy = u_.strides()[1];
      for (Index y = box.lo[1]; y < box.hi[1]; ++y) {
        ftcs_line_3d(below + y * sy, mid + y * sy, above + y * sy, out + y * sy, sy, box.lo[2],
                     box.hi[2], coefficient_.data());
      }
    }
  }

  Options options_;
  std::shared_ptr<const spmd::decomp::CartDecomposition<D>> cart_;
  spmd::decomp::Field<double, D> u_, next_;
  std::array<double, D> length_{}, spacing_{}, origin_{}, coefficient_{};
  double stability_limit_ = 0, dt_ = 0;
  long steps_ = 0;
  std::vector<double> ring_;     // temporal blocking: 3 rows per intermediate step
  std::vector<double> squares_;  // scratch of accumulate_row
};

}  // namespace heat
