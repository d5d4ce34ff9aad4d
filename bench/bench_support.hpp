#pragma once
// What every MPI benchmark needs: a collective timer whose result every rank agrees on (rank 0's
// clock decides), and the median of repeated rounds (robust against a noisy shared machine).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

[[nodiscard]] inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// Collective: seconds `fn` takes on `comm`, from a barrier to a barrier.
template <class Fn>
[[nodiscard]] double timed(MPI_Comm comm, Fn&& fn) {
  MPI_Barrier(comm);
  const auto start = std::chrono::steady_clock::now();
  fn();
  MPI_Barrier(comm);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MPI_Bcast(&seconds, 1, MPI_DOUBLE, 0, comm);
  return seconds;
}

/// Collective: seconds per call of `fn`, called `iterations` times.
template <class Fn>
[[nodiscard]] double seconds_per_call(MPI_Comm comm, int iterations, Fn&& fn) {
  return timed(comm, [&] { for (int i = 0; i < iterations; ++i) fn(); }) / iterations;
}

/// One raw MPI ping-pong of 8 bytes between ranks 0 and 1 of a 2-rank `comm`: the round trip
/// every messaging benchmark compares against.
inline void raw_pingpong(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const int peer = 1 - rank;
  std::int64_t token = 0;
  if (rank == 0) {
    MPI_Send(&token, 1, MPI_INT64_T, peer, 0, comm);
    MPI_Recv(&token, 1, MPI_INT64_T, peer, 0, comm, MPI_STATUS_IGNORE);
  } else {
    MPI_Recv(&token, 1, MPI_INT64_T, peer, 0, comm, MPI_STATUS_IGNORE);
    MPI_Send(&token, 1, MPI_INT64_T, peer, 0, comm);
  }
}

/// Collective: the host of every rank (MPI_Get_processor_name). A benchmark "across hosts" checks
/// that its ranks really are on different hosts before it reports a network figure.
[[nodiscard]] inline std::vector<std::string> hosts_of_ranks(MPI_Comm comm) {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  MPI_Get_processor_name(name, &length);
  int size = 0;
  MPI_Comm_size(comm, &size);
  std::vector<char> all(static_cast<std::size_t>(size) * MPI_MAX_PROCESSOR_NAME);
  MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                MPI_CHAR, comm);
  std::vector<std::string> hosts;
  for (int r = 0; r < size; ++r) hosts.emplace_back(all.data() + r * MPI_MAX_PROCESSOR_NAME);
  return hosts;
}

/// Collective: throws unless ranks 0 and 1 run on different hosts.
inline void require_ranks_0_and_1_on_different_hosts(MPI_Comm comm) {
  const auto hosts = hosts_of_ranks(comm);
  if (hosts.size() < 2 || hosts[0] == hosts[1]) {
    throw std::runtime_error("--across-hosts: ranks 0 and 1 are both on " + hosts[0] +
                             " (run under slurm/cluster/lab mpirun --map-by node)");
  }
}

}  // namespace bench
