#include "spmdkit/io/handle.hpp"

#include <exception>

#include "spmdkit/runtime/check.hpp"

namespace spmd::io {

namespace {

herr_t close_by_type(hid_t id) {
  switch (H5Iget_type(id)) {
    case H5I_FILE: return H5Fclose(id);
    case H5I_GROUP: return H5Gclose(id);
    case H5I_DATASET: return H5Dclose(id);
    case H5I_DATASPACE: return H5Sclose(id);
    case H5I_ATTR: return H5Aclose(id);
    case H5I_GENPROP_LST: return H5Pclose(id);
    case H5I_DATATYPE: return H5Tclose(id);
    default: return H5Idec_ref(id) < 0 ? -1 : 0;
  }
}

// H5Fclose synchronises all ranks of the file's communicator (MPI_File_close); closing other
// objects only drops a reference.
bool closing_is_collective(hid_t id) { return H5Iget_type(id) == H5I_FILE; }

}  // namespace

void Handle::reset() noexcept {
  if (id_ >= 0) {
    if (std::uncaught_exceptions() == 0 || !closing_is_collective(id_)) close_by_type(id_);
    id_ = H5I_INVALID_HID;
  }
}

void Handle::close_checked() {
  if (id_ >= 0) {
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    check_h5(close_by_type(id), "H5close (handle)");
  }
}

Handle owned(hid_t id, const char* call) { return Handle(check_h5(id, call)); }

}  // namespace spmd::io
