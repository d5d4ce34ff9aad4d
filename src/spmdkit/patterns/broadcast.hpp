#pragma once
// Root's value on every rank: the one-to-all collective with which ranks agree on what one of
// them found (rank 0's table widths before a collective write, the best result of a search).
// Bitwise values travel as their bytes, others through their wire codec.
//   const auto width = spmd::broadcast(comm, longest_title);        // rank 0's value everywhere
//   const auto names = spmd::broadcast(comm, std::move(names), 2);  // rank 2's vector<string>
#include <mpi.h>

#include <string>
#include <utility>

#include "spmdkit/patterns/detail/messaging.hpp"
#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd {

/// Collective: `value` of rank `root` on every rank of `comm` (the others' `value` is ignored).
template <wire::Encodable T>
[[nodiscard]] T broadcast(MPI_Comm comm, T value, int root = 0) {
  if constexpr (wire::Bitwise<T>) {
    check_mpi(MPI_Bcast(&value, static_cast<int>(sizeof(T)), MPI_BYTE, root, comm), "MPI_Bcast");
    return value;
  } else {
    int rank = 0;
    check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    std::string bytes = rank == root ? wire::encode(value) : std::string();
    detail::broadcast_bytes(comm, bytes, root);
    return rank == root ? std::move(value) : wire::decode<T>(bytes);
  }
}

}  // namespace spmd
