#include "spmdkit/patterns/keyed_reduce.hpp"

#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd {

std::uint64_t stable_hash(std::string_view key) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

namespace detail {

namespace {

int as_count(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error(fmt::format("keyed reduction: {} bytes for one rank exceed MPI's int counts; "
                            "reduce in batches",
                            bytes));
  }
  return static_cast<int>(bytes);
}

std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> at(counts.size(), 0);
  long long total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    at[i] = as_count(static_cast<std::size_t>(total));
    total += counts[i];
  }
  as_count(static_cast<std::size_t>(total));
  return at;
}

}  // namespace

std::vector<std::byte> exchange_bytes(MPI_Comm comm, const std::vector<std::vector<std::byte>>& out) {
  std::vector<int> send_counts(out.size());
  std::vector<std::byte> send;
  for (std::size_t r = 0; r < out.size(); ++r) {
    send_counts[r] = as_count(out[r].size());
    send.insert(send.end(), out[r].begin(), out[r].end());
  }
  std::vector<int> receive_counts(out.size());
  check_mpi(MPI_Alltoall(send_counts.data(), 1, MPI_INT, receive_counts.data(), 1, MPI_INT, comm),
            "MPI_Alltoall");
  const auto send_at = displacements(send_counts);
  const auto receive_at = displacements(receive_counts);
  std::vector<std::byte> received(static_cast<std::size_t>(
      std::accumulate(receive_counts.begin(), receive_counts.end(), 0LL)));
  check_mpi(MPI_Alltoallv(send.data(), send_counts.data(), send_at.data(), MPI_BYTE, received.data(),
                          receive_counts.data(), receive_at.data(), MPI_BYTE, comm),
            "MPI_Alltoallv");
  return received;
}

std::vector<std::byte> gather_bytes(MPI_Comm comm, const std::vector<std::byte>& mine, int root) {
  int rank = 0;
  int ranks = 1;
  check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm, &ranks), "MPI_Comm_size");
  const int count = as_count(mine.size());
  std::vector<int> counts(rank == root ? static_cast<std::size_t>(ranks) : 0);
  check_mpi(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm), "MPI_Gather");
  std::vector<int> at;
  std::vector<std::byte> all;
  if (rank == root) {
    at = displacements(counts);
    all.resize(static_cast<std::size_t>(std::accumulate(counts.begin(), counts.end(), 0LL)));
  }
  check_mpi(MPI_Gatherv(mine.data(), count, MPI_BYTE, all.data(), counts.data(), at.data(), MPI_BYTE,
                        root, comm),
            "MPI_Gatherv");
  return all;
}

}  // namespace detail

}  // namespace spmd
