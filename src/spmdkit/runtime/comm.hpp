#pragma once
// spmd::Comm: the one MPI layer of spmdkit. Every collective and message the library and its apps
// exchange goes through a member of Comm; every raw MPI call lives in the runtime room (a house
// rule, checked by the house.rules test). It sits on Boost.MPI's communicator (boost() gives it
// to code that wants Boost.MPI's serialized collectives) and adds what Boost.MPI lacks:
// reductions on raw bytes with user operations (commutative or not), non-blocking collectives,
// matched-probe messages of any size, byte all-to-all, Cartesian topologies, and the agreement on
// a failure that keeps an SPMD job from hanging.
//
//   const spmd::Comm& comm = app.comm();
//   long total = comm.allreduce(local_count, std::plus<>{});
//   Extent box = comm.allreduce(mine, [](Extent a, const Extent& b) { return a.merge(b); });
//   auto names = comm.broadcast(std::move(names), 2);        // rank 2's vector<string>
//   auto later = comm.iallreduce(mine, spmd::op::max{});   ... later.wait();
//
// Non-commutative operations are applied in rank order: result = x0 op x1 op ... op x(P-1).
// Values of reductions go as raw bytes (trivially copyable types), other values through their
// wire codec (runtime/wire.hpp).
#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <chrono>
#include <climits>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/mpi_handles.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd {

namespace op {
struct min {
  template <class T>
  T operator()(const T& a, const T& b) const {
    return b < a ? b : a;
  }
};
struct max {
  template <class T>
  T operator()(const T& a, const T& b) const {
    return a < b ? b : a;
  }
};
}  // namespace op

enum class Commutative { yes, no };

/// A message received whole: who sent it, with which tag, and its bytes.
struct Message {
  int source = -1;
  int tag = -1;
  std::string bytes;
};

/// Every rank's part in ending a step on which any rank may have failed.
struct FailureVote {
  int exit_code = 0;
  bool failed = false;  ///< this rank has an error to report
};

/// What the ranks agreed on.
struct FailureAgreement {
  int exit_code = 0;           ///< the largest exit code of any rank
  int first_failed_rank = -1;  ///< lowest rank that failed, or -1 when none did
  [[nodiscard]] bool failed() const noexcept { return first_failed_rank >= 0; }
};

namespace detail {

template <class T>
MPI_Datatype builtin_type() {
  constexpr bool is_signed = std::is_integral_v<T> && std::is_signed_v<T>;
  if constexpr (std::is_same_v<T, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, long double>)
    return MPI_LONG_DOUBLE;
  else if constexpr (is_signed && sizeof(T) == 1)
    return MPI_INT8_T;
  else if constexpr (is_signed && sizeof(T) == 2)
    return MPI_INT16_T;
  else if constexpr (is_signed && sizeof(T) == 4)
    return MPI_INT32_T;
  else if constexpr (is_signed && sizeof(T) == 8)
    return MPI_INT64_T;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 1)
    return MPI_UINT8_T;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 2)
    return MPI_UINT16_T;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4)
    return MPI_UINT32_T;
  else
    return MPI_UINT64_T;
}

template <class T, class Op>
constexpr bool is_builtin_op =
    std::is_same_v<Op, std::plus<>> || std::is_same_v<Op, std::plus<T>> ||
    std::is_same_v<Op, std::multiplies<>> || std::is_same_v<Op, std::multiplies<T>> ||
    std::is_same_v<Op, op::min> || std::is_same_v<Op, op::max>;

// T and Op reduce with MPI's own datatype and operation.
template <class T, class Op>
constexpr bool has_builtin_op =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && is_builtin_op<T, Op>;

// MPI's own operation for a built-in (type, operation) pair.
template <class T, class Op>
MPI_Op builtin_op() {
  static_assert(has_builtin_op<T, Op>, "only for MPI's own (type, operation) pairs");
  if constexpr (std::is_same_v<Op, std::plus<>> || std::is_same_v<Op, std::plus<T>>) {
    return MPI_SUM;
  } else if constexpr (std::is_same_v<Op, std::multiplies<>> ||
                       std::is_same_v<Op, std::multiplies<T>>) {
    return MPI_PROD;
  } else if constexpr (std::is_same_v<Op, op::min>) {
    return MPI_MIN;
  } else {
    return MPI_MAX;
  }
}

