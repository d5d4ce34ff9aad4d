#pragma once
// RAII for HDF5 identifiers. One move-only type owns any kind of hid_t (file, group, dataset,
// dataspace, attribute, property list, datatype) and closes it with the matching H5?close.
#include <hdf5.h>

#include <utility>

namespace spmd::io {

class Handle {
 public:
  Handle() noexcept = default;
  /// Takes ownership of `id` (which must be valid: wrap calls in check_h5 first).
  explicit Handle(hid_t id) noexcept : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  [[nodiscard]] hid_t get() const noexcept { return id_; }
  [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  /// Closes now. Errors on close are not thrown (destructors must not throw); close_checked()
  /// is the variant for where a failed close means lost data (files).
  ///
  /// While an exception unwinds, a file is NOT closed: in parallel HDF5 closing a file is
  /// collective, and a rank that failed alone would wait forever for the others instead of
  /// reaching spmd::run, which ends the job. It is left to the end of the process (HDF5 closes
  /// what is left when MPI finalizes, if every rank gets there). Other objects close as usual.
  void reset() noexcept;
  void close_checked();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Wraps the result of an HDF5 call that creates or opens an object: checked, then owned.
[[nodiscard]] Handle owned(hid_t id, const char* call);

}  // namespace spmd::io
