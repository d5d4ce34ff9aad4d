#pragma once
// What every MPI benchmark needs: a collective timer whose result every rank agrees on (rank 0's
// clock decides), and the median of repeated rounds (robust against a noisy shared machine).
#include <mpi.h>

#include <algorithm>
#include <chrono>
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

}  // namespace bench
