#pragma once
// Typed reductions over a communicator: reduce / allreduce / scan / exscan, blocking or not, for
// built-in types and operations (mapped onto MPI's own, MPI_SUM and friends) and for user
// operations -- any callable T(const T&, const T&) on any trivially copyable T -- registered as
// MPI operations, commutative or not. Values go as raw bytes: no serialization on this path.
//
//   long total = spmd::allreduce(comm, local_count, std::plus<>{});
//   Extent box = spmd::allreduce(comm, mine, [](Extent a, const Extent& b) { return a.merge(b); });
//   auto later = spmd::iallreduce(comm, mine, spmd::op::max{});   ... later.wait();
//
// Non-commutative operations are applied in rank order: result = x0 op x1 op ... op x(P-1).
// Raw MPI: Boost.MPI's user operations serialize, and it has no non-blocking collectives.
#include <mpi.h>

#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "spmdkit/runtime/check.hpp"

namespace spmd {

namespace op {
struct min {
  template <class T>
  T operator()(const T& a, const T& b) const { return b < a ? b : a; }
};
struct max {
  template <class T>
  T operator()(const T& a, const T& b) const { return a < b ? b : a; }
};
}  // namespace op

enum class Commutative { yes, no };

namespace detail {

template <class T>
MPI_Datatype builtin_type() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, long double>) return MPI_LONG_DOUBLE;
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 1) return MPI_INT8_T;
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 2) return MPI_INT16_T;
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 4) return MPI_INT32_T;
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 8) return MPI_INT64_T;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 1) return MPI_UINT8_T;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 2) return MPI_UINT16_T;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4) return MPI_UINT32_T;
  else return MPI_UINT64_T;
}

// MPI's own operation for a built-in (type, operation) pair, or MPI_OP_NULL.
template <class T, class Op>
MPI_Op builtin_op() {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    if constexpr (std::is_same_v<Op, std::plus<>> || std::is_same_v<Op, std::plus<T>>) return MPI_SUM;
    else if constexpr (std::is_same_v<Op, std::multiplies<>> || std::is_same_v<Op, std::multiplies<T>>) return MPI_PROD;
    else if constexpr (std::is_same_v<Op, op::min>) return MPI_MIN;
    else if constexpr (std::is_same_v<Op, op::max>) return MPI_MAX;
    else return MPI_OP_NULL;
  } else {
    return MPI_OP_NULL;
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

/// An MPI datatype and operation for (T, Op), freed on destruction (user ones only).
class ReductionTypes {
 public:
  ReductionTypes(MPI_Datatype type, bool own_type, MPI_Op op, bool own_op) noexcept
      : type_(type), op_(op), own_type_(own_type), own_op_(own_op) {}
  ~ReductionTypes();
  ReductionTypes(const ReductionTypes&) = delete;
  ReductionTypes& operator=(const ReductionTypes&) = delete;
  [[nodiscard]] MPI_Datatype type() const noexcept { return type_; }
  [[nodiscard]] MPI_Op op() const noexcept { return op_; }
  /// A user operation (which reads the callable through current_op), not one of MPI's own.
  [[nodiscard]] bool user_op() const noexcept { return own_op_; }

 private:
  MPI_Datatype type_;
  MPI_Op op_;
  bool own_type_;
  bool own_op_;
};

MPI_Datatype bytes_type(std::size_t size);
MPI_Op user_op(MPI_User_function* function, bool commutative);

template <class T, class Op>
std::shared_ptr<ReductionTypes> make_reduction_types(Commutative commutative) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    if (const MPI_Op builtin = builtin_op<T, Op>(); builtin != MPI_OP_NULL) {
      return std::make_shared<ReductionTypes>(builtin_type<T>(), false, builtin, false);
    }
  }
  return std::make_shared<ReductionTypes>(bytes_type(sizeof(T)), true,
                                          user_op(&apply_user_op<T, Op>, commutative == Commutative::yes),
                                          true);
}

// Created once per (T, Op, commutativity) and kept: creating MPI operations and datatypes costs
// microseconds, reductions are often called every step.
// Returned by reference to the cached pointer: no reference-count traffic on every call
// (blocking reductions of a few bytes take well under a microsecond).
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

// Sets current_op for the duration of a blocking call.
template <class T, class Op>
struct OpScope {
  explicit OpScope(const Op& op) : previous(current_op<T, Op>) { current_op<T, Op> = &op; }
  ~OpScope() { current_op<T, Op> = previous; }
  const Op* previous;
};

// Runs the blocking MPI call `call` with `op` reachable by a user operation; MPI's own
// operations need nothing (and skip the thread-local bookkeeping).
template <class T, class Op, class Call>
void with_op(const ReductionTypes& types, const Op& op, Call&& call) {
  if (types.user_op()) {
    const OpScope<T, Op> scope(op);
    call();
  } else {
    call();
  }
}

}  // namespace detail

