#pragma once
// The one checker for MPI and HDF5 return codes: every raw MPI or HDF5 call in spmdkit goes
// through check_mpi / check_h5, which turn a failing code into a typed exception.
//
//   check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
//   hid_t file = check_h5(H5Fopen(path, H5F_ACC_RDONLY, fapl), "H5Fopen");
#include <string_view>
#include <type_traits>

#include "spmdkit/runtime/error.hpp"

namespace boost::mpi {
class exception;
}

namespace spmd {

[[noreturn]] void throw_mpi_error(int code, std::string_view call);
[[noreturn]] void throw_h5_error(long long code, std::string_view call);

/// Throws MpiError unless `code` is MPI_SUCCESS (0 in every MPI implementation).
inline void check_mpi(int code, std::string_view call) {
  if (code != 0) [[unlikely]] {
    throw_mpi_error(code, call);
  }
}

/// HDF5 signals failure with a negative herr_t / hid_t / htri_t / hssize_t. Returns the value so
/// that handle-creating calls can be wrapped inline.
template <class T>
requires std::is_integral_v<T>
inline T check_h5(T code, std::string_view call) {
  if (code < 0) [[unlikely]] {
    throw_h5_error(static_cast<long long>(code), call);
  }
  return code;
}

/// Boost.MPI reports failures as boost::mpi::exception; this folds one into spmd::MpiError.
[[nodiscard]] MpiError to_mpi_error(const boost::mpi::exception& e);

}  // namespace spmd
