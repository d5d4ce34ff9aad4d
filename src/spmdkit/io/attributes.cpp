#include "spmdkit/io/attributes.hpp"

#include "spmdkit/io/handle.hpp"
#include "spmdkit/runtime/check.hpp"

namespace spmd::io {

namespace {

void remove_if_present(hid_t object, const std::string& name) {
  if (check_h5(H5Aexists(object, name.c_str()), "H5Aexists") > 0) {
    check_h5(H5Adelete(object, name.c_str()), "H5Adelete");
  }
}

void write(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type, hid_t space,
           const void* data) {
  remove_if_present(object, name);
  const Handle attribute = owned(
      H5Acreate2(object, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2");
  check_h5(H5Awrite(attribute.get(), memory_type, data), "H5Awrite");
}

}  // namespace

void set_attribute(hid_t object, std::string_view name, std::string_view value) {
  // Fixed-length UTF-8 string, null-terminated: what h5py, h5dump and netCDF readers all accept.
  const Handle type = owned(H5Tcopy(H5T_C_S1), "H5Tcopy");
  const std::string text(value);
  check_h5(H5Tset_size(type.get(), text.size() + 1), "H5Tset_size");
  check_h5(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "H5Tset_strpad");
  check_h5(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  const Handle space = owned(H5Screate(H5S_SCALAR), "H5Screate");
  write(object, std::string(name), type.get(), type.get(), space.get(), text.c_str());
}

void set_attribute_bytes(hid_t object, std::string_view name, hid_t type, std::size_t count,
                         const void* data) {
  const hsize_t extent = count;
  const Handle space = count == 1
                           ? owned(H5Screate(H5S_SCALAR), "H5Screate")
                           : owned(H5Screate_simple(1, &extent, nullptr), "H5Screate_simple");
  write(object, std::string(name), type, type, space.get(), data);
}

bool has_attribute(hid_t object, std::string_view name) {
  return check_h5(H5Aexists(object, std::string(name).c_str()), "H5Aexists") > 0;
}

std::vector<std::string> attribute_names(hid_t object) {
  std::vector<std::string> names;
  // A C callback: no exception may cross it (out of memory ends the iteration as a failure).
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) noexcept -> herr_t {
    try {
      static_cast<std::vector<std::string>*>(data)->emplace_back(name);
      return 0;
    } catch (...) {
      return -1;
    }
  };
  check_h5(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names),
           "H5Aiterate2");
  return names;
}

std::string string_attribute(hid_t object, std::string_view name) {
  const Handle attribute =
      owned(H5Aopen(object, std::string(name).c_str(), H5P_DEFAULT), "H5Aopen");
  const Handle file_type = owned(H5Aget_type(attribute.get()), "H5Aget_type");
  if (H5Tget_class(file_type.get()) != H5T_STRING) {
    throw Error("attribute '" + std::string(name) + "' is not a string");
  }
  if (check_h5(H5Tis_variable_str(file_type.get()), "H5Tis_variable_str") > 0) {
    const Handle memory_type = owned(H5Tcopy(H5T_C_S1), "H5Tcopy");
    check_h5(H5Tset_size(memory_type.get(), H5T_VARIABLE), "H5Tset_size");
    char* text = nullptr;
    check_h5(H5Aread(attribute.get(), memory_type.get(), &text), "H5Aread");
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(file_type.get());
  std::string value(size, '\0');
  check_h5(H5Aread(attribute.get(), file_type.get(), value.data()), "H5Aread");
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

std::size_t attribute_size(hid_t object, std::string_view name) {
  const Handle attribute =
      owned(H5Aopen(object, std::string(name).c_str(), H5P_DEFAULT), "H5Aopen");
  const Handle space = owned(H5Aget_space(attribute.get()), "H5Aget_space");
  return static_cast<std::size_t>(
      check_h5(H5Sget_simple_extent_npoints(space.get()), "H5Sget_simple_extent_npoints"));
}

void get_attribute_bytes(hid_t object, std::string_view name, hid_t type, std::size_t count,
                         void* data) {
  if (attribute_size(object, name) != count) {
    throw Error("attribute '" + std::string(name) + "' has a different number of values");
  }
  const Handle attribute =
      owned(H5Aopen(object, std::string(name).c_str(), H5P_DEFAULT), "H5Aopen");
  check_h5(H5Aread(attribute.get(), type, data), "H5Aread");
}

std::vector<double> numeric_attribute_as_double(hid_t object, std::string_view name) {
  return attribute<double>(object, name);
}

}  // namespace spmd::io
