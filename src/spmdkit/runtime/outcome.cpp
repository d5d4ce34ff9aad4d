#include "spmdkit/runtime/outcome.hpp"

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "spmdkit/runtime/check.hpp"

namespace spmd {

std::optional<AgreedOutcome> agree_outcome(MPI_Comm comm, LocalOutcome local,
                                           std::optional<std::chrono::milliseconds> patience) {
  int rank = 0;
  int size = 0;
  check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  // One MIN reduction answers both questions: the lowest failed rank, and (negated) the
  // largest exit code. Raw MPI: Boost.MPI has no non-blocking collectives, and a deadline
  // needs one.
  // On the heap: if we give up waiting, the request stays pending and a late completion still
  // writes into these buffers, so they are then kept for the life of the process (the job is
  // about to end), reachable so that a leak checker does not report them.
  struct Buffers {
    std::array<int, 2> mine;
    std::array<int, 2> agreed;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  auto buffers = std::make_unique<Buffers>();
  buffers->mine = {local.failed ? rank : size, -local.exit_code};
  check_mpi(MPI_Iallreduce(buffers->mine.data(), buffers->agreed.data(), 2, MPI_INT, MPI_MIN, comm,
                           &buffers->request),
            "MPI_Iallreduce");
  if (!patience) {
    check_mpi(MPI_Wait(&buffers->request, MPI_STATUS_IGNORE), "MPI_Wait");
  } else {
    const auto deadline = std::chrono::steady_clock::now() + *patience;
    int done = 0;
    while (true) {
      check_mpi(MPI_Test(&buffers->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done != 0) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        static std::vector<std::unique_ptr<Buffers>> abandoned;  // still in use by the requests
        abandoned.push_back(std::move(buffers));
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  const auto& agreed = buffers->agreed;
  return AgreedOutcome{-agreed[1], agreed[0] < size ? agreed[0] : -1};
}

std::chrono::milliseconds failure_grace() {
  if (const char* text = std::getenv("SPMD_FAILURE_GRACE_MS"); text != nullptr) {
    try {
      const long value = std::stol(text);
      if (value >= 0) return std::chrono::milliseconds(value);
    } catch (const std::exception&) {
      // fall through to the default: a bad value here must not itself break error handling
    }
  }
  return std::chrono::milliseconds(1500);
}

}  // namespace spmd
