#pragma once
// Owned MPI objects: each raw handle the library creates is wrapped here once, freed by its
// destructor (unless MPI is already finalized), moved but never copied.
//
//   Datatype face = Datatype::subarray(sizes, subsizes, starts, Datatype::bytes(8));
//   Requests exchange;  exchange.add(comm.irecv(...)); ... exchange.wait_all();
//   UserOp merge = UserOp::create(&apply, /*commutative=*/true);
#include <mpi.h>

#include <cstddef>
#include <span>
#include <vector>

namespace spmd {

/// True once MPI_Finalize has run: destructors of MPI objects then leave them to MPI.
[[nodiscard]] bool mpi_finalized() noexcept;

/// A committed, owned MPI datatype.
class Datatype {
 public:
  Datatype() = default;
  ~Datatype();
  Datatype(Datatype&& other) noexcept;
  Datatype& operator=(Datatype&& other) noexcept;
  Datatype(const Datatype&) = delete;
  Datatype& operator=(const Datatype&) = delete;

  /// `size` contiguous bytes as one element (values that travel as their bytes).
  [[nodiscard]] static Datatype bytes(std::size_t size);
  /// A C-order subarray of `element`s: the block `subsizes` at `starts` of an array `sizes`.
  [[nodiscard]] static Datatype subarray(std::span<const int> sizes, std::span<const int> subsizes,
                                         std::span<const int> starts, const Datatype& element);

  [[nodiscard]] MPI_Datatype get() const noexcept { return type_; }

 private:
  explicit Datatype(MPI_Datatype type) noexcept : type_(type) {}
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
};

/// An owned user reduction operation.
class UserOp {
 public:
  UserOp() = default;
  ~UserOp();
  UserOp(UserOp&& other) noexcept;
  UserOp& operator=(UserOp&& other) noexcept;
  UserOp(const UserOp&) = delete;
  UserOp& operator=(const UserOp&) = delete;

  [[nodiscard]] static UserOp create(MPI_User_function* function, bool commutative);
  [[nodiscard]] MPI_Op get() const noexcept { return op_; }

 private:
  explicit UserOp(MPI_Op op) noexcept : op_(op) {}
  MPI_Op op_ = MPI_OP_NULL;
};

/// One non-blocking operation in flight.
class Request {
 public:
  /// What a pending request is cut short with when the run is unwinding.
  enum class Kind { send, receive, collective };
  Request() = default;
  Request(MPI_Request request, Kind kind) noexcept : request_(request), kind_(kind) {}
  /// Completed normally: waits for it. Unwinding (a partner may have failed and never match it):
  /// a receive is cancelled, a send handed to MPI, a collective left to MPI -- never a wait that
  /// could hang the failing rank. The caller's buffers must then outlive MPI's use of them.
  ~Request();
  Request(Request&& other) noexcept;
  Request& operator=(Request&& other) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  void wait();
  [[nodiscard]] bool test();
  /// Hands a send to MPI (MPI_Request_free): it completes on its own.
  void release() noexcept;
  [[nodiscard]] bool done() const noexcept { return request_ == MPI_REQUEST_NULL; }
  [[nodiscard]] Kind kind() const noexcept { return kind_; }

 private:
  friend class Requests;
  MPI_Request request_ = MPI_REQUEST_NULL;
  Kind kind_ = Kind::send;
};

/// Requests completed together (a halo exchange's receives and sends), with Request's rules for
/// the ones left pending at destruction.
class Requests {
 public:
  Requests() = default;
  Requests(Requests&&) noexcept = default;
  Requests& operator=(Requests&&) noexcept = default;
  ~Requests();

  void reserve(std::size_t n) {
    requests_.reserve(n);
    kinds_.reserve(n);
  }
  void add(Request request);
  void wait_all();
  [[nodiscard]] bool test_all();
  [[nodiscard]] bool empty() const noexcept { return requests_.empty(); }

 private:
  std::vector<MPI_Request> requests_;
  std::vector<Request::Kind> kinds_;
};

}  // namespace spmd
