#include "spmdkit/runtime/check.hpp"

#include <hdf5.h>
#include <mpi.h>

#include <algorithm>
#include <boost/mpi/exception.hpp>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace spmd {

MpiError::MpiError(std::string call, int code, int error_class, std::string text)
    : Error(fmt::format("{} failed: {} (MPI error code {}, class {})", call, text, code,
                        error_class)),
      call_(std::move(call)),
      code_(code),
      error_class_(error_class),
      text_(std::move(text)) {}

Hdf5Error::Hdf5Error(std::string call, long long code, std::string text)
    : Error(fmt::format("{} failed: {}", call, text)),
      call_(std::move(call)),
      code_(code),
      text_(std::move(text)) {}

SystemError::SystemError(const std::string& what, int errno_value)
    : Error(fmt::format("{}: {}", what, std::strerror(errno_value))), errno_value_(errno_value) {}

namespace {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    return "unknown MPI error";
  }
  return std::string(text, static_cast<std::size_t>(length));
}

int mpi_error_class(int code) {
  int error_class = MPI_ERR_UNKNOWN;
  MPI_Error_class(code, &error_class);
  return error_class;
}

// Collects the descriptions of HDF5's error stack, innermost (most specific) last.
herr_t collect_h5_message(unsigned /*n*/, const H5E_error2_t* entry, void* client) {
  auto* messages = static_cast<std::vector<std::string>*>(client);
  if (entry->desc != nullptr && entry->desc[0] != '\0') {
    messages->emplace_back(fmt::format("{} ({})", entry->desc, entry->func_name));
  }
  return 0;
}

}  // namespace

void throw_mpi_error(int code, std::string_view call) {
  throw MpiError(std::string(call), code, mpi_error_class(code), mpi_error_text(code));
}

void throw_h5_error(long long code, std::string_view call) {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_h5_message, &messages);
  H5Eclear2(H5E_DEFAULT);
  std::string text;
  // Downward walk: the API-level message first, then the causes. Three levels say what failed;
  // the innermost says why (an MPI-IO error text such as "No space left on device").
  for (std::size_t i = 0; i < messages.size() && i < 3; ++i) {
    if (!text.empty()) text += ": ";
    text += messages[i];
  }
  if (messages.size() > 3) text += ": ... " + messages.back();
  if (text.empty()) text = "no message on the HDF5 error stack";
  std::replace(text.begin(), text.end(), '\n', ' ');
  throw Hdf5Error(std::string(call), code, std::move(text));
}

MpiError to_mpi_error(const boost::mpi::exception& e) {
  return MpiError(e.routine(), e.result_code(), e.error_class(), mpi_error_text(e.result_code()));
}

}  // namespace spmd
