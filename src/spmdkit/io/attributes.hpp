#pragma once
// Attributes on any HDF5 object (file root "/", a group, a dataset): the self-description of
// results (units, long_name, provenance). Writing is collective in parallel HDF5: every rank calls
// with the same value. Writing an existing attribute replaces it.
#include <hdf5.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spmdkit/io/types.hpp"

namespace spmd::io {

void set_attribute(hid_t object, std::string_view name, std::string_view value);
inline void set_attribute(hid_t object, std::string_view name, const char* value) {
  set_attribute(object, name, std::string_view(value));
}
void set_attribute_bytes(hid_t object, std::string_view name, hid_t type, std::size_t count,
                         const void* data);

template <H5Scalar T>
void set_attribute(hid_t object, std::string_view name, T value) {
  set_attribute_bytes(object, name, h5_type<T>(), 1, &value);
}
template <H5Scalar T>
void set_attribute(hid_t object, std::string_view name, std::span<const T> values) {
  set_attribute_bytes(object, name, h5_type<T>(), values.size(), values.data());
}
template <H5Scalar T>
void set_attribute(hid_t object, std::string_view name, const std::vector<T>& values) {
  set_attribute(object, name, std::span<const T>(values));
}

[[nodiscard]] bool has_attribute(hid_t object, std::string_view name);
/// The names of the attributes of `object`, in name order.
[[nodiscard]] std::vector<std::string> attribute_names(hid_t object);
/// Reads a string attribute (fixed- or variable-length, as h5py or others wrote it).
[[nodiscard]] std::string string_attribute(hid_t object, std::string_view name);
[[nodiscard]] std::vector<double> numeric_attribute_as_double(hid_t object, std::string_view name);
void get_attribute_bytes(hid_t object, std::string_view name, hid_t type, std::size_t count,
                         void* data);
[[nodiscard]] std::size_t attribute_size(hid_t object, std::string_view name);

template <H5Scalar T>
[[nodiscard]] std::vector<T> attribute(hid_t object, std::string_view name) {
  std::vector<T> values(attribute_size(object, name));
  get_attribute_bytes(object, name, h5_type<T>(), values.size(), values.data());
  return values;
}

}  // namespace spmd::io
