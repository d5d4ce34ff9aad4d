#include "spmdkit/decomp/halo.hpp"

#include <exception>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::decomp {

void throw_halo_size_mismatch(std::size_t expected, std::size_t got) {
  throw Error(fmt::format("halo exchange: the field has {} elements, the subdomain with ghosts {}",
                          got, expected));
}

namespace {

template <std::size_t D>
int direction_tag(const Offset<D>& offset) {
  int tag = 0;
  for (int c : offset) tag = tag * 3 + (c + 1);
  return tag;
}

// A subarray of the local array: per axis, offset -1 / 0 / +1 picks the low ghosts or low owned
// rim, the owned range, or the high rim / high ghosts.
template <std::size_t D>
Datatype subarray(const Subdomain<D>& sub, const Offset<D>& offset, bool ghosts,
                  const Datatype& element) {
  std::array<int, D> sizes{};
  std::array<int, D> subsizes{};
  std::array<int, D> starts{};
  for (std::size_t a = 0; a < D; ++a) {
    const int g = sub.ghost()[a];
    const auto extent = static_cast<int>(sub.owned().extent(a));
    sizes[a] = extent + 2 * g;
    if (offset[a] == 0) {
      subsizes[a] = extent;
      starts[a] = g;
    } else {
      subsizes[a] = g;
      if (offset[a] < 0) {
        starts[a] = ghosts ? 0 : g;
      } else {
        starts[a] = ghosts ? g + extent : extent;
      }
    }
  }
  return Datatype::subarray(sizes, subsizes, starts, element);
}

}  // namespace

template <std::size_t D>
std::shared_ptr<const HaloPlan> make_halo_plan(const CartDecomposition<D>& cart,
                                               std::size_t element_size) {
  auto plan = std::make_shared<HaloPlan>();
  const Subdomain<D>& sub = cart.subdomain();
  plan->comm = cart.comm();
  plan->local_cells = static_cast<std::size_t>(sub.local_cells());
  const Datatype element = Datatype::bytes(element_size);
  for (const auto& n : sub.neighbours()) {
    if (n.rank == MPI_PROC_NULL) continue;
    bool empty = false;
    for (std::size_t a = 0; a < D; ++a) empty |= n.offset[a] != 0 && sub.ghost()[a] == 0;
    if (empty) continue;
    Offset<D> opposite{};
    for (std::size_t a = 0; a < D; ++a) opposite[a] = -n.offset[a];
    plan->transfers.push_back({n.rank, direction_tag(n.offset), direction_tag(opposite),
                               subarray(sub, n.offset, false, element),
                               subarray(sub, n.offset, true, element)});
  }
  return plan;
}

template std::shared_ptr<const HaloPlan> make_halo_plan<1>(const CartDecomposition<1>&,
                                                           std::size_t);
template std::shared_ptr<const HaloPlan> make_halo_plan<2>(const CartDecomposition<2>&,
                                                           std::size_t);
template std::shared_ptr<const HaloPlan> make_halo_plan<3>(const CartDecomposition<3>&,
                                                           std::size_t);

HaloRequest::HaloRequest(std::shared_ptr<const HaloPlan> plan, void* field)
    : plan_(std::move(plan)) {
  requests_.reserve(2 * plan_->transfers.size());
  // Receives first, so that every send finds its receive posted.
  for (const auto& t : plan_->transfers) {
    requests_.add(plan_->comm.ireceive(field, t.receive, t.rank, t.receive_tag));
  }
  for (const auto& t : plan_->transfers) {
    requests_.add(plan_->comm.isend(field, t.send, t.rank, t.send_tag));
  }
}

void HaloRequest::end() { requests_.wait_all(); }

bool HaloRequest::test() { return requests_.test_all(); }

}  // namespace spmd::decomp