// The operation a blocking call is running (MPI calls user functions from inside the call, on
// the calling thread); non-blocking calls need stateless operations instead.
template <class T, class Op>
inline thread_local const Op* current_op = nullptr;

template <class T, class Op>
void apply_user_op(void* in, void* inout, int* length, MPI_Datatype*) {
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  const Op* op = current_op<T, Op>;
  std::optional<Op> stateless;
  if (op == nullptr) {
    if constexpr (std::is_default_constructible_v<Op>) {
      stateless.emplace();
      op = &*stateless;
    } else {
      return;  // not reached: non-blocking calls require default-constructible operations
    }
  }
  // MPI's convention: inout = in op inout, where `in` comes from lower ranks.
  for (int i = 0; i < *length; ++i) b[i] = (*op)(a[i], b[i]);
}

/// The MPI datatype and operation of a reduction of T with Op: MPI's own where one exists, else
/// T's bytes and a user operation (owned).
class ReductionTypes {
 public:
  ReductionTypes(MPI_Datatype builtin_type, MPI_Op builtin_op) noexcept
      : type_(builtin_type), op_(builtin_op) {}
  ReductionTypes(Datatype type, UserOp op) noexcept
      : owned_type_(std::move(type)),
        owned_op_(std::move(op)),
        type_(owned_type_.get()),
        op_(owned_op_.get()) {}
  [[nodiscard]] MPI_Datatype type() const noexcept { return type_; }
  [[nodiscard]] MPI_Op op() const noexcept { return op_; }

 private:
  Datatype owned_type_;
  UserOp owned_op_;
  MPI_Datatype type_;
  MPI_Op op_;
};

template <class T, class Op>
std::shared_ptr<ReductionTypes> make_reduction_types(Commutative commutative) {
  if constexpr (has_builtin_op<T, Op>) {
    return std::make_shared<ReductionTypes>(builtin_type<T>(), builtin_op<T, Op>());
  } else {
    return std::make_shared<ReductionTypes>(
        Datatype::bytes(sizeof(T)),
        UserOp::create(&apply_user_op<T, Op>, commutative == Commutative::yes));
  }
}

// Created once per (T, Op, commutativity) and kept: creating MPI operations and datatypes costs
// microseconds, reductions are often called every step. Returned by reference to the cached
// pointer: no reference-count traffic on every call (a reduction of a few bytes takes well under
// a microsecond).
template <class T, class Op>
const std::shared_ptr<ReductionTypes>& reduction_types(Commutative commutative) {
  static_assert(std::is_trivially_copyable_v<T>, "reductions send values as bytes");
  if (commutative == Commutative::yes) {
    static const auto types = make_reduction_types<T, Op>(Commutative::yes);
    return types;
  }
  static const auto types = make_reduction_types<T, Op>(Commutative::no);
  return types;
}

// Runs the blocking MPI call `call(type, op)` with the datatype and operation of a reduction of
// T with `op`. MPI's own are known at compile time: no lookup, no bookkeeping (a reduction of a
// few bytes takes well under a microsecond). A user operation is the cached one, with `op`
// reachable through current_op while MPI calls it.
template <class T, class Op, class Call>
void with_reduction(const Op& op, Commutative commutative, Call&& call) {
  if constexpr (has_builtin_op<T, Op>) {
    call(builtin_type<T>(), builtin_op<T, Op>());
  } else {
    const ReductionTypes& types = *reduction_types<T, Op>(commutative);
    const Op* previous = std::exchange(current_op<T, Op>, &op);
    struct Restore {
      const Op* previous;
      ~Restore() { current_op<T, Op> = previous; }
    } restore{previous};
    call(types.type(), types.op());
  }
}

}  // namespace detail

