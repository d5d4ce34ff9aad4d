// What datasets a file holds: Dataset::info and Location::datasets.
#include "spmdkit/io/file.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::io {

namespace {

constexpr std::array<std::pair<ElementKind, const char*>, 10> kinds = {{
    {ElementKind::float64, "float64"},
    {ElementKind::float32, "float32"},
    {ElementKind::int8, "int8"},
    {ElementKind::uint8, "uint8"},
    {ElementKind::int16, "int16"},
    {ElementKind::uint16, "uint16"},
    {ElementKind::int32, "int32"},
    {ElementKind::uint32, "uint32"},
    {ElementKind::int64, "int64"},
    {ElementKind::uint64, "uint64"},
}};

std::string class_name(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER:
    case H5T_FLOAT: return "numeric";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "non-numeric";
  }
}

}  // namespace

hid_t h5_type_of(ElementKind kind) {
  hid_t type = H5I_INVALID_HID;
  if (!with_element_type(kind, [&](auto zero) { type = h5_type<decltype(zero)>(); })) {
    throw Error("h5_type_of: no HDF5 type for an element of another kind");
  }
  return type;
}

DatasetInfo Dataset::info() const {
  DatasetInfo info;
  info.path = path_;
  const Handle type = owned(H5Dget_type(id()), "H5Dget_type");
  const H5T_class_t type_class = H5Tget_class(type.get());
  info.type_name = class_name(type_class);
  if (type_class == H5T_INTEGER || type_class == H5T_FLOAT) {
    const Handle native =
        owned(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), "H5Tget_native_type");
    for (const auto& [kind, name] : kinds) {
      if (check_h5(H5Tequal(native.get(), h5_type_of(kind)), "H5Tequal") > 0) {
        info.element = kind;
        info.type_name = name;
        break;
      }
    }
  }
  info.shape = shape();
  return info;
}

std::vector<DatasetInfo> Location::datasets(const std::string& path, bool recursive) const {
  struct Found {
    std::vector<std::string> names;
    bool recursive;
  } found{{}, recursive};
  // A C callback: no exception may cross it; it only collects names.
  auto visit = [](hid_t, const char* name, const H5O_info_t* info, void* data) -> herr_t {
    auto* into = static_cast<Found*>(data);
    const std::string_view relative(name);
    if (info->type == H5O_TYPE_DATASET &&
        (into->recursive || relative.find('/') == std::string_view::npos)) {
      into->names.emplace_back(relative);
    }
    return 0;
  };
  const Handle location = owned(H5Oopen(id(), path.c_str(), H5P_DEFAULT), "H5Oopen");
  check_h5(H5Ovisit2(location.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &found, H5O_INFO_BASIC),
           "H5Ovisit2");
  std::string prefix = path == "." ? "" : path;
  if (!prefix.empty() && !prefix.ends_with('/')) prefix += '/';
  std::vector<DatasetInfo> datasets;
  for (const std::string& name : found.names) datasets.push_back(dataset(prefix + name).info());
  return datasets;
}

}  // namespace spmd::io
