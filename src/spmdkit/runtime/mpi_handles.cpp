#include "spmdkit/runtime/mpi_handles.hpp"

#include <exception>
#include <utility>

#include "spmdkit/runtime/check.hpp"

namespace spmd {

bool mpi_finalized() noexcept {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

// --- Datatype ---------------------------------------------------------------------------------

Datatype::~Datatype() {
  if (type_ != MPI_DATATYPE_NULL && !mpi_finalized()) MPI_Type_free(&type_);
}

Datatype::Datatype(Datatype&& other) noexcept
    : type_(std::exchange(other.type_, MPI_DATATYPE_NULL)) {}

Datatype& Datatype::operator=(Datatype&& other) noexcept {
  if (this != &other) {
    Datatype old(std::exchange(type_, std::exchange(other.type_, MPI_DATATYPE_NULL)));
  }
  return *this;
}

Datatype Datatype::bytes(std::size_t size) {
  MPI_Datatype type = MPI_DATATYPE_NULL;
  check_mpi(MPI_Type_contiguous(static_cast<int>(size), MPI_BYTE, &type), "MPI_Type_contiguous");
  Datatype owned(type);
  check_mpi(MPI_Type_commit(&owned.type_), "MPI_Type_commit");
  return owned;
}

Datatype Datatype::subarray(std::span<const int> sizes, std::span<const int> subsizes,
                            std::span<const int> starts, const Datatype& element) {
  MPI_Datatype type = MPI_DATATYPE_NULL;
  check_mpi(MPI_Type_create_subarray(static_cast<int>(sizes.size()), sizes.data(), subsizes.data(),
                                     starts.data(), MPI_ORDER_C, element.get(), &type),
            "MPI_Type_create_subarray");
  Datatype owned(type);
  check_mpi(MPI_Type_commit(&owned.type_), "MPI_Type_commit");
  return owned;
}

// --- UserOp
// ---------------------------------------------------------------------------------------

UserOp::~UserOp() {
  if (op_ != MPI_OP_NULL && !mpi_finalized()) MPI_Op_free(&op_);
}

UserOp::UserOp(UserOp&& other) noexcept : op_(std::exchange(other.op_, MPI_OP_NULL)) {}

UserOp& UserOp::operator=(UserOp&& other) noexcept {
  if (this != &other) UserOp old(std::exchange(op_, std::exchange(other.op_, MPI_OP_NULL)));
  return *this;
}

UserOp UserOp::create(MPI_User_function* function, bool commutative) {
  MPI_Op op = MPI_OP_NULL;
  check_mpi(MPI_Op_create(function, commutative ? 1 : 0, &op), "MPI_Op_create");
  return UserOp(op);
}

// --- Request ----------------------------------------------------------------------------------

namespace {

// A request left pending at destruction (see Request's destructor).
void finish_pending(MPI_Request& request, Request::Kind kind) noexcept {
  if (request == MPI_REQUEST_NULL || mpi_finalized()) return;
  if (std::uncaught_exceptions() == 0) {
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    return;
  }
  switch (kind) {
    case Request::Kind::receive:
      MPI_Cancel(&request);
      MPI_Wait(&request, MPI_STATUS_IGNORE);
      break;
    case Request::Kind::send: MPI_Request_free(&request); break;
    case Request::Kind::collective: break;  // neither cancellable nor freeable: left to MPI
  }
}

}  // namespace

Request::~Request() { finish_pending(request_, kind_); }

Request::Request(Request&& other) noexcept
    : request_(std::exchange(other.request_, MPI_REQUEST_NULL)), kind_(other.kind_) {}

Request& Request::operator=(Request&& other) noexcept {
  if (this != &other) {
    finish_pending(request_, kind_);
    request_ = std::exchange(other.request_, MPI_REQUEST_NULL);
    kind_ = other.kind_;
  }
  return *this;
}

void Request::wait() {
  if (request_ != MPI_REQUEST_NULL) check_mpi(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
}

bool Request::test() {
  if (request_ == MPI_REQUEST_NULL) return true;
  int done = 0;
  check_mpi(MPI_Test(&request_, &done, MPI_STATUS_IGNORE), "MPI_Test");
  return done != 0;
}

void Request::release() noexcept {
  if (request_ != MPI_REQUEST_NULL) MPI_Request_free(&request_);
}

// --- Requests ---------------------------------------------------------------------------------

Requests::~Requests() {
  for (std::size_t i = 0; i < requests_.size(); ++i) finish_pending(requests_[i], kinds_[i]);
}

void Requests::add(Request request) {
  requests_.push_back(std::exchange(request.request_, MPI_REQUEST_NULL));
  kinds_.push_back(request.kind_);
}

void Requests::wait_all() {
  if (requests_.empty()) return;
  check_mpi(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE),
            "MPI_Waitall");
  requests_.clear();
  kinds_.clear();
}

bool Requests::test_all() {
  if (requests_.empty()) return true;
  int done = 0;
  check_mpi(
      MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE),
      "MPI_Testall");
  if (done != 0) {
    requests_.clear();
    kinds_.clear();
  }
  return done != 0;
}

}  // namespace spmd
