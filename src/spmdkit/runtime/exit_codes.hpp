#pragma once
// Exit codes of every spmdkit app, documented in docs/guidelines.md. Scripts and Slurm job
// scripts branch on them, so they never change meaning.
namespace spmd::exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;       ///< an error: failed I/O, a bug, an MPI failure
inline constexpr int usage = 2;         ///< bad command line, config file or option value
inline constexpr int tasks_failed = 3;  ///< completed, but some tasks or inputs failed for good
inline constexpr int requeue = 75;  ///< checkpointed on request; run again to resume (EX_TEMPFAIL)
}  // namespace spmd::exit_code
