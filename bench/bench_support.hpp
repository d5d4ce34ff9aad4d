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

#include "spmdkit/runtime/provenance.hpp"

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
  return timed(comm,
               [&] {
                 for (int i = 0; i < iterations; ++i) fn();
               }) /
         iterations;
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

/// Throws unless ranks 0 and 1 run on different hosts (as the run's provenance saw them): a
/// benchmark "across hosts" checks it before it reports a network figure.
inline void require_ranks_0_and_1_on_different_hosts(const spmd::Provenance& provenance) {
  const auto& place = provenance.placement;
  if (place.size() < 2 || place[0].host == place[1].host) {
    throw std::runtime_error("--across-hosts: ranks 0 and 1 are both on " + place[0].host +
                             " (run under slurm/cluster/lab mpirun --map-by node)");
  }
}

}  // namespace bench
