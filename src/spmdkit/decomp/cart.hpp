#pragma once
// N-D Cartesian domain decomposition (D = 1, 2, 3): a global grid of cells split over a process
// grid, each rank owning a box plus ghost layers. The Subdomain a rank gets is an immutable value:
// its owned box, the box with ghosts, and its neighbour in every direction (or none), including
// whether that neighbour is a periodic image.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "spmdkit/decomp/index_map.hpp"
#include "spmdkit/runtime/comm.hpp"

namespace spmd::decomp {

/// Which ghost cells a halo exchange fills. There is no default: an update that reads a
/// diagonal neighbour (a 9-point Laplacian, the Game of Life) with `star` ghosts would silently
/// read stale corners, so a decomposition with ghosts in 2 or more dimensions must say which.
enum class Stencil {
  unspecified,  ///< refused where it matters (2+ dimensions with ghosts)
  star,         ///< faces only: 2·D neighbours (5-/7-point stencils)
  box,          ///< faces, edges and corners: 3^D - 1 neighbours (any stencil)
};

/// A half-open box [lo, hi) of global cell indices.
template <std::size_t D>
struct Box {
  std::array<Index, D> lo{};
  std::array<Index, D> hi{};
  [[nodiscard]] Index extent(std::size_t axis) const noexcept { return hi[axis] - lo[axis]; }
  [[nodiscard]] Index cells() const noexcept {
    Index n = 1;
    for (std::size_t a = 0; a < D; ++a) n *= extent(a);
    return n;
  }
  friend bool operator==(const Box&, const Box&) = default;
};

/// A direction to a neighbour: each component -1, 0 or +1 (not all 0).
template <std::size_t D>
using Offset = std::array<int, D>;

template <std::size_t D>
struct Neighbour {
  Offset<D> offset{};
  int rank = MPI_PROC_NULL;     ///< MPI_PROC_NULL where there is none (non-periodic boundary)
  bool periodic_image = false;  ///< reached across a periodic boundary
};

template <std::size_t D>
struct CartSpec {
  std::array<Index, D> cells{};            ///< global cells per axis (slowest first: z, y, x)
  std::array<bool, D> periodic{};          ///< per axis
  std::array<int, D> procs{};              ///< process grid; 0 entries chosen by MPI_Dims_create
  std::array<int, D> ghost{};              ///< ghost width per axis
  Stencil stencil = Stencil::unspecified;  ///< required with ghosts in 2+ dimensions
  /// Optional explicit per-rank extents along an axis (size = procs on that axis); empty: balanced.
  std::array<std::vector<Index>, D> extents{};
};

template <std::size_t D>
class Subdomain {
 public:
  Subdomain() = default;
  Subdomain(Box<D> owned, std::array<int, D> ghost, std::array<Index, D> global_cells,
            std::vector<Neighbour<D>> neighbours, std::array<int, D> coords)
      : owned_(owned),
        ghost_(ghost),
        global_(global_cells),
        neighbours_(std::move(neighbours)),
        coords_(coords) {}

  [[nodiscard]] const Box<D>& owned() const noexcept { return owned_; }
  [[nodiscard]] Box<D> with_ghosts() const noexcept {
    Box<D> b = owned_;
    for (std::size_t a = 0; a < D; ++a) {
      b.lo[a] -= ghost_[a];
      b.hi[a] += ghost_[a];
    }
    return b;
  }
  [[nodiscard]] const std::array<int, D>& ghost() const noexcept { return ghost_; }
  [[nodiscard]] const std::array<Index, D>& global_cells() const noexcept { return global_; }
  [[nodiscard]] const std::array<int, D>& coords() const noexcept { return coords_; }
  /// The local array's extents, ghosts included (slowest first).
  [[nodiscard]] std::array<Index, D> local_extents() const noexcept {
    std::array<Index, D> e{};
    for (std::size_t a = 0; a < D; ++a) e[a] = owned_.extent(a) + 2 * ghost_[a];
    return e;
  }
  [[nodiscard]] Index local_cells() const noexcept { return with_ghosts().cells(); }
  /// Every neighbour of the stencil (2·D for STAR, 3^D - 1 for BOX).
  [[nodiscard]] const std::vector<Neighbour<D>>& neighbours() const noexcept { return neighbours_; }
  /// The neighbour in direction `offset`, if the stencil has that direction.
  [[nodiscard]] std::optional<Neighbour<D>> neighbour(const Offset<D>& offset) const {
    for (const auto& n : neighbours_) {
      if (n.offset == offset) return n;
    }
    return std::nullopt;
  }
  /// Position of global cell `g` in the local array (ghosts included), C order.
  [[nodiscard]] Index local_index(const std::array<Index, D>& g) const noexcept {
    Index index = 0;
    const auto e = local_extents();
    for (std::size_t a = 0; a < D; ++a) index = index * e[a] + (g[a] - owned_.lo[a] + ghost_[a]);
    return index;
  }

 private:
  Box<D> owned_{};
  std::array<int, D> ghost_{};
  std::array<Index, D> global_{};
  std::vector<Neighbour<D>> neighbours_;
  std::array<int, D> coords_{};
};

/// A Cartesian decomposition on a communicator. Collective to construct (it creates the
/// Cartesian communicator); afterwards a value to query.
template <std::size_t D>
class CartDecomposition {
 public:
  static_assert(D >= 1 && D <= 3, "Cartesian decompositions of 1, 2 or 3 dimensions");
  CartDecomposition(const Comm& comm, const CartSpec<D>& spec);

  /// The Cartesian communicator (rank order as in the parent: no reordering).
  [[nodiscard]] const Comm& comm() const noexcept { return cart_; }
  [[nodiscard]] const std::array<int, D>& procs() const noexcept { return procs_; }
  [[nodiscard]] const CartSpec<D>& spec() const noexcept { return spec_; }
  [[nodiscard]] const Subdomain<D>& subdomain() const noexcept { return mine_; }
  /// The subdomain of any rank (no communication).
  [[nodiscard]] Subdomain<D> subdomain_of(int rank) const;

 private:
  [[nodiscard]] Box<D> owned_box(const std::array<int, D>& coords) const;
  CartSpec<D> spec_;
  std::array<int, D> procs_{};
  Comm cart_;
  Subdomain<D> mine_;
};

extern template class CartDecomposition<1>;
extern template class CartDecomposition<2>;
extern template class CartDecomposition<3>;

}  // namespace spmd::decomp
