#pragma once
// A distributed field: one rank's part of a global grid -- its owned box plus ghost layers -- in
// storage the field owns, with the layout, the halo exchange and the HDF5 transfers that go with
// it (after MPL's distributed_grid). A solver then reads like the mathematics:
//
//   auto grid = spmd::decomp::make_cart<2>(comm, {.cells = {ny, nx}, .periodic = {true, true},
//                                                 .ghost = {1, 1}, .stencil = Stencil::box});
//   spmd::decomp::Field<double, 2> u(grid), next(grid);
//   auto pending = u.begin_exchange();           // ghosts in flight...
//   update(u.interior());                        // ...while the cells that need none are done
//   pending.end();
//   for (const auto& box : u.rim()) update(box); // then the rest, each owned cell exactly once
//   u.swap(next);
//   u.write(file, "state/u");                    // owned cells, in place, at any rank count
//
// Boxes returned by owned_local(), interior() and rim() are in LOCAL coordinates (0 is the first
// ghost layer), ready for loops over values() with strides(); global coordinates are used by
// at() and for_owned().
#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "spmdkit/decomp/cart.hpp"
#include "spmdkit/decomp/halo.hpp"
#include "spmdkit/decomp/io_adapter.hpp"
#include "spmdkit/io/time_series.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::decomp {

/// A decomposition shared by the fields that live on it (collective: creates the communicator).
template <std::size_t D>
[[nodiscard]] std::shared_ptr<const CartDecomposition<D>> make_cart(const Comm& comm,
                                                                    const CartSpec<D>& spec) {
  return std::make_shared<const CartDecomposition<D>>(comm, spec);
}

template <class T, std::size_t D>
requires std::is_trivially_copyable_v<T>
class Field {
 public:
  using Coordinates = std::array<Index, D>;

  /// Every cell, ghosts included, starts as `value` (ghosts on non-periodic boundaries keep it:
  /// the exchange never writes them, so it is the Dirichlet boundary value).
  explicit Field(std::shared_ptr<const CartDecomposition<D>> cart, T value = T{})
      : cart_(std::move(cart)),
        halo_(*cart_),
        values_(static_cast<std::size_t>(cart_->subdomain().local_cells()), value) {
    const auto extents = sub().local_extents();
    strides_[D - 1] = 1;
    for (std::size_t a = D - 1; a > 0; --a) strides_[a - 1] = strides_[a] * extents[a];
  }

  [[nodiscard]] const CartDecomposition<D>& cart() const noexcept { return *cart_; }
  [[nodiscard]] const Subdomain<D>& sub() const noexcept { return cart_->subdomain(); }
  /// The local array, ghosts included, C order.
  [[nodiscard]] std::span<T> values() noexcept { return values_; }
  [[nodiscard]] std::span<const T> values() const noexcept { return values_; }
  /// Elements between neighbours along each axis of the local array (the last is 1).
  [[nodiscard]] const std::array<Index, D>& strides() const noexcept { return strides_; }

  /// Position in values() of local coordinates `l`.
  [[nodiscard]] Index local_index(const Coordinates& l) const noexcept {
    Index at = 0;
    for (std::size_t a = 0; a < D; ++a) at += l[a] * strides_[a];
    return at;
  }
  /// The cell at global coordinates `g` (an owned cell or one of this rank's ghosts).
  [[nodiscard]] T& at(const Coordinates& g) { return values_[checked_index(g)]; }
  [[nodiscard]] const T& at(const Coordinates& g) const { return values_[checked_index(g)]; }

  /// The owned cells, local coordinates.
  [[nodiscard]] Box<D> owned_local() const noexcept {
    Box<D> box;
    for (std::size_t a = 0; a < D; ++a) {
      box.lo[a] = sub().ghost()[a];
      box.hi[a] = box.lo[a] + sub().owned().extent(a);
    }
    return box;
  }
  /// The owned cells whose stencil (as wide as the ghost layers) reads no ghost: the work to do
  /// while an exchange is in flight. Local coordinates; may be empty.
  [[nodiscard]] Box<D> interior() const noexcept {
    Box<D> box = owned_local();
    for (std::size_t a = 0; a < D; ++a) {
      const Index width = sub().ghost()[a];
      box.lo[a] = std::min(box.lo[a] + width, box.hi[a]);
      box.hi[a] = std::max(box.hi[a] - width, box.lo[a]);
    }
    return box;
  }
  /// The owned cells outside interior(), as disjoint boxes (each cell in exactly one): for each
  /// axis its low and high layers, the earlier axes restricted to the interior. Local coordinates.
  [[nodiscard]] std::vector<Box<D>> rim() const {
    const Box<D> owned = owned_local();
    const Box<D> inner = interior();
    std::vector<Box<D>> boxes;
    for (std::size_t a = 0; a < D; ++a) {
      Box<D> slab = owned;
      for (std::size_t b = 0; b < a; ++b) {
        slab.lo[b] = inner.lo[b];
        slab.hi[b] = inner.hi[b];
      }
      Box<D> low = slab, high = slab;
      low.hi[a] = inner.lo[a];
      high.lo[a] = inner.hi[a];
      for (const Box<D>& box : {low, high}) {
        if (box.cells() > 0) boxes.push_back(box);
      }
    }
    return boxes;
  }

