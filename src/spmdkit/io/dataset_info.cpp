#include "spmdkit/io/dataset_info.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::io {

namespace {

constexpr std::array<std::pair<ElementKind, const char*>, 10> kinds = {{
    {ElementKind::float64, "float64"}, {ElementKind::float32, "float32"},
    {ElementKind::int8, "int8"},       {ElementKind::uint8, "uint8"},
    {ElementKind::int16, "int16"},     {ElementKind::uint16, "uint16"},
    {ElementKind::int32, "int32"},     {ElementKind::uint32, "uint32"},
    {ElementKind::int64, "int64"},     {ElementKind::uint64, "uint64"},
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

std::string absolute(const std::string& path) { return path.starts_with('/') ? path : "/" + path; }

}  // namespace

hid_t h5_type_of(ElementKind kind) {
  hid_t type = H5I_INVALID_HID;
  if (!with_element_type(kind, [&](auto zero) { type = h5_type<decltype(zero)>(); })) {
    throw Error("h5_type_of: no HDF5 type for an element of another kind");
  }
  return type;
}

DatasetInfo dataset_info(const File& file, const std::string& path) {
  if (!exists(file.id(), path)) throw Error(fmt::format("{}: no dataset '{}'", file.path(), path));
  DatasetInfo info;
  info.path = absolute(path);
  const Handle dataset = owned(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
  const Handle type = owned(H5Dget_type(dataset.get()), "H5Dget_type");
  const H5T_class_t type_class = H5Tget_class(type.get());
  info.type_name = class_name(type_class);
  if (type_class == H5T_INTEGER || type_class == H5T_FLOAT) {
    const Handle native = owned(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), "H5Tget_native_type");
    for (const auto& [kind, name] : kinds) {
      if (check_h5(H5Tequal(native.get(), h5_type_of(kind)), "H5Tequal") > 0) {
        info.element = kind;
        info.type_name = name;
        break;
      }
    }
  }
  const Handle space = owned(H5Dget_space(dataset.get()), "H5Dget_space");
  const int dims = check_h5(H5Sget_simple_extent_ndims(space.get()), "H5Sget_simple_extent_ndims");
  info.shape.resize(static_cast<std::size_t>(dims));
  check_h5(H5Sget_simple_extent_dims(space.get(), info.shape.data(), nullptr),
           "H5Sget_simple_extent_dims");
  return info;
}

std::vector<DatasetInfo> list_datasets(const File& file, const std::string& group, bool recursive) {
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
  const Handle location = owned(H5Oopen(file.id(), group.c_str(), H5P_DEFAULT), "H5Oopen");
  check_h5(H5Ovisit2(location.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &found, H5O_INFO_BASIC),
           "H5Ovisit2");
  std::string prefix = absolute(group);
  if (!prefix.ends_with('/')) prefix += '/';
  std::vector<DatasetInfo> datasets;
  for (const std::string& name : found.names) datasets.push_back(dataset_info(file, prefix + name));
  return datasets;
}

Handle create_group(const File& file, const std::string& path) {
  const Handle lcpl = intermediate_groups_lcpl();
  return owned(H5Gcreate2(file.id(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
               "H5Gcreate2");
}

}  // namespace spmd::io
