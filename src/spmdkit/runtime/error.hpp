#pragma once
// Typed exceptions of spmdkit. Everything the library throws derives from spmd::Error, so an app
// (or spmd::run) can catch one type; the subtypes carry what a user needs to act on the failure.
#include <stdexcept>
#include <string>

namespace spmd {

/// Base of all spmdkit errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input from the user: command line, config file, option values. Reported once, exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// A failed MPI call: the return code, its error class and MPI's own text.
class MpiError : public Error {
 public:
  MpiError(std::string call, int code, int error_class, std::string text);
  [[nodiscard]] const std::string& call() const noexcept { return call_; }
  [[nodiscard]] int code() const noexcept { return code_; }
  [[nodiscard]] int error_class() const noexcept { return error_class_; }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  std::string call_;
  int code_;
  int error_class_;
  std::string text_;
};

/// A failed HDF5 call: the return code and the innermost messages of HDF5's error stack.
class Hdf5Error : public Error {
 public:
  Hdf5Error(std::string call, long long code, std::string text);
  [[nodiscard]] const std::string& call() const noexcept { return call_; }
  [[nodiscard]] long long code() const noexcept { return code_; }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  std::string call_;
  long long code_;
  std::string text_;
};

/// A failed operating-system call (errno).
class SystemError : public Error {
 public:
  SystemError(const std::string& what, int errno_value);
  [[nodiscard]] int errno_value() const noexcept { return errno_value_; }

 private:
  int errno_value_;
};

}  // namespace spmd
