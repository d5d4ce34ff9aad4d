#pragma once
// How a run ends: every rank brings its vote (failed or not, and its exit code) and the ranks
// agree on one ending (Comm::agree_on_failure).
//
// This is what keeps an SPMD job from hanging on an error. A rank that failed waits only a short
// grace period for the others: if they all arrive (they failed too, or they finished), the job
// ends cleanly with one agreed exit code and one message from the lowest failing rank. If some
// rank does not arrive (it is blocked in a collective, waiting for the failed one), the failed
// rank gives up and aborts the whole job.
#include <chrono>

#include "spmdkit/runtime/comm.hpp"

namespace spmd {

/// Grace a failed rank gives the others: SPMD_FAILURE_GRACE_MS, default 1500 ms.
[[nodiscard]] std::chrono::milliseconds failure_grace();

}  // namespace spmd