/// A non-blocking allreduce in flight: owns its buffers and MPI objects; wait() gives the result.
/// Destroying it unfinished waits for it (the buffers must outlive MPI's use of them).
template <class T>
class PendingReduction {
 public:
  PendingReduction(std::unique_ptr<std::pair<T, T>> buffers,
                   std::shared_ptr<detail::ReductionTypes> types, Request request)
      : buffers_(std::move(buffers)), types_(std::move(types)), request_(std::move(request)) {}
  PendingReduction(PendingReduction&&) noexcept = default;
  PendingReduction& operator=(PendingReduction&&) = delete;
  PendingReduction(const PendingReduction&) = delete;
  PendingReduction& operator=(const PendingReduction&) = delete;
  ~PendingReduction() {
    // Left to MPI when unwinding (Request's rule): then the buffers must stay with it.
    if (!request_.done() && std::uncaught_exceptions() > 0) {
      static std::vector<std::unique_ptr<std::pair<T, T>>> abandoned;
      abandoned.push_back(std::move(buffers_));
    }
  }

  [[nodiscard]] bool test() { return request_.test(); }
  [[nodiscard]] T wait() {
    request_.wait();
    return buffers_->second;
  }

 private:
  std::unique_ptr<std::pair<T, T>> buffers_;  // (input, result): stable while MPI works on them
  std::shared_ptr<detail::ReductionTypes> types_;
  Request request_;  // declared last: completed (or left to MPI) before the buffers go
};

class Comm {
 public:
  /// MPI_COMM_NULL: only to be assigned.
  Comm() = default;
  /// Shares `comm` (Boost.MPI's handle: the last copy frees a communicator it owns).
  explicit Comm(boost::mpi::communicator comm);
  /// Uses `comm` without owning it (the caller keeps it alive longer than this Comm).
  [[nodiscard]] static Comm attach(MPI_Comm comm);
  /// MPI_COMM_SELF: this process alone (independent I/O, a serial reference).
  [[nodiscard]] static Comm self();
  /// A duplicate whose errors come back as exceptions (MPI_ERRORS_RETURN), owned (collective).
  [[nodiscard]] Comm duplicate() const;
  /// The ranks with the same `color`, ordered by rank; MPI_UNDEFINED gives a null Comm
  /// (collective).
  [[nodiscard]] Comm split(int color) const;

  [[nodiscard]] int rank() const {
    if (native_ == MPI_COMM_NULL) [[unlikely]]
      throw_null_communicator();
    return rank_;
  }
  [[nodiscard]] int size() const {
    if (native_ == MPI_COMM_NULL) [[unlikely]]
      throw_null_communicator();
    return size_;
  }
  [[nodiscard]] bool is_null() const noexcept { return native_ == MPI_COMM_NULL; }
  [[nodiscard]] MPI_Comm native() const noexcept { return native_; }
  /// For HDF5's MPI-IO driver and Boost.MPI's own algorithms.
  operator MPI_Comm() const noexcept { return native(); }  // NOLINT(google-explicit-constructor)
  [[nodiscard]] const boost::mpi::communicator& boost() const noexcept { return comm_; }

  void barrier() const;

  // --- Reductions (values as raw bytes; see the header comment) -------------------------------

