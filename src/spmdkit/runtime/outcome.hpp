#pragma once
// How a run ends: every rank brings its local outcome and the ranks agree on one.
//
// This is what keeps an SPMD job from hanging on an error. A rank that failed waits only a short
// grace period for the others: if they all arrive (they failed too, or they finished), the job
// ends cleanly with one agreed exit code and one message from the lowest failing rank. If some
// rank does not arrive (it is blocked in a collective, waiting for the failed one), the failed
// rank gives up and aborts the whole job.
#include <mpi.h>

#include <chrono>
#include <optional>

namespace spmd {

struct LocalOutcome {
  int exit_code = 0;
  bool failed = false;  ///< this rank has an error to report
};

struct AgreedOutcome {
  int exit_code = 0;          ///< the largest exit code of any rank
  int first_failed_rank = -1; ///< lowest rank that failed, or -1 when none did
};

/// Collective over `comm`. With a `patience`, returns nullopt when not every rank arrived in time;
/// without one, waits as long as it takes (a rank that finished normally has nothing better to do:
/// either the others arrive, or a failed one aborts the job).
[[nodiscard]] std::optional<AgreedOutcome> agree_outcome(
    MPI_Comm comm, LocalOutcome local,
    std::optional<std::chrono::milliseconds> patience = std::nullopt);

/// Grace a failed rank gives the others: SPMD_FAILURE_GRACE_MS, default 1500 ms.
[[nodiscard]] std::chrono::milliseconds failure_grace();

}  // namespace spmd
