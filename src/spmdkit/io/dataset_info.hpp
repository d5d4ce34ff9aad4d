#pragma once
// What a file holds: its datasets with shape and element type, found without raw HDF5 calls in
// the apps, and typed dispatch on a dataset's element type (read a dataset of any numeric type
// as its own C++ type, so that the transfer stays collective and converts in memory).
#include <cstdint>
#include <string>
#include <vector>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/io/handle.hpp"

namespace spmd::io {

/// The element types with a C++ equivalent here; `other` for everything else.
enum class ElementKind { float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64, other };

struct DatasetInfo {
  std::string path;        ///< absolute ("/fields/T")
  Extents shape;           ///< empty for a scalar
  ElementKind element = ElementKind::other;
  /// "float64", "int32", ...; otherwise the type's class ("string", "compound", "enum", ...),
  /// or "numeric" for a number type with no C++ equivalent here.
  std::string type_name;
  [[nodiscard]] bool numeric() const noexcept { return element != ElementKind::other; }
};

/// Dataset `path` of `file` (an Error if there is none).
[[nodiscard]] DatasetInfo dataset_info(const File& file, const std::string& path);

/// Every dataset under `group` (its subgroups too when `recursive`), in name order. The same
/// answer on every rank.
[[nodiscard]] std::vector<DatasetInfo> list_datasets(const File& file, const std::string& group = "/",
                                                     bool recursive = true);

/// Collective: creates group `path` (and missing parents); the handle sets its attributes.
[[nodiscard]] Handle create_group(const File& file, const std::string& path);

/// The predefined HDF5 type of a kind (not `other`).
[[nodiscard]] hid_t h5_type_of(ElementKind kind);

/// Calls fn(T{}) with the C++ type of `kind`; false (fn not called) for `other`.
template <class Fn>
bool with_element_type(ElementKind kind, Fn&& fn) {
  switch (kind) {
    case ElementKind::float32: fn(float{}); return true;
    case ElementKind::float64: fn(double{}); return true;
    case ElementKind::int8: fn(std::int8_t{}); return true;
    case ElementKind::uint8: fn(std::uint8_t{}); return true;
    case ElementKind::int16: fn(std::int16_t{}); return true;
    case ElementKind::uint16: fn(std::uint16_t{}); return true;
    case ElementKind::int32: fn(std::int32_t{}); return true;
    case ElementKind::uint32: fn(std::uint32_t{}); return true;
    case ElementKind::int64: fn(std::int64_t{}); return true;
    case ElementKind::uint64: fn(std::uint64_t{}); return true;
    case ElementKind::other: return false;
  }
  return false;
}

}  // namespace spmd::io
