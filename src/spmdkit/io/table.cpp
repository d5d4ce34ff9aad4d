#include "spmdkit/io/table.hpp"

#include <mpi.h>

#include <cstring>

#include <fmt/format.h>

#include "spmdkit/io/attributes.hpp"
#include "spmdkit/runtime/check.hpp"

namespace spmd::io {

namespace {

// `width` characters plus the terminating null (NULLTERM: h5dump and h5py show the text only).
Handle string_type(std::size_t width) {
  Handle type = owned(H5Tcopy(H5T_C_S1), "H5Tcopy");
  check_h5(H5Tset_size(type.get(), width + 1), "H5Tset_size");
  check_h5(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "H5Tset_strpad");
  check_h5(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return type;
}

}  // namespace

TableBatch& TableBatch::column(std::string name, std::span<const std::string> rows,
                               std::size_t width) {
  if (width == 0) throw Error("string column '" + name + "' needs a width of at least 1");
  Column column{std::move(name), H5T_C_S1, width + 1, rows.size(), {}, {}, width};
  column.bytes.resize(rows.size() * (width + 1), std::byte{0});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() > width) {
      throw Error(fmt::format("string column '{}': a value of {} bytes exceeds the width {}",
                              column.name, rows[i].size(), width));
    }
    std::memcpy(column.bytes.data() + i * (width + 1), rows[i].data(), rows[i].size());
  }
  columns_.push_back(std::move(column));
  return *this;
}

Table Table::create(const File& file, std::string path) {
  const Handle lcpl = intermediate_groups_lcpl();
  const Handle group = owned(H5Gcreate2(file.id(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                             "H5Gcreate2");
  return Table(file, std::move(path));
}

hsize_t Table::append(const TableBatch& batch) {
  const MPI_Comm comm = file_->comm();
  const auto& columns = batch.columns();
  // Every rank must bring the same columns with one row count: agree before any collective HDF5
  // call, so that a bad batch is an error on every rank rather than a hang.
  unsigned long long local_rows = columns.empty() ? 0 : columns.front().rows;
  int consistent = 1;
  for (const auto& column : columns) {
    if (column.rows != local_rows) consistent = 0;
  }
  int all_consistent = 0;
  check_mpi(MPI_Allreduce(&consistent, &all_consistent, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  if (all_consistent == 0) {
    throw Error(fmt::format("table '{}': the columns of a batch differ in length", path_));
  }
  unsigned long long column_count = columns.size();
  unsigned long long most = 0;
  unsigned long long fewest = 0;
  check_mpi(MPI_Allreduce(&column_count, &most, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm),
            "MPI_Allreduce");
  check_mpi(MPI_Allreduce(&column_count, &fewest, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm),
            "MPI_Allreduce");
  if (fewest != most) {
    throw Error(fmt::format("table '{}': ranks gave different numbers of columns", path_));
  }

  unsigned long long offset = 0;
  unsigned long long total = 0;
  check_mpi(MPI_Exscan(&local_rows, &offset, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm), "MPI_Exscan");
  int rank = 0;
  check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  if (rank == 0) offset = 0;  // MPI_Exscan leaves rank 0's result undefined
  check_mpi(MPI_Allreduce(&local_rows, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm),
            "MPI_Allreduce");

  for (const auto& column : columns) {
    const std::string path = path_ + "/" + column.name;
    Handle own_type;
    hid_t type = column.type;
    if (column.string_width > 0) {
      own_type = string_type(column.string_width);
      type = own_type.get();
    }
    if (!exists(file_->id(), path)) {
      const hsize_t zero = 0;
      const hsize_t unlimited = H5S_UNLIMITED;
      // Chunks sized after the first batch (a power of two, at least 256 rows, at most 1 MiB):
      // tiny tables stay tiny, big ones get large sequential chunks.
      const hsize_t most = std::max<hsize_t>(1, (hsize_t{1} << 20) / column.element_size);
      hsize_t chunk = 256;
      while (chunk < total && chunk < most) chunk *= 2;
      chunk = std::min(chunk, most);
      const Handle space = owned(H5Screate_simple(1, &zero, &unlimited), "H5Screate_simple");
      const Handle dcpl = owned(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate(dataset create)");
      check_h5(H5Pset_chunk(dcpl.get(), 1, &chunk), "H5Pset_chunk");
      check_h5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
      const Handle dataset = owned(H5Dcreate2(file_->id(), path.c_str(), type, space.get(),
                                              H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                                   "H5Dcreate2");
      if (!column.units.empty()) set_attribute(dataset.get(), "units", column.units);
    }
    const Handle dataset = owned(H5Dopen2(file_->id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
    if (column.string_width > 0) {
      const Handle stored = owned(H5Dget_type(dataset.get()), "H5Dget_type");
      if (H5Tget_size(stored.get()) != column.string_width + 1) {
        throw Error(fmt::format("table '{}': column '{}' is {} bytes wide, the batch {}", path_,
                                column.name, H5Tget_size(stored.get()) - 1, column.string_width));
      }
    }
    const hsize_t new_rows = rows_ + total;
    check_h5(H5Dset_extent(dataset.get(), &new_rows), "H5Dset_extent");
    if (total == 0) continue;
    const Handle file_space = owned(H5Dget_space(dataset.get()), "H5Dget_space");
    const hsize_t mine = local_rows;
    const Handle memory = owned(H5Screate_simple(1, &mine, nullptr), "H5Screate_simple");
    if (mine == 0) {
      check_h5(H5Sselect_none(file_space.get()), "H5Sselect_none");
      check_h5(H5Sselect_none(memory.get()), "H5Sselect_none");
    } else {
      const hsize_t start = rows_ + offset;
      check_h5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &mine, nullptr),
               "H5Sselect_hyperslab");
    }
    const Handle dxpl = collective_transfer();
    write_selection(*file_, dataset.get(), type, memory.get(), file_space.get(), dxpl.get(),
                    column.bytes.data(), fmt::format("appending to '{}'", path));
    inspect_transfer(dxpl.get(), fmt::format("appending to '{}'", path), CollectivePolicy::require);
  }
  rows_ += total;
  return rows_;
}

std::vector<std::string> read_string_column(const File& file, const std::string& path) {
  const Handle dataset = owned(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
  const Handle type = owned(H5Dget_type(dataset.get()), "H5Dget_type");
  const std::size_t width = H5Tget_size(type.get());
  const Extents shape = dataset_shape(file, path);
  std::vector<char> bytes(shape.at(0) * width);
  if (!bytes.empty()) {
    const Handle dxpl = collective_transfer();
    check_h5(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, dxpl.get(), bytes.data()), "H5Dread");
  }
  std::vector<std::string> rows;
  rows.reserve(shape.at(0));
  for (hsize_t i = 0; i < shape.at(0); ++i) {
    const char* start = bytes.data() + i * width;
    rows.emplace_back(start, strnlen(start, width));
  }
  return rows;
}

}  // namespace spmd::io
