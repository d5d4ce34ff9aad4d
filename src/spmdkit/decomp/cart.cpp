#include "spmdkit/decomp/cart.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::decomp {

namespace {

template <std::size_t D>
std::vector<Offset<D>> stencil_offsets(Stencil stencil) {
  std::vector<Offset<D>> offsets;
  Offset<D> o{};
  o.fill(-1);
  while (true) {
    int nonzero = 0;
    for (int c : o) nonzero += c != 0 ? 1 : 0;
    if (nonzero > 0 && (stencil == Stencil::box || nonzero == 1)) offsets.push_back(o);
    std::size_t a = D;  // odometer over {-1, 0, 1}^D, last axis fastest
    while (a > 0) {
      --a;
      if (++o[a] <= 1) break;
      o[a] = -1;
      if (a == 0) return offsets;
    }
  }
}

}  // namespace

template <std::size_t D>
CartDecomposition<D>::CartDecomposition(const Comm& comm, const CartSpec<D>& spec) : spec_(spec) {
  const int size = comm.size();
  for (std::size_t a = 0; a < D; ++a) {
    if (spec.cells[a] < 1) {
      throw UsageError(
          fmt::format("the grid needs at least 1 cell along axis {}, got {}", a, spec.cells[a]));
    }
    if (spec.ghost[a] < 0) throw UsageError(fmt::format("negative ghost width on axis {}", a));
    if (spec.procs[a] < 0) throw UsageError(fmt::format("negative process count on axis {}", a));
  }
  const bool has_ghosts =
      std::any_of(spec.ghost.begin(), spec.ghost.end(), [](int g) { return g > 0; });
  if (D >= 2 && has_ghosts && spec.stencil == Stencil::unspecified) {
    throw UsageError(
        "CartSpec::stencil must be chosen: Stencil::star (faces only: 5-/7-point updates) or "
        "Stencil::box (faces, edges and corners: any update that reads a diagonal neighbour)");
  }
  if (spec.stencil == Stencil::unspecified)
    spec_.stencil = Stencil::star;  // 1-D or no ghosts: alike
  procs_ = spec.procs;
  int fixed = 1;
  for (int p : procs_) fixed *= p > 0 ? p : 1;
  if (size % fixed != 0) {
    throw UsageError(
        fmt::format("a process grid with {} ranks fixed cannot hold {} ranks", fixed, size));
  }
  const auto grid = Comm::balanced_grid(size, {procs_.begin(), procs_.end()});
  std::copy(grid.begin(), grid.end(), procs_.begin());
  if (std::accumulate(procs_.begin(), procs_.end(), 1, std::multiplies<>()) != size) {
    throw UsageError(fmt::format("the process grid does not have {} ranks", size));
  }
  for (std::size_t a = 0; a < D; ++a) {
    if (procs_[a] > spec.cells[a]) {
      throw UsageError(
          fmt::format("{} ranks along axis {} but only {} cells: use fewer ranks or a "
                      "larger grid",
                      procs_[a], a, spec.cells[a]));
    }
    Index smallest = spec.cells[a] / procs_[a];
    if (!spec.extents[a].empty()) {
      if (static_cast<int>(spec.extents[a].size()) != procs_[a]) {
        throw UsageError(fmt::format("axis {}: {} explicit extents for {} ranks", a,
                                     spec.extents[a].size(), procs_[a]));
      }
      if (std::accumulate(spec.extents[a].begin(), spec.extents[a].end(), Index{0}) !=
          spec.cells[a]) {
        throw UsageError(
            fmt::format("axis {}: explicit extents do not add up to {} cells", a, spec.cells[a]));
      }
      smallest = *std::min_element(spec.extents[a].begin(), spec.extents[a].end());
      if (smallest < 1)
        throw UsageError(fmt::format("axis {}: every rank needs at least 1 cell", a));
    }
    if (spec.ghost[a] > smallest) {
      throw UsageError(
          fmt::format("axis {}: ghost width {} exceeds the smallest subdomain ({} cells)", a,
                      spec.ghost[a], smallest));
    }
  }
  std::array<int, D> periods{};
  for (std::size_t a = 0; a < D; ++a) periods[a] = spec.periodic[a] ? 1 : 0;
  // No reordering: rank r of `comm` stays rank r, so outputs and tests can rely on it.
  cart_ = comm.cartesian(procs_, periods);
  mine_ = subdomain_of(cart_.rank());
}

template <std::size_t D>
Box<D> CartDecomposition<D>::owned_box(const std::array<int, D>& coords) const {
  Box<D> box;
  for (std::size_t a = 0; a < D; ++a) {
    if (spec_.extents[a].empty()) {
      const BlockMap map(spec_.cells[a], procs_[a]);
      box.lo[a] = map.offset(coords[a]);
      box.hi[a] = box.lo[a] + map.local_size(coords[a]);
    } else {
      const ExplicitMap map(spec_.extents[a]);
      box.lo[a] = map.offset(coords[a]);
      box.hi[a] = box.lo[a] + map.local_size(coords[a]);
    }
  }
  return box;
}

template <std::size_t D>
Subdomain<D> CartDecomposition<D>::subdomain_of(int rank) const {
  std::array<int, D> coords{};
  const auto found = cart_.coordinates(rank, static_cast<int>(D));
  std::copy(found.begin(), found.end(), coords.begin());
  std::vector<Neighbour<D>> neighbours;
  for (const auto& offset : stencil_offsets<D>(spec_.stencil)) {
    Neighbour<D> n;
    n.offset = offset;
    std::array<int, D> at{};
    bool exists = true;
    for (std::size_t a = 0; a < D; ++a) {
      at[a] = coords[a] + offset[a];
      if (at[a] < 0 || at[a] >= procs_[a]) {
        if (!spec_.periodic[a]) {
          exists = false;
          break;
        }
        at[a] = (at[a] + procs_[a]) % procs_[a];
        n.periodic_image = true;
      }
    }
    if (exists) {
      n.rank = cart_.rank_at(at);
    } else {
      n.periodic_image = false;
    }
    neighbours.push_back(n);
  }
  return Subdomain<D>(owned_box(coords), spec_.ghost, spec_.cells, std::move(neighbours), coords);
}

template class CartDecomposition<1>;
template class CartDecomposition<2>;
template class CartDecomposition<3>;

}  // namespace spmd::decomp