  /// Element-wise allreduce of `in` into `out` (same size on every rank).
  template <class T, class Op>
  void allreduce(std::span<const T> in, std::span<T> out, Op op,
                 Commutative commutative = Commutative::yes) const {
    detail::with_reduction<T>(op, commutative, [&](MPI_Datatype type, MPI_Op mpi_op) {
      check_mpi(MPI_Allreduce(in.data(), out.data(), count(in.size()), type, mpi_op, native()),
                "MPI_Allreduce");
    });
  }
  /// In place: `values` become the element-wise reduction.
  template <class T, class Op>
  void allreduce_in_place(std::span<T> values, Op op,
                          Commutative commutative = Commutative::yes) const {
    detail::with_reduction<T>(op, commutative, [&](MPI_Datatype type, MPI_Op mpi_op) {
      check_mpi(
          MPI_Allreduce(MPI_IN_PLACE, values.data(), count(values.size()), type, mpi_op, native()),
          "MPI_Allreduce");
    });
  }
  template <class T, class Op>
  [[nodiscard]] T allreduce(const T& value, Op op,
                            Commutative commutative = Commutative::yes) const {
    T result = value;
    allreduce<T, Op>(std::span<const T>(&value, 1), std::span<T>(&result, 1), op, commutative);
    return result;
  }
  template <class T, class Op>
  [[nodiscard]] std::vector<T> allreduce(const std::vector<T>& values, Op op,
                                         Commutative commutative = Commutative::yes) const {
    std::vector<T> result(values.size());
    allreduce<T, Op>(std::span<const T>(values), std::span<T>(result), op, commutative);
    return result;
  }
  /// The reduction on `root` (nullopt elsewhere).
  template <class T, class Op>
  [[nodiscard]] std::optional<T> reduce(const T& value, Op op, int root = 0,
                                        Commutative commutative = Commutative::yes) const {
    T result = value;
    detail::with_reduction<T>(op, commutative, [&](MPI_Datatype type, MPI_Op mpi_op) {
      check_mpi(MPI_Reduce(&value, &result, 1, type, mpi_op, root, native()), "MPI_Reduce");
    });
    return rank() == root ? std::optional<T>(result) : std::nullopt;
  }
  /// Inclusive prefix: x0 op ... op x(rank).
  template <class T, class Op>
  [[nodiscard]] T scan(const T& value, Op op, Commutative commutative = Commutative::yes) const {
    T result = value;
    detail::with_reduction<T>(op, commutative, [&](MPI_Datatype type, MPI_Op mpi_op) {
      check_mpi(MPI_Scan(&value, &result, 1, type, mpi_op, native()), "MPI_Scan");
    });
    return result;
  }
  /// Exclusive prefix: x0 op ... op x(rank-1); `identity` on rank 0 (MPI leaves it undefined).
  template <class T, class Op>
  [[nodiscard]] T exscan(const T& value, Op op, const T& identity,
                         Commutative commutative = Commutative::yes) const {
    T result = identity;
    detail::with_reduction<T>(op, commutative, [&](MPI_Datatype type, MPI_Op mpi_op) {
      check_mpi(MPI_Exscan(&value, &result, 1, type, mpi_op, native()), "MPI_Exscan");
    });
    return rank() == 0 ? identity : result;
  }
  /// Non-blocking allreduce. User operations must be stateless (default-constructible): MPI may
  /// call them later, from inside any MPI call.
  template <class T, class Op>
  [[nodiscard]] PendingReduction<T> iallreduce(const T& value, Op = {},
                                               Commutative commutative = Commutative::yes) const {
    static_assert(std::is_default_constructible_v<Op>,
                  "iallreduce needs a stateless operation (no captures)");
    auto types = detail::reduction_types<T, Op>(commutative);
    auto buffers = std::make_unique<std::pair<T, T>>(value, value);
    MPI_Request request = MPI_REQUEST_NULL;
    check_mpi(MPI_Iallreduce(&buffers->first, &buffers->second, 1, types->type(), types->op(),
                             native(), &request),
              "MPI_Iallreduce");
    return PendingReduction<T>(std::move(buffers), std::move(types),
                               Request(request, Request::Kind::collective));
  }

  // --- One to all, all to one -----------------------------------------------------------------

  /// `value` of rank `root` on every rank (the others' `value` is ignored).
  template <wire::Encodable T>
  [[nodiscard]] T broadcast(T value, int root = 0) const {
    if constexpr (wire::Bitwise<T>) {
      broadcast_raw(&value, sizeof(T), root);
      return value;
    } else {
      std::string bytes = rank() == root ? wire::encode(value) : std::string();
      broadcast_bytes(bytes, root);
      return rank() == root ? std::move(value) : wire::decode<T>(bytes);
    }
  }
  /// `bytes` of `root` on every rank, resized as needed.
  void broadcast_bytes(std::string& bytes, int root) const;
  /// Every rank's `value`, in rank order, on every rank.
  template <wire::Bitwise T>
  [[nodiscard]] std::vector<T> allgather(const T& value) const {
    std::vector<T> all(static_cast<std::size_t>(size()));
    allgather_raw(&value, all.data(), sizeof(T));
    return all;
  }
  /// Every rank's bytes concatenated in rank order on `root` (empty elsewhere).
  [[nodiscard]] std::string gather_bytes(std::string_view mine, int root) const;
  /// All-to-all of bytes: `out[r]` goes to rank r; returns what every rank sent here, in rank
  /// order, concatenated.
  [[nodiscard]] std::string exchange_bytes(const std::vector<std::string>& out) const;