/// Element-wise allreduce of `in` into `out` (same size on every rank).
template <class T, class Op>
void allreduce(MPI_Comm comm, std::span<const T> in, std::span<T> out, Op op,
               Commutative commutative = Commutative::yes) {
  const auto& types = detail::reduction_types<T, Op>(commutative);
  detail::with_op<T>(*types, op, [&] {
    check_mpi(MPI_Allreduce(in.data(), out.data(), static_cast<int>(in.size()), types->type(),
                            types->op(), comm),
              "MPI_Allreduce");
  });
}

template <class T, class Op>
[[nodiscard]] T allreduce(MPI_Comm comm, const T& value, Op op,
                          Commutative commutative = Commutative::yes) {
  T result = value;
  allreduce<T, Op>(comm, std::span<const T>(&value, 1), std::span<T>(&result, 1), op, commutative);
  return result;
}

template <class T, class Op>
[[nodiscard]] std::vector<T> allreduce(MPI_Comm comm, const std::vector<T>& values, Op op,
                                       Commutative commutative = Commutative::yes) {
  std::vector<T> result(values.size());
  allreduce<T, Op>(comm, std::span<const T>(values), std::span<T>(result), op, commutative);
  return result;
}

/// The reduction on `root` (nullopt elsewhere).
template <class T, class Op>
[[nodiscard]] std::optional<T> reduce(MPI_Comm comm, const T& value, Op op, int root = 0,
                                      Commutative commutative = Commutative::yes) {
  const auto& types = detail::reduction_types<T, Op>(commutative);
  T result = value;
  detail::with_op<T>(*types, op, [&] {
    check_mpi(MPI_Reduce(&value, &result, 1, types->type(), types->op(), root, comm), "MPI_Reduce");
  });
  int rank = 0;
  check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  return rank == root ? std::optional<T>(result) : std::nullopt;
}

/// Inclusive prefix: x0 op ... op x(rank).
template <class T, class Op>
[[nodiscard]] T scan(MPI_Comm comm, const T& value, Op op, Commutative commutative = Commutative::yes) {
  const auto& types = detail::reduction_types<T, Op>(commutative);
  T result = value;
  detail::with_op<T>(*types, op, [&] {
    check_mpi(MPI_Scan(&value, &result, 1, types->type(), types->op(), comm), "MPI_Scan");
  });
  return result;
}

/// Exclusive prefix: x0 op ... op x(rank-1); `identity` on rank 0 (where MPI leaves it undefined).
template <class T, class Op>
[[nodiscard]] T exscan(MPI_Comm comm, const T& value, Op op, const T& identity,
                       Commutative commutative = Commutative::yes) {
  const auto& types = detail::reduction_types<T, Op>(commutative);
  T result = identity;
  detail::with_op<T>(*types, op, [&] {
    check_mpi(MPI_Exscan(&value, &result, 1, types->type(), types->op(), comm), "MPI_Exscan");
  });
  int rank = 0;
  check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  return rank == 0 ? identity : result;
}

/// A non-blocking allreduce in flight: owns its buffers and MPI objects; wait() gives the result.
/// Destroying it unfinished waits for it (the buffers must outlive MPI's use of them).
template <class T>
class PendingReduction {
 public:
  PendingReduction(std::unique_ptr<std::pair<T, T>> buffers, std::shared_ptr<detail::ReductionTypes> types,
                   MPI_Request request)
      : buffers_(std::move(buffers)), types_(std::move(types)), request_(request) {}
  PendingReduction(PendingReduction&& other) noexcept
      : buffers_(std::move(other.buffers_)), types_(std::move(other.types_)),
        request_(std::exchange(other.request_, MPI_REQUEST_NULL)) {}
  PendingReduction& operator=(PendingReduction&&) = delete;
  PendingReduction(const PendingReduction&) = delete;
  PendingReduction& operator=(const PendingReduction&) = delete;
  ~PendingReduction() {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  [[nodiscard]] bool test() {
    int done = 1;
    if (request_ != MPI_REQUEST_NULL) check_mpi(MPI_Test(&request_, &done, MPI_STATUS_IGNORE), "MPI_Test");
    return done != 0;
  }
  [[nodiscard]] T wait() {
    if (request_ != MPI_REQUEST_NULL) check_mpi(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
    return buffers_->second;
  }

 private:
  std::unique_ptr<std::pair<T, T>> buffers_;  // (input, result): stable while MPI works on them
  std::shared_ptr<detail::ReductionTypes> types_;
  MPI_Request request_;
};

/// Non-blocking allreduce (MPI_Iallreduce). User operations must be stateless (default-
/// constructible): MPI may call them later, from inside any MPI call.
template <class T, class Op>
[[nodiscard]] PendingReduction<T> iallreduce(MPI_Comm comm, const T& value, Op = {},
                                             Commutative commutative = Commutative::yes) {
  static_assert(std::is_default_constructible_v<Op>,
                "iallreduce needs a stateless operation (no captures)");
  auto types = detail::reduction_types<T, Op>(commutative);
  auto buffers = std::make_unique<std::pair<T, T>>(value, value);
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Iallreduce(&buffers->first, &buffers->second, 1, types->type(), types->op(), comm,
                           &request),
            "MPI_Iallreduce");
  return PendingReduction<T>(std::move(buffers), std::move(types), request);
}

}  // namespace spmd
