#pragma once
// "Checkpoint now": a batch job is told to stop before its time limit by a signal -- Slurm sends
// the one named in --signal (SIGUSR1 in spmdkit's job scripts) and srun delivers SIGTERM; mpirun
// forwards SIGUSR1 to every rank (but tears the job down on SIGTERM). StopRequest notes such a
// signal; at its next step the app asks all ranks at once (agreed()), writes a checkpoint and
// exits with exit_code::requeue.
#include <mpi.h>

#include <csignal>
#include <initializer_list>
#include <vector>

namespace spmd {

class StopRequest {
 public:
  /// Installs the handlers (only one StopRequest may be live at a time).
  explicit StopRequest(std::initializer_list<int> signals = {SIGUSR1, SIGTERM});
  /// Restores the previous handlers, except that SIGUSR1's default (terminate) becomes "ignore":
  /// a stop request after the work is moot and must not kill a finished run.
  ~StopRequest();
  StopRequest(const StopRequest&) = delete;
  StopRequest& operator=(const StopRequest&) = delete;

  /// Whether a signal arrived on this rank (no communication).
  [[nodiscard]] bool requested_here() const noexcept;
  /// Collective: whether a signal arrived on any rank. Every rank gets the same answer, so all
  /// stop at the same step.
  [[nodiscard]] bool agreed(MPI_Comm comm) const;
  /// The signal that arrived (0 if none).
  [[nodiscard]] int signal() const noexcept;

 private:
  std::vector<std::pair<int, void (*)(int)>> previous_;
};

}  // namespace spmd
