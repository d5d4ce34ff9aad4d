#include "spmdkit/decomp/halo.hpp"

#include <exception>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::decomp {

Datatype::~Datatype() {
  if (type_ != MPI_DATATYPE_NULL) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized == 0) MPI_Type_free(&type_);
  }
}

Datatype& Datatype::operator=(Datatype&& other) noexcept {
  if (this != &other) {
    Datatype old(type_);
    type_ = std::exchange(other.type_, MPI_DATATYPE_NULL);
  }
  return *this;
}

void Datatype::commit() { check_mpi(MPI_Type_commit(&type_), "MPI_Type_commit"); }

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
Datatype subarray(const Subdomain<D>& sub, const Offset<D>& offset, bool ghosts, MPI_Datatype element) {
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
  MPI_Datatype type = MPI_DATATYPE_NULL;
  check_mpi(MPI_Type_create_subarray(static_cast<int>(D), sizes.data(), subsizes.data(), starts.data(),
                                     MPI_ORDER_C, element, &type),
            "MPI_Type_create_subarray");
  Datatype owned(type);
  owned.commit();
  return owned;
}

}  // namespace

template <std::size_t D>
std::shared_ptr<const HaloPlan> make_halo_plan(const CartDecomposition<D>& cart,
                                               std::size_t element_size) {
  auto plan = std::make_shared<HaloPlan>();
  const Subdomain<D>& sub = cart.subdomain();
  plan->comm = cart.comm();
  plan->local_cells = static_cast<std::size_t>(sub.local_cells());
  MPI_Datatype raw_element = MPI_DATATYPE_NULL;
  check_mpi(MPI_Type_contiguous(static_cast<int>(element_size), MPI_BYTE, &raw_element),
            "MPI_Type_contiguous");
  const Datatype element(raw_element);
  for (const auto& n : sub.neighbours()) {
    if (n.rank == MPI_PROC_NULL) continue;
    bool empty = false;
    for (std::size_t a = 0; a < D; ++a) empty |= n.offset[a] != 0 && sub.ghost()[a] == 0;
    if (empty) continue;
    Offset<D> opposite{};
    for (std::size_t a = 0; a < D; ++a) opposite[a] = -n.offset[a];
    plan->transfers.push_back({n.rank, direction_tag(n.offset), direction_tag(opposite),
                               subarray(sub, n.offset, false, element.get()),
                               subarray(sub, n.offset, true, element.get())});
  }
  return plan;
}

template std::shared_ptr<const HaloPlan> make_halo_plan<1>(const CartDecomposition<1>&, std::size_t);
template std::shared_ptr<const HaloPlan> make_halo_plan<2>(const CartDecomposition<2>&, std::size_t);
template std::shared_ptr<const HaloPlan> make_halo_plan<3>(const CartDecomposition<3>&, std::size_t);

HaloRequest::HaloRequest(std::shared_ptr<const HaloPlan> plan, void* field) : plan_(std::move(plan)) {
  requests_.reserve(2 * plan_->transfers.size());
  // Receives first, so that every send finds its receive posted.
  for (const auto& t : plan_->transfers) {
    MPI_Request request = MPI_REQUEST_NULL;
    check_mpi(MPI_Irecv(field, 1, t.receive.get(), t.rank, t.receive_tag, plan_->comm, &request),
              "MPI_Irecv");
    requests_.push_back(request);
  }
  for (const auto& t : plan_->transfers) {
    MPI_Request request = MPI_REQUEST_NULL;
    check_mpi(MPI_Isend(field, 1, t.send.get(), t.rank, t.send_tag, plan_->comm, &request),
              "MPI_Isend");
    requests_.push_back(request);
  }
}

void HaloRequest::end() {
  if (requests_.empty()) return;
  check_mpi(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE),
            "MPI_Waitall");
  requests_.clear();
}

bool HaloRequest::test() {
  if (requests_.empty()) return true;
  int done = 0;
  check_mpi(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done,
                        MPI_STATUSES_IGNORE),
            "MPI_Testall");
  if (done != 0) requests_.clear();
  return done != 0;
}

HaloRequest::~HaloRequest() {
  if (requests_.empty() || !plan_) return;
  if (std::uncaught_exceptions() == 0) {
    MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
    return;
  }
  // Unwinding: a neighbour may never match these, and waiting could hang the failing rank.
  const std::size_t receives = plan_->transfers.size();
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    if (requests_[i] == MPI_REQUEST_NULL) continue;
    if (i < receives) {
      MPI_Cancel(&requests_[i]);
      MPI_Wait(&requests_[i], MPI_STATUS_IGNORE);
    } else {
      MPI_Request_free(&requests_[i]);
    }
  }
}

}  // namespace spmd::decomp
