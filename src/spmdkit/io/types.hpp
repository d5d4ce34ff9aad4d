#pragma once
// C++ element types -> HDF5 native types. Any arithmetic type maps; the returned id is one of
// HDF5's predefined types and must not be closed.
#include <hdf5.h>

#include <complex>
#include <cstdint>
#include <type_traits>

namespace spmd::io {

template <class T>
concept H5Scalar = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

template <H5Scalar T>
[[nodiscard]] inline hid_t h5_type() {
  if constexpr (std::is_floating_point_v<T>) {
    if constexpr (sizeof(T) == sizeof(float))
      return H5T_NATIVE_FLOAT;
    else if constexpr (sizeof(T) == sizeof(double))
      return H5T_NATIVE_DOUBLE;
    else
      return H5T_NATIVE_LDOUBLE;
  } else if constexpr (std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 1)
      return H5T_NATIVE_INT8;
    else if constexpr (sizeof(T) == 2)
      return H5T_NATIVE_INT16;
    else if constexpr (sizeof(T) == 4)
      return H5T_NATIVE_INT32;
    else
      return H5T_NATIVE_INT64;
  } else {
    if constexpr (sizeof(T) == 1)
      return H5T_NATIVE_UINT8;
    else if constexpr (sizeof(T) == 2)
      return H5T_NATIVE_UINT16;
    else if constexpr (sizeof(T) == 4)
      return H5T_NATIVE_UINT32;
    else
      return H5T_NATIVE_UINT64;
  }
}

/// The element types with a C++ equivalent here; `other` for everything else.
enum class ElementKind {
  float32,
  float64,
  int8,
  uint8,
  int16,
  uint16,
  int32,
  uint32,
  int64,
  uint64,
  other
};

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
