#include "spmdkit/runtime/stop_request.hpp"

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd {

namespace {

volatile std::sig_atomic_t received_signal = 0;
bool installed = false;

extern "C" void note_signal(int number) { received_signal = number; }

}  // namespace

StopRequest::StopRequest(std::initializer_list<int> signals) {
  if (installed) throw Error("only one StopRequest may be live at a time");
  received_signal = 0;
  for (int number : signals) previous_.emplace_back(number, std::signal(number, note_signal));
  installed = true;
}

StopRequest::~StopRequest() {
  for (auto [number, handler] : previous_) {
    // A "checkpoint now" that comes after the work (Slurm's --signal can land while the run
    // writes its last output or finalizes) has nothing left to stop; by default SIGUSR1 would
    // kill the finished run and fail the job. SIGTERM keeps its default: it must still end a job.
    if (number == SIGUSR1 && handler == SIG_DFL) handler = SIG_IGN;
    std::signal(number, handler);
  }
  installed = false;
}

bool StopRequest::requested_here() const noexcept { return received_signal != 0; }

int StopRequest::signal() const noexcept { return received_signal; }

bool StopRequest::agreed(MPI_Comm comm) const {
  int mine = requested_here() ? 1 : 0;
  int any = 0;
  check_mpi(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce");
  return any != 0;
}

}  // namespace spmd