  /// Calls fn(value, global coordinates) for every owned cell, C order.
  template <class Fn>
  void for_owned(Fn&& fn) {
    visit_owned(
        [&](Index at, const Coordinates& g) { fn(values_[static_cast<std::size_t>(at)], g); });
  }
  template <class Fn>
  void for_owned(Fn&& fn) const {
    visit_owned(
        [&](Index at, const Coordinates& g) { fn(values_[static_cast<std::size_t>(at)], g); });
  }
  /// The owned cells packed in C order.
  [[nodiscard]] std::vector<T> owned_values() const {
    std::vector<T> packed;
    packed.reserve(static_cast<std::size_t>(sub().owned().cells()));
    for_owned([&](const T& v, const Coordinates&) { packed.push_back(v); });
    return packed;
  }

  /// Starts filling the ghosts from the neighbours (faces, or faces, edges and corners: the
  /// decomposition's stencil). Do not write owned rim cells until end().
  [[nodiscard]] HaloRequest begin_exchange() { return halo_.begin(std::span<T>(values_)); }
  void exchange() { halo_.exchange(std::span<T>(values_)); }

  /// Swaps the values with `other` (double buffering); both must live on the same decomposition.
  void swap(Field& other) {
    if (other.cart_ != cart_)
      throw Error("Field::swap: the fields live on different decompositions");
    values_.swap(other.values_);
  }

  /// Collective: writes the owned cells (in place, ghosts skipped) as dataset `path` of the
  /// global grid's shape.
  io::TransferReport write(const io::File& file, const std::string& path,
                           io::ArrayOptions options = {}) const requires io::H5Scalar<T> {
    return write_field<T>(file, path, sub(), std::span<const T>(values_), std::move(options));
  }
  /// Collective: reads this rank's owned cells of a dataset written at any rank count (ghosts
  /// untouched: exchange() before reading them).
  io::TransferReport read(const io::File& file, const std::string& path) requires io::H5Scalar<T> {
    return read_field<T>(file, path, sub(), std::span<T>(values_));
  }
  /// Collective: appends the owned cells as the next frame of `series` (in place).
  io::TransferReport append_to(io::TimeSeries& series, double time) const requires io::H5Scalar<T> {
    if (io::h5_type<T>() != series.type()) {
      throw Error("Field::append_to: the element type differs from the series'");
    }
    return series.append_bytes(time, io_selection(sub()), values_.data(), io_layout(sub()));
  }
  /// Collective: reads frame `frame` of `series` into the owned cells.
  void read_frame(const io::TimeSeries& series, hsize_t frame) requires io::H5Scalar<T> {
    if (io::h5_type<T>() != series.type()) {
      throw Error("Field::read_frame: the element type differs from the series'");
    }
    series.read_frame_bytes(frame, io_selection(sub()), values_.data(), io_layout(sub()));
  }

 private:
  [[nodiscard]] std::size_t checked_index(const Coordinates& g) const {
    const Box<D> reach = sub().with_ghosts();
    for (std::size_t a = 0; a < D; ++a) {
      if (g[a] < reach.lo[a] || g[a] >= reach.hi[a]) {
        throw Error("Field::at: the cell is neither owned by this rank nor one of its ghosts");
      }
    }
    return static_cast<std::size_t>(sub().local_index(g));
  }

  template <class Visit>
  void visit_owned(Visit&& visit) const {
    const Box<D>& owned = sub().owned();
    if (owned.cells() == 0) return;
    Coordinates g = owned.lo;
    for (Index n = 0, total = owned.cells(); n < total; ++n) {
      visit(sub().local_index(g), g);
      for (std::size_t a = D; a-- > 0;) {
        if (++g[a] < owned.hi[a]) break;
        g[a] = owned.lo[a];
      }
    }
  }

  std::shared_ptr<const CartDecomposition<D>> cart_;
  HaloExchange<T, D> halo_;
  std::vector<T> values_;
  std::array<Index, D> strides_{};
};

/// Calls fn(local flat index) for every cell of `box` (local coordinates) of a field with
/// `strides`, C order: the loop a stencil update runs over interior() and rim().
template <std::size_t D, class Fn>
void for_each_cell(const Box<D>& box, const std::array<Index, D>& strides, Fn&& fn) {
  if (box.cells() <= 0) return;
  if constexpr (D == 1) {
    for (Index x = box.lo[0]; x < box.hi[0]; ++x) fn(x);
  } else if constexpr (D == 2) {
    for (Index y = box.lo[0]; y < box.hi[0]; ++y) {
      const Index row = y * strides[0];
      for (Index x = box.lo[1]; x < box.hi[1]; ++x) fn(row + x);
    }
  } else {
    for (Index z = box.lo[0]; z < box.hi[0]; ++z) {
      for (Index y = box.lo[1]; y < box.hi[1]; ++y) {
        const Index row = z * strides[0] + y * strides[1];
        for (Index x = box.lo[2]; x < box.hi[2]; ++x) fn(row + x);
      }
    }
  }
}

}  // namespace spmd::decomp
