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
#include <numbers>
#include <span>
#include <vector>

#include <spmdkit/decomp/cart.hpp>
#include <spmdkit/decomp/halo.hpp>
#include <spmdkit/decomp/io_adapter.hpp>
#include <spmdkit/patterns/exact_sum.hpp>
#include <spmdkit/runtime/check.hpp>
#include <spmdkit/runtime/error.hpp>

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
  Solver(MPI_Comm comm, const Options& opt)
      : opt_(opt), cart_(comm, spec(opt)), halo_(cart_) {
    const std::array<double, 3> lengths_zyx{opt.lz, opt.ly, opt.lx};
    for (std::size_t a = 0; a < D; ++a) {
      length_[a] = lengths_zyx[3 - D + a];
      const auto n = static_cast<double>(cells()[a]);
      // Dirichlet: n interior points, the boundary nodes (at 0 and L) live in the ghosts.
      spacing_[a] = opt.periodic() ? length_[a] / n : length_[a] / (n + 1);
      origin_[a] = opt.periodic() ? 0.0 : spacing_[a];
    }
    double inverse_h2 = 0;
    for (double h : spacing_) inverse_h2 += 1.0 / (h * h);
    stability_limit_ = 1.0 / (2.0 * opt.alpha * inverse_h2);
    dt_ = opt.dt > 0 ? opt.dt : 0.9 * stability_limit_;
    if (dt_ > stability_limit_) {
      throw spmd::UsageError(fmt::format("--dt {} exceeds the stability limit {:.6g} of this grid "
                                         "(alpha {}): the scheme would blow up",
                                         dt_, stability_limit_, opt.alpha));
    }
    steps_ = opt.steps;
    if (opt.t_end > 0) {
      const double needed = std::ceil(opt.t_end / dt_ - 1e-9);
      if (!(needed <= static_cast<double>(Options::max_steps))) {
        throw spmd::UsageError(fmt::format("--t-end {} takes {:.3g} steps of dt {:.4g} s, more "
                                           "than {} (shorten it, or raise --dt)",
                                           opt.t_end, needed, dt_, Options::max_steps));
      }
      steps_ = static_cast<long>(needed);
      dt_ = opt.t_end / static_cast<double>(steps_);  // land exactly on t_end
    }
    for (std::size_t a = 0; a < D; ++a) coefficient_[a] = dt_ * opt.alpha / (spacing_[a] * spacing_[a]);
    const auto local = static_cast<std::size_t>(sub().local_cells());
    u_.assign(local, opt.boundary_value);  // ghosts on Dirichlet boundaries keep this value
    next_ = u_;
    const auto e = sub().local_extents();
    stride_[D - 1] = 1;
    for (std::size_t a = D - 1; a > 0; --a) stride_[a - 1] = stride_[a] * e[a];
  }

  [[nodiscard]] const spmd::decomp::CartDecomposition<D>& cart() const noexcept { return cart_; }
  [[nodiscard]] const spmd::decomp::Subdomain<D>& sub() const noexcept { return cart_.subdomain(); }
  [[nodiscard]] const std::array<Index, D>& cells() const noexcept { return cart_.spec().cells; }
  [[nodiscard]] const std::array<double, D>& spacing() const noexcept { return spacing_; }
  [[nodiscard]] const std::array<double, D>& origin() const noexcept { return origin_; }
  [[nodiscard]] double dt() const noexcept { return dt_; }
  [[nodiscard]] long steps() const noexcept { return steps_; }
  [[nodiscard]] std::span<const double> field() const noexcept { return u_; }

  void initialise() {
    for_owned([&](Index at, const std::array<Index, D>& g) { u_[static_cast<std::size_t>(at)] = initial(g); });
  }

  /// One time step: halo exchange in flight while the interior is updated, then the rim.
  void step() {
    auto pending = halo_.begin(std::span<double>(u_));
    const auto& o = sub().owned();
    std::array<Index, D> lo{}, hi{};
    for (std::size_t a = 0; a < D; ++a) {
      lo[a] = sub().ghost()[a] + 1;
      hi[a] = sub().ghost()[a] + o.extent(a) - 1;
    }
    update(lo, hi);  // needs no ghost
    pending.end();
    // The rim: for each axis, its first and last owned layer, with earlier axes interior only,
    // so that every rim point is updated exactly once.
    for (std::size_t a = 0; a < D; ++a) {
      std::array<Index, D> slab_lo{}, slab_hi{};
      for (std::size_t b = 0; b < D; ++b) {
        const Index first = sub().ghost()[b];
        const Index last = first + o.extent(b) - 1;
        slab_lo[b] = b < a ? first + 1 : first;
        slab_hi[b] = b < a ? last : last + 1;
      }
      const Index first = sub().ghost()[a];
      const Index last = first + o.extent(a) - 1;
      slab_lo[a] = first;
      slab_hi[a] = first + 1;
      update(slab_lo, slab_hi);
      if (last != first) {
        slab_lo[a] = last;
        slab_hi[a] = last + 1;
        update(slab_lo, slab_hi);
      }
    }
    std::swap(u_, next_);
  }

  /// Collective: statistics of the field at `time` (order-free, so identical for any rank count).
  [[nodiscard]] StepStats stats(long step, double time) const {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    double error = 0;
    spmd::ExactSum sum, squares;
    const bool sine = opt_.init == "sine";
    for_owned([&](Index at, const std::array<Index, D>& g) {
      const double v = u_[static_cast<std::size_t>(at)];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum.add(v);
      squares.add(v * v);
      if (sine) error = std::max(error, std::fabs(v - exact_sine(g, time)));
    });
    const MPI_Comm comm = cart_.comm();
    double extremes[3] = {-lo, hi, error};
    double agreed[3] = {};
    spmd::check_mpi(MPI_Allreduce(extremes, agreed, 3, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
    sum.all_reduce(comm);
    squares.all_reduce(comm);
    double points = 1, volume = 1;
    for (std::size_t a = 0; a < D; ++a) {
      points *= static_cast<double>(cells()[a]);
      volume *= spacing_[a];
    }
    StepStats s{step, time, -agreed[0], agreed[1], sum.value() / points,
                std::sqrt(squares.value() * volume)};
    if (sine) s.error_max = agreed[2];
    return s;
  }

  /// Collective: writes the field (owned points, in place) as dataset `path` of the global grid.
  void save(const spmd::io::File& file, const std::string& path) const {
    spmd::decomp::write_field<double>(file, path, sub(), std::span<const double>(u_),
                                      {.units = "K", .long_name = "temperature"});
  }
  /// Collective: reads this rank's part of a field written by save() at any rank count.
  void load(const spmd::io::File& file, const std::string& path) {
    spmd::decomp::read_field<double>(file, path, sub(), std::span<double>(u_));
  }

  /// The owned points packed in C order (for output).
  [[nodiscard]] std::vector<double> owned_values() const {
    std::vector<double> values;
    values.reserve(static_cast<std::size_t>(sub().owned().cells()));
    for_owned([&](Index at, const std::array<Index, D>&) { values.push_back(u_[static_cast<std::size_t>(at)]); });
    return values;
  }

 private:
  static spmd::decomp::CartSpec<D> spec(const Options& opt) {
    const std::array<long, 3> cells_zyx{opt.nz, opt.ny, opt.nx};
    spmd::decomp::CartSpec<D> s;
    s.stencil = spmd::decomp::Stencil::star;  // the 5-/7-point update reads faces only
    for (std::size_t a = 0; a < D; ++a) {
      s.cells[a] = cells_zyx[3 - D + a];
      s.periodic[a] = opt.periodic();
      s.ghost[a] = 1;
    }
    return s;
  }

  [[nodiscard]] double position(std::size_t axis, Index g) const {
    return origin_[axis] + static_cast<double>(g) * spacing_[axis];
  }

  [[nodiscard]] double sine_mode(const std::array<Index, D>& g) const {
    const double k = opt_.periodic() ? 2.0 : 1.0;  // the lowest mode the boundaries allow
    double v = 1.0;
    for (std::size_t a = 0; a < D; ++a) v *= std::sin(k * std::numbers::pi * position(a, g[a]) / length_[a]);
    return v;
  }

  [[nodiscard]] double exact_sine(const std::array<Index, D>& g, double time) const {
    const double k = opt_.periodic() ? 2.0 : 1.0;
    double rate = 0;
    for (double l : length_) rate += 1.0 / (l * l);
    rate *= opt_.alpha * k * k * std::numbers::pi * std::numbers::pi;
    return opt_.boundary_value + sine_mode(g) * std::exp(-rate * time);
  }

  [[nodiscard]] double initial(const std::array<Index, D>& g) const {
    if (opt_.init == "sine") return opt_.boundary_value + sine_mode(g);
    if (opt_.init == "random") {
      std::uint64_t linear = 0;
      for (std::size_t a = 0; a < D; ++a) linear = linear * static_cast<std::uint64_t>(cells()[a]) + static_cast<std::uint64_t>(g[a]);
      return opt_.boundary_value + uniform01(opt_.seed, linear);
    }
    double r2 = 0;  // hotspot: a Gaussian bump in the middle
    for (std::size_t a = 0; a < D; ++a) {
      const double d = (position(a, g[a]) - 0.5 * length_[a]) / (0.1 * length_[a]);
      r2 += d * d;
    }
    return opt_.boundary_value + std::exp(-r2);
  }

  // Calls fn(local flat index, global coordinates) for every owned point, C order.
  template <class Fn>
  void for_owned(Fn&& fn) const {
    const auto& o = sub().owned();
    std::array<Index, D> g = o.lo;
    const Index total = o.cells();
    for (Index n = 0; n < total; ++n) {
      fn(sub().local_index(g), g);
      for (std::size_t a = D; a-- > 0;) {
        if (++g[a] < o.hi[a]) break;
        g[a] = o.lo[a];
      }
    }
  }

  // The FTCS update of the local box [lo, hi) (local coordinates, ghosts included).
  void update(const std::array<Index, D>& lo, const std::array<Index, D>& hi) {
    for (std::size_t a = 0; a < D; ++a) {
      if (hi[a] <= lo[a]) return;
    }
    const double* u = u_.data();
    double* out = next_.data();
    if constexpr (D == 1) {
      for (Index x = lo[0]; x < hi[0]; ++x) {
        out[x] = u[x] + coefficient_[0] * (u[x + 1] - 2.0 * u[x] + u[x - 1]);
      }
    } else if constexpr (D == 2) {
      const Index sy = stride_[0];
      for (Index y = lo[0]; y < hi[0]; ++y) {
        for (Index x = lo[1]; x < hi[1]; ++x) {
          const Index c = y * sy + x;
          double change = coefficient_[0] * (u[c + sy] - 2.0 * u[c] + u[c - sy]);
          change += coefficient_[1] * (u[c + 1] - 2.0 * u[c] + u[c - 1]);
          out[c] = u[c] + change;
        }
      }
    } else {
      const Index sz = stride_[0], sy = stride_[1];
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

  Options opt_;
  spmd::decomp::CartDecomposition<D> cart_;
  spmd::decomp::HaloExchange<double, D> halo_;
  std::array<double, D> length_{}, spacing_{}, origin_{}, coefficient_{};
  std::array<Index, D> stride_{};
  double stability_limit_ = 0, dt_ = 0;
  long steps_ = 0;
  std::vector<double> u_, next_;
};

}  // namespace heat
