#include "spmdkit/runtime/app.hpp"

#include <mpi.h>

#include <algorithm>
#include <boost/mpi/exception.hpp>
#include <cstdio>
#include <exception>
#include <optional>
#include <thread>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/cli.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/exit_codes.hpp"
#include "spmdkit/runtime/failure_agreement.hpp"
#include "spmdkit/runtime/run_report.hpp"
#include "spmdkit/runtime/text.hpp"

namespace spmd {

App::App(const Environment& env, AppInfo info, int argc, const char* const* argv)
    : env_(env),
      info_(std::move(info)),
      argc_(argc),
      argv_(argv),
      command_line_(info_.name, info_.description, info_.default_output, info_.program_name(),
                    info_.version),
      start_(std::chrono::steady_clock::now()) {}

double App::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

Progress App::progress(std::string label, std::uint64_t total) const {
  return Progress(program(), std::move(label), total,
                  is_root() && options().progress && !options().quiet);
}

void App::parse() {
  if (command_line_.parsed()) return;
  command_line_.parse(argc_, argv_, is_root());
  run_report::request_io(options().io_report);
  // Collective, and only after a successful parse: every rank got here alike.
  provenance_ = Provenance::collect(comm(), info_.name, argc_, argv_, env_.threading());
  provenance_.config_toml = command_line_.config_toml();
  provenance_.program = info_.program_name();
  provenance_.app_version = info_.version.empty() ? provenance_.version : info_.version;
}

namespace {

// What one rank knows about how its part of the run ended.
struct RankEnding {
  int exit_code = exit_code::ok;
  std::optional<std::string> error;  // set when this rank failed
};

RankEnding run_body(App& app, const DeclareOptions& declare, const RunBody& body) {
  try {
    declare(app.cli());
    app.parse();
    return {body(app), std::nullopt};
  } catch (const ExitRequest& request) {
    return {request.exit_code, std::nullopt};
  } catch (const UsageError& e) {
    return {exit_code::usage, e.what()};
  } catch (const boost::mpi::exception& e) {
    return {exit_code::failure, to_mpi_error(e).what()};
  } catch (const std::exception& e) {
    return {exit_code::failure, e.what()};
  } catch (...) {
    return {exit_code::failure, "unknown exception (not derived from std::exception)"};
  }
}

void print_error(const std::string& program, const std::string& what, int rank) {
  // One write of one line, so lines from different processes never interleave mid-line; a
  // message with line breaks (HDF5's have some) is folded onto that line, and bytes from the
  // input (a path, a URL, a line of a file) can neither drive the terminal nor flood the log.
  const std::string line =
      fmt::format("{}: error: {} (rank {})\n", printable(program), printable(what), rank);
  std::fflush(stdout);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

[[noreturn]] void abort_job(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code != 0 ? exit_code : exit_code::failure);
  std::_Exit(exit_code::failure);  // not reached: MPI_Abort does not return
}

// A failed run ends here, on every rank alike, without MPI_Finalize. Finalizing would let HDF5
// close the files still open (its clean-up runs inside MPI_Finalize), and closing a parallel file
// is collective: after a failure the ranks hold those files in different states (one was in the
// middle of a write, the others had flushed), so the closes do not match and the job hangs or
// crashes (seen: rank 0 in MPI_File_set_view, the others in MPI_Barrier, forever). Nothing
// written under a final name depends on it: AtomicFile publishes only after a clean close.
// mpirun and srun report the exit code exactly as after a finalized non-zero exit.
void wait_for_everyone(MPI_Comm comm, std::chrono::milliseconds patience) {
  MPI_Request request = MPI_REQUEST_NULL;
  if (MPI_Ibarrier(comm, &request) != MPI_SUCCESS) return;
  const auto deadline = std::chrono::steady_clock::now() + patience;
  int done = 0;
  while (MPI_Test(&request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && done == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

[[noreturn]] void end_without_finalize(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(exit_code);
}

// After its grace period, a rank that gives up tells every higher rank, then looks for word
// from the lower ones. Of ranks that give up together, only the lowest hears nothing, and it
// reports; a lower rank that gives up later than that is ended by the first abort before its own
// grace is over. Only ranks that give up send anything, so a normal run costs nothing.
bool lower_rank_gave_up(const Comm& control) {
  constexpr int gave_up_tag = 2;  // tag 1 carries the error text in the agreed case
  const int rank = control.rank();
  for (int higher = rank + 1; higher < control.size(); ++higher) {
    MPI_Request request = MPI_REQUEST_NULL;
    if (MPI_Isend(nullptr, 0, MPI_BYTE, higher, gave_up_tag, control, &request) == MPI_SUCCESS) {
      MPI_Request_free(&request);  // an empty eager message: nothing to wait for
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < deadline) {
    for (int lower = 0; lower < rank; ++lower) {
      int arrived = 0;
      if (MPI_Iprobe(lower, gave_up_tag, control, &arrived, MPI_STATUS_IGNORE) == MPI_SUCCESS &&
          arrived != 0) {
        return true;
      }
    }
    if (rank == 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

int world_rank_or_zero() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int rank = 0;
  if (initialized != 0) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace

int run(int argc, char** argv, AppInfo info, DeclareOptions declare, RunBody body) {
  const std::string program = info.program_name();
  std::optional<Environment> env;
  try {
    env.emplace(argc, argv, info.threading);
  } catch (const std::exception& e) {
    // No agreement is possible without a working environment: report and end the job.
    print_error(program, e.what(), world_rank_or_zero());
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized != 0) abort_job(exit_code::failure);
    return exit_code::failure;
  }

  App app(*env, std::move(info), argc, argv);
  RankEnding ending = run_body(app, declare, body);
  const bool failed = ending.error.has_value();
  if (failed && ending.exit_code == exit_code::ok) ending.exit_code = exit_code::failure;

  // Every rank, failed or not, agrees on how the run ends over the runtime's private communicator.
  // A failed rank, or one ending with a non-zero code, waits only a short grace period (see
  // failure_agreement.hpp): if the others are blocked waiting for it, nobody else can end the job.
  const Comm& control = env->control();
  const bool impatient = failed || ending.exit_code != exit_code::ok;
  std::optional<FailureAgreement> agreed;
  try {
    agreed = control.agree_on_failure({ending.exit_code, failed},
                                      impatient ? std::optional(failure_grace()) : std::nullopt);
  } catch (const std::exception& e) {
    print_error(program, failed ? *ending.error : std::string(e.what()), env->rank());
    abort_job(ending.exit_code);
  }
  if (!agreed) {
    // Some rank is still busy or blocked waiting for us: nobody else will report, so we do --
    // unless a lower rank gave up too (several ranks can fail while the rest wait): then the
    // lowest one reports, as in the agreed case, and the job still has one error line.
    if (!lower_rank_gave_up(env->control())) {
      print_error(program,
                  failed
                      ? *ending.error
                      : fmt::format("ended with exit code {} while other ranks were still running",
                                    ending.exit_code),
                  env->rank());
    }
    abort_job(ending.exit_code);
  }

  const int rank = env->rank();
  std::string error_text;
  if (agreed->first_failed_rank >= 0) {
    constexpr int error_tag = 1;
    if (rank == agreed->first_failed_rank) print_error(program, *ending.error, rank);
    // The --json summary on rank 0 carries the message too. Every rank knows whether the
    // command line was parsed (parsing is deterministic), so sender and receiver agree.
    try {
      if (rank == agreed->first_failed_rank && rank != 0 && app.parsed()) {
        env->control().send_bytes(0, error_tag, *ending.error);
      }
      if (rank == 0 && app.parsed()) {
        if (agreed->first_failed_rank == 0) {
          error_text = *ending.error;
        } else {
          error_text = env->control().receive(agreed->first_failed_rank, error_tag).bytes;
        }
      }
    } catch (const std::exception&) {
      error_text = "(message not available)";
    }
  }

  if (rank == 0 && app.parsed() && app.options().io_report) {
    // Rank 0's own log (the totals were agreed at each transfer): no collective here, so it is
    // printed after a failure too -- what was written before it.
    run_report::Section io;
    try {
      io = run_report::io_section().value_or(run_report::Section{
          "I/O report: no parallel HDF5 transfers\n", nlohmann::ordered_json::array()});
    } catch (const std::exception& e) {
      io = {fmt::format("I/O report: not available ({})\n", e.what()), nullptr};
    }
    if (app.options().json) {
      app.summary().set_json_value("io", io.json);
    } else if (!app.options().quiet) {
      std::fputs(io.text.c_str(), stdout);
    }
  }
  if (rank == 0 && app.parsed() && app.options().json) {
    Summary head;
    head.set("app", app.name());
    head.set("status", agreed->first_failed_rank >= 0 ? "error" : "ok");
    head.set("exit_code", agreed->exit_code);
    head.set("ranks", app.size());
    head.set("elapsed_s", app.elapsed_seconds());
    if (agreed->first_failed_rank >= 0) {
      head.set("error", error_text);
      head.set("error_rank", agreed->first_failed_rank);
    }
    std::string line = head.to_json();
    const std::string body_json = app.summary().to_json();
    if (body_json.size() > 2) line = line.substr(0, line.size() - 1) + "," + body_json.substr(1);
    std::fputs((line + "\n").c_str(), stdout);
  }
  std::fflush(stdout);
  if (agreed->first_failed_rank >= 0 && env->owns_mpi()) {
    // Everyone has agreed, so everyone is here: wait until every rank has written what it
    // writes (the error line, the JSON summary), because the launcher kills the others as soon
    // as one process exits with a non-zero code. Bounded anyway: this path must never hang.
    wait_for_everyone(control, failure_grace());
    end_without_finalize(agreed->exit_code);
  }
  return agreed->exit_code;
}

}  // namespace spmd
