#pragma once
// XDMF sidecar for a uniform 2-D/3-D grid time series, so that ParaView and VisIt open an HDF5
// result directly: a Temporal collection of CoRectMesh grids whose attributes point into the
// HDF5 file (one hyperslab of each (time, [z,] y, x) dataset per step).
#include <string>
#include <vector>

namespace spmd::io {

struct XdmfGrid {
  std::vector<unsigned long long>
      shape;                    ///< points per axis, slowest first: {ny, nx} or {nz, ny, nx}
  std::vector<double> origin;   ///< same order
  std::vector<double> spacing;  ///< same order
};

struct XdmfField {
  std::string name;     ///< as ParaView shows it
  std::string dataset;  ///< path in the HDF5 file, shape (time, shape...)
  int precision = 8;    ///< bytes per value: 1, 2, 4 or 8
  bool integer = false;
  bool is_unsigned = false;  ///< of an integer
};

/// Writes `xmf_path` (atomically: tmp + rename) for `h5_file_name` (relative to the .xmf, usually
/// just the file name). Not collective: call it on one rank.
void write_xdmf(const std::string& xmf_path, const std::string& h5_file_name, const XdmfGrid& grid,
                const std::vector<double>& times, const std::vector<XdmfField>& fields);

}  // namespace spmd::io
