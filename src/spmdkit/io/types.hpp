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
    if constexpr (sizeof(T) == sizeof(float)) return H5T_NATIVE_FLOAT;
    else if constexpr (sizeof(T) == sizeof(double)) return H5T_NATIVE_DOUBLE;
    else return H5T_NATIVE_LDOUBLE;
  } else if constexpr (std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 1) return H5T_NATIVE_INT8;
    else if constexpr (sizeof(T) == 2) return H5T_NATIVE_INT16;
    else if constexpr (sizeof(T) == 4) return H5T_NATIVE_INT32;
    else return H5T_NATIVE_INT64;
  } else {
    if constexpr (sizeof(T) == 1) return H5T_NATIVE_UINT8;
    else if constexpr (sizeof(T) == 2) return H5T_NATIVE_UINT16;
    else if constexpr (sizeof(T) == 4) return H5T_NATIVE_UINT32;
    else return H5T_NATIVE_UINT64;
  }
}

}  // namespace spmd::io
