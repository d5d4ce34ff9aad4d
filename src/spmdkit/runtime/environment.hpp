#pragma once
// The MPI environment of an spmdkit process, on top of Boost.MPI.
//
// It initialises MPI with an explicitly requested threading level (and fails if the library
// provides less), and hands out a duplicate of MPI_COMM_WORLD whose error handler is
// MPI_ERRORS_RETURN, so that every MPI failure reaches check_mpi / Boost.MPI as an exception
// instead of aborting somewhere deep inside the library. HDF5's automatic error-stack printing
// is switched off: the checker puts HDF5's messages into the exception instead.
#include <boost/mpi/environment.hpp>
#include <memory>
#include <string_view>

#include "spmdkit/runtime/comm.hpp"

namespace spmd {

enum class Threading { single, funneled, serialized, multiple };

[[nodiscard]] std::string_view to_string(Threading level) noexcept;

class Environment {
 public:
  /// Initialises MPI unless it already is (then the caller keeps owning MPI_Init/Finalize).
  Environment(int& argc, char**& argv, Threading requested = Threading::funneled);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// The application's world: a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN.
  [[nodiscard]] const Comm& world() const noexcept { return world_; }
  /// A second duplicate, private to the runtime (agreeing on how a run ends), so that
  /// runtime traffic can never match an application message.
  [[nodiscard]] const Comm& control() const noexcept { return control_; }
  [[nodiscard]] Threading threading() const noexcept { return provided_; }
  [[nodiscard]] int rank() const noexcept { return world_.rank(); }
  [[nodiscard]] int size() const noexcept { return world_.size(); }
  /// True when this Environment initialised MPI and so finalizes it.
  [[nodiscard]] bool owns_mpi() const noexcept { return mpi_ != nullptr; }

  /// The live Environment of this process, or nullptr.
  [[nodiscard]] static Environment* current() noexcept;

 private:
  std::unique_ptr<boost::mpi::environment> mpi_;  // destroyed last: it finalizes MPI
  Comm world_;
  Comm control_;
  Threading provided_ = Threading::single;
};

/// Duplicates `comm` and sets MPI_ERRORS_RETURN on the duplicate (collective over `comm`).
[[nodiscard]] boost::mpi::communicator duplicate_with_errors_return(MPI_Comm comm);

}  // namespace spmd
