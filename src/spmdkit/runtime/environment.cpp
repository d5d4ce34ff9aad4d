#include "spmdkit/runtime/environment.hpp"

#include <hdf5.h>
#include <mpi.h>
#include <stdlib.h>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"

namespace spmd {

namespace {

Environment* current_environment = nullptr;

boost::mpi::threading::level to_boost(Threading level) {
  switch (level) {
    case Threading::single: return boost::mpi::threading::single;
    case Threading::funneled: return boost::mpi::threading::funneled;
    case Threading::serialized: return boost::mpi::threading::serialized;
    case Threading::multiple: return boost::mpi::threading::multiple;
  }
  return boost::mpi::threading::single;
}

Threading from_mpi(int level) {
  if (level >= MPI_THREAD_MULTIPLE) return Threading::multiple;
  if (level >= MPI_THREAD_SERIALIZED) return Threading::serialized;
  if (level >= MPI_THREAD_FUNNELED) return Threading::funneled;
  return Threading::single;
}

// Open MPI 4's own MPI-IO layer (OMPIO) loses write errors: a collective write that hits a full
// disk or a quota returns success on every rank (seen with 4.1.4 at 2-4 ranks), and HDF5 then
// writes a file with holes. Its ROMIO layer reports them. So spmdkit asks for ROMIO unless the
// user chose a layer (OMPI_MCA_io, SPMD_OMPI_IO in the job scripts); a file written under OMPIO
// is still checked before it is published (io/storage_check.hpp), with the limits said there.
// Must happen before MPI_Init, which reads the MCA variables of this process.
void prefer_io_layer_that_reports_errors() {
#if defined(OMPI_MAJOR_VERSION) && OMPI_MAJOR_VERSION == 4
  ::setenv("OMPI_MCA_io", "romio321", 0);  // 0: a choice already made wins
#endif
}

}  // namespace

std::string_view to_string(Threading level) noexcept {
  switch (level) {
    case Threading::single: return "single";
    case Threading::funneled: return "funneled";
    case Threading::serialized: return "serialized";
    case Threading::multiple: return "multiple";
  }
  return "unknown";
}

boost::mpi::communicator duplicate_with_errors_return(MPI_Comm comm) {
  MPI_Comm dup = MPI_COMM_NULL;
  check_mpi(MPI_Comm_dup(comm, &dup), "MPI_Comm_dup");
  // comm_take_ownership: Boost.MPI frees the duplicate when the last copy goes away.
  boost::mpi::communicator owned(dup, boost::mpi::comm_take_ownership);
  check_mpi(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  return owned;
}

Environment::Environment(int& argc, char**& argv, Threading requested) {
  int already = 0;
  MPI_Initialized(&already);
  if (already == 0) {
    prefer_io_layer_that_reports_errors();
    // abort_on_exception = false: spmd::run decides how a failure ends the job.
    mpi_ = std::make_unique<boost::mpi::environment>(argc, argv, to_boost(requested), false);
  }
  // Errors on the world itself (e.g. in MPI_Comm_dup below) must come back as codes, too.
  check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  int provided = MPI_THREAD_SINGLE;
  check_mpi(MPI_Query_thread(&provided), "MPI_Query_thread");
  provided_ = from_mpi(provided);
  if (provided_ < requested) {
    throw Error(fmt::format("the MPI library provides thread level '{}' but '{}' was requested",
                            to_string(provided_), to_string(requested)));
  }
  world_ = Comm::attach(MPI_COMM_WORLD).duplicate();
  control_ = Comm::attach(MPI_COMM_WORLD).duplicate();
  check_h5(H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), "H5Eset_auto2");
  current_environment = this;
}

Environment::~Environment() {
  if (current_environment == this) current_environment = nullptr;
  // Members go in reverse order: the communicators are freed before mpi_ finalizes MPI.
}

Environment* Environment::current() noexcept { return current_environment; }

}  // namespace spmd
