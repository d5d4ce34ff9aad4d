#pragma once
// Shared helpers of the MPI unit tests.
#include <unistd.h>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "spmdkit/runtime/environment.hpp"

namespace spmd::test {

/// The test process's environment (created by the MPI gtest main).
inline Environment& environment() {
  Environment* env = Environment::current();
  if (env == nullptr) throw std::logic_error("spmd::test::environment() outside the MPI main");
  return *env;
}

/// The world communicator of the tests (a duplicate with MPI_ERRORS_RETURN).
inline const Comm& world() { return environment().world(); }

/// A scratch path unique to this rank and test process, e.g. for files every rank writes.
inline std::string scratch_path(const std::string& stem) {
  return "/tmp/spmdkit-test-" + std::to_string(::getpid()) + "-" + stem;
}

/// A scratch path every rank of `comm` agrees on (rank 0's process id in the name), for files
/// written collectively. Distinct per test process, so concurrent tests never collide.
inline std::string shared_scratch_path(const Comm& comm, const std::string& stem) {
  const long id = comm.broadcast(comm.rank() == 0 ? static_cast<long>(::getpid()) : 0L);
  return "/tmp/spmdkit-test-" + std::to_string(id) + "-" + stem;
}

/// Collective: once every rank is done with the shared scratch file at `path`, rank 0 removes it.
inline void remove_shared(const Comm& comm, const std::string& path) {
  comm.barrier();
  if (comm.rank() == 0) std::remove(path.c_str());
}

}  // namespace spmd::test
