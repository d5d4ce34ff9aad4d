#pragma once
// Halo exchange for a local array with ghost layers, split-phase (the book's asynchronous
// chapter, MPI style):
//
//   spmd::decomp::HaloExchange<double, 2> halo(decomposition);   // datatypes built once
//   auto pending = halo.begin(field);     // ghosts in flight...
//   update_interior(field);               // ...while the interior is computed
//   pending.end();                        // ghosts arrived
//   update_rim(field);
//
// MPI subarray datatypes describe every face (STAR) or face, edge and corner (BOX) of the local
// array, so nothing is packed by hand and corners are filled by their diagonal neighbours.
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "spmdkit/decomp/cart.hpp"

namespace spmd::decomp {

/// What one exchange does: per neighbour, the subarray sent and the one received.
struct HaloPlan {
  struct Transfer {
    int rank;
    int send_tag;
    int receive_tag;
    Datatype send;
    Datatype receive;
  };
  Comm comm;
  std::size_t local_cells = 0;
  std::vector<Transfer> transfers;
};

/// Builds the plan for elements of `element_size` bytes (collective: no; purely local).
template <std::size_t D>
[[nodiscard]] std::shared_ptr<const HaloPlan> make_halo_plan(const CartDecomposition<D>& cart,
                                                             std::size_t element_size);

/// An exchange in flight. end() waits for it; the destructor does too (or, while an exception
/// unwinds, cancels the receives and lets the sends go, so a failing rank never blocks here).
class HaloRequest {
 public:
  HaloRequest(std::shared_ptr<const HaloPlan> plan, void* field);

  void end();
  /// True once every transfer has completed (then end() returns at once).
  [[nodiscard]] bool test();

 private:
  std::shared_ptr<const HaloPlan> plan_;  // keeps the datatypes alive while in flight
  Requests requests_;                     // receives first, then sends; declared last: they
                                          // complete (or are cancelled) before the plan goes
};

template <class T, std::size_t D>
requires std::is_trivially_copyable_v<T>
class HaloExchange {
 public:
  explicit HaloExchange(const CartDecomposition<D>& cart)
      : plan_(make_halo_plan(cart, sizeof(T))) {}

  /// Posts every receive and send of `field` (the local array, ghosts included, C order).
  [[nodiscard]] HaloRequest begin(std::span<T> field) const {
    check_size(field.size());
    return HaloRequest(plan_, field.data());
  }
  /// Blocking convenience: begin(field).end().
  void exchange(std::span<T> field) const { begin(field).end(); }

 private:
  void check_size(std::size_t n) const;
  std::shared_ptr<const HaloPlan> plan_;
};

void throw_halo_size_mismatch(std::size_t expected, std::size_t got);

template <class T, std::size_t D>
requires std::is_trivially_copyable_v<T>
void HaloExchange<T, D>::check_size(std::size_t n) const {
  if (n != plan_->local_cells) throw_halo_size_mismatch(plan_->local_cells, n);
}

}  // namespace spmd::decomp