  // --- Messages of any size (matched probe) ----------------------------------------------------

  /// Blocking send of `bytes`.
  void send_bytes(int dest, int tag, std::string_view bytes) const;
  /// Non-blocking send of `bytes`, which must stay alive and unchanged until it completes.
  [[nodiscard]] Request isend_bytes(int dest, int tag, std::string_view bytes) const;
  /// Blocking: the next message from `source` with `tag` (wildcards allowed), received whole.
  [[nodiscard]] Message receive(int source = MPI_ANY_SOURCE, int tag = MPI_ANY_TAG) const;
  /// The next such message if one has arrived.
  [[nodiscard]] std::optional<Message> receive_if_arrived(int source = MPI_ANY_SOURCE,
                                                          int tag = MPI_ANY_TAG) const;
  /// The same into `into`, whose buffer is reused (a loop receiving large messages allocates,
  /// page-faults and zero-fills none of it again): whether one had arrived. `into` keeps its
  /// previous contents when none had.
  bool receive_if_arrived(Message& into, int source = MPI_ANY_SOURCE, int tag = MPI_ANY_TAG) const;
  /// One typed block (a halo face described by `type`) from or to a neighbour.
  [[nodiscard]] Request isend(const void* data, const Datatype& type, int dest, int tag) const;
  [[nodiscard]] Request ireceive(void* data, const Datatype& type, int source, int tag) const;

  // --- Cartesian topologies --------------------------------------------------------------------

  /// A balanced process grid of `ranks` over `dims.size()` axes; non-zero entries of `dims` are
  /// kept (MPI_Dims_create).
  [[nodiscard]] static std::vector<int> balanced_grid(int ranks, std::vector<int> dims);
  /// A Cartesian communicator over this one (ranks kept, no reordering: collective).
  [[nodiscard]] Comm cartesian(std::span<const int> dims, std::span<const int> periodic) const;
  [[nodiscard]] std::vector<int> coordinates(int rank, int ndims) const;
  /// The rank at `coordinates` (wrapped on periodic axes), or MPI_PROC_NULL.
  [[nodiscard]] int rank_at(std::span<const int> coordinates) const;

  // --- Agreeing on a failure -------------------------------------------------------------------

  /// The one failure protocol (spmd::run, the pipeline, the farm): every rank brings whether it
  /// failed and its exit code, and all learn the lowest failing rank and the largest code. With
  /// a `patience`, returns nullopt when not every rank arrived in time (a rank blocked in a
  /// collective waiting for the failed one); without, waits as long as it takes.
  [[nodiscard]] std::optional<FailureAgreement> agree_on_failure(
      FailureVote local, std::optional<std::chrono::milliseconds> patience = std::nullopt) const;
  /// Ends a step on which any rank may have thrown (`local`, or null): if any did, every rank
  /// throws the same error -- the lowest failing rank's `message`, a UsageError when that rank's
  /// error was one. Collective; returns normally when no rank failed.
  void throw_first_failure(const std::exception_ptr& local, std::string message) const;

 private:
  static int count(std::size_t n) {
    if (n > static_cast<std::size_t>(INT_MAX)) [[unlikely]]
      throw_too_large_for_one_message();
    return static_cast<int>(n);
  }
  [[noreturn]] static void throw_too_large_for_one_message();
  [[noreturn]] static void throw_null_communicator();
  void broadcast_raw(void* data, std::size_t bytes, int root) const;
  void allgather_raw(const void* mine, void* all, std::size_t bytes) const;

  boost::mpi::communicator comm_{MPI_COMM_NULL, boost::mpi::comm_attach};
  // Read from comm_ once: they never change, and Boost.MPI asks MPI for each of them on every
  // call, out of line (two library calls per wrapped collective otherwise).
  MPI_Comm native_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 0;
};

/// The exit code of an exception (exit_code::usage for a UsageError, else failure).
[[nodiscard]] int exit_code_of(const std::exception_ptr& error);

}  // namespace spmd
