#include "spmdkit/io/table.hpp"

#include <algorithm>
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

// Collective: this rank's `count` rows at `start` (none: an empty selection, still collective).
void write_rows(const File& file, hid_t dataset, hid_t type, hsize_t start, hsize_t count,
                const void* data, const std::string& what) {
  const Handle file_space = owned(H5Dget_space(dataset), "H5Dget_space");
  const Handle memory = owned(H5Screate_simple(1, &count, nullptr), "H5Screate_simple");
  if (count == 0) {
    check_h5(H5Sselect_none(file_space.get()), "H5Sselect_none");
    check_h5(H5Sselect_none(memory.get()), "H5Sselect_none");
  } else {
    check_h5(
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
        "H5Sselect_hyperslab");
  }
  write_selection(file.comm(), dataset, type, memory.get(), file_space.get(), data, what,
                  CollectivePolicy::require);
}

}  // namespace

TableBatch& TableBatch::column(std::string name, std::span<const std::string> rows,
                               std::size_t width) {
  if (width != longest_value) {
    for (const std::string& row : rows) {
      if (row.size() > width) {
        throw Error(fmt::format("string column '{}': a value of {} bytes exceeds the width {}",
                                name, row.size(), width));
      }
    }
  }
  Column column{std::move(name), H5T_C_S1, 0, rows.size(), {}, {}, true, width, {}};
  column.strings.assign(rows.begin(), rows.end());
  columns_.push_back(std::move(column));
  return *this;
}

Table Table::create(const File& file, std::string path) {
  static_cast<void>(file.create_group(path));
  return Table(file, std::move(path));
}

Table Table::open(const File& file, std::string path) {
  if (!file.exists(path)) throw Error(fmt::format("{}: there is no table '{}'", file.path(), path));
  Table table(file, std::move(path));
  const auto columns = file.group(table.path_).datasets(".", /*recursive=*/false);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const hsize_t rows = columns[i].shape.size() == 1 ? columns[i].shape[0] : ~hsize_t{0};
    if (rows == ~hsize_t{0} || (i > 0 && rows != table.rows_)) {
      throw Error(fmt::format("{}: '{}' is not a table (its columns differ in shape)", file.path(),
                              table.path_));
    }
    table.rows_ = rows;
  }
  return table;
}

std::vector<std::string> Table::column_names() const {
  std::vector<std::string> names;
  for (const auto& column : file_.group(path_).datasets(".", /*recursive=*/false)) {
    names.push_back(column.path.substr(column.path.rfind('/') + 1));
  }
  return names;
}

bool Table::has_column(const std::string& name) const { return file_.exists(path_ + "/" + name); }

hsize_t Table::append(const TableBatch& batch) {
  const Comm& comm = file_.comm();
  const auto& columns = batch.columns();
  // Every rank must bring the same columns with one row count: agree before any collective HDF5
  // call, so that a bad batch is an error on every rank rather than a hang.
  unsigned long long local_rows = columns.empty() ? 0 : columns.front().rows;
  int consistent = 1;
  for (const auto& column : columns) {
    if (column.rows != local_rows) consistent = 0;
  }
  if (comm.allreduce(consistent, op::min{}) == 0) {
    throw Error(fmt::format("table '{}': the columns of a batch differ in length", path_));
  }
  unsigned long long column_count = columns.size();
  if (comm.allreduce(column_count, op::min{}) != comm.allreduce(column_count, op::max{})) {
    throw Error(fmt::format("table '{}': ranks gave different numbers of columns", path_));
  }

  const unsigned long long offset = comm.exscan(local_rows, std::plus<>{}, 0ULL);
  const unsigned long long total = comm.allreduce(local_rows, std::plus<>{});

  for (const auto& column : columns) {
    const std::string path = path_ + "/" + column.name;
    Handle own_type;
    hid_t type = column.type;
    std::size_t element_size = column.element_size;
    std::size_t string_width = column.string_width;
    if (column.is_string) {
      if (string_width == TableBatch::longest_value) {
        unsigned long long longest = 1;  // HDF5 strings hold at least one byte besides the null
        for (const std::string& row : column.strings) {
          longest = std::max<unsigned long long>(longest, row.size());
        }
        string_width = comm.allreduce(longest, op::max{});
        if (exists(file_.id(), path)) {  // a later batch: as wide as the column already is
          const Handle dataset = owned(H5Dopen2(file_.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
          const Handle stored = owned(H5Dget_type(dataset.get()), "H5Dget_type");
          string_width = std::max(string_width, H5Tget_size(stored.get()) - 1);
        }
      }
      own_type = string_type(string_width);
      type = own_type.get();
      element_size = string_width + 1;
    }
    if (!exists(file_.id(), path)) {
      const hsize_t zero = 0;
      const hsize_t unlimited = H5S_UNLIMITED;
      // Chunks sized after the first batch (a power of two, at least 256 rows, at most 1 MiB):
      // tiny tables stay tiny, big ones get large sequential chunks.
      const hsize_t most = std::max<hsize_t>(1, (hsize_t{1} << 20) / element_size);
      hsize_t chunk = 256;
      while (chunk < total && chunk < most) chunk *= 2;
      chunk = std::min(chunk, most);
      const Handle space = owned(H5Screate_simple(1, &zero, &unlimited), "H5Screate_simple");
      const Handle dcpl = owned(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate(dataset create)");
      check_h5(H5Pset_chunk(dcpl.get(), 1, &chunk), "H5Pset_chunk");
      check_h5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
      if (column.is_string) check_h5(H5Pset_deflate(dcpl.get(), 1), "H5Pset_deflate");
      const Handle dataset = owned(H5Dcreate2(file_.id(), path.c_str(), type, space.get(),
                                              H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                                   "H5Dcreate2");
      if (!column.units.empty()) set_attribute(dataset.get(), "units", column.units);
    }
    const Handle dataset = owned(H5Dopen2(file_.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
    if (column.is_string) {
      const Handle stored = owned(H5Dget_type(dataset.get()), "H5Dget_type");
      if (H5Tget_size(stored.get()) != string_width + 1) {
        throw Error(fmt::format("table '{}': column '{}' is {} bytes wide, the batch {}", path_,
                                column.name, H5Tget_size(stored.get()) - 1, string_width));
      }
    }
    const hsize_t new_rows = rows_ + total;
    check_h5(H5Dset_extent(dataset.get(), &new_rows), "H5Dset_extent");
    if (total == 0) continue;
    const std::string what = fmt::format("appending to '{}'", path);
    if (!column.is_string) {
      write_rows(file_, dataset.get(), type, rows_ + offset, local_rows, column.bytes.data(), what);
      continue;
    }
    // Padded strings in slabs of at most string_slab_bytes_ per rank; every rank makes as many
    // (collective) writes as the rank with the most slabs, the others writing nothing.
    const unsigned long long slab_rows =
        std::max<unsigned long long>(1, string_slab_bytes_ / element_size);
    const unsigned long long slabs =
        comm.allreduce((local_rows + slab_rows - 1) / slab_rows, op::max{});
    std::vector<char> padded;
    for (unsigned long long slab = 0; slab < slabs; ++slab) {
      const unsigned long long first = std::min(local_rows, slab * slab_rows);
      const unsigned long long count = std::min(local_rows - first, slab_rows);
      padded.assign(count * element_size, '\0');
      for (unsigned long long i = 0; i < count; ++i) {
        const std::string& value = column.strings[first + i];
        std::memcpy(padded.data() + i * element_size, value.data(), value.size());
      }
      write_rows(file_, dataset.get(), type, rows_ + offset + first, count, padded.data(), what);
    }
  }
  rows_ += total;
  return rows_;
}

std::vector<std::string> Table::read_strings(const std::string& column) const {
  const Dataset dataset = file_.dataset(path_ + "/" + column);
  const Handle type = owned(H5Dget_type(dataset.id()), "H5Dget_type");
  if (H5Tget_class(type.get()) != H5T_STRING ||
      check_h5(H5Tis_variable_str(type.get()), "H5Tis_variable_str") > 0) {
    throw Error(
        fmt::format("table '{}': column '{}' is not of fixed-width strings", path_, column));
  }
  const std::size_t width = H5Tget_size(type.get());
  const Extents shape = dataset.shape();
  if (shape.size() != 1)
    throw Error(fmt::format("table '{}': column '{}' is not 1-D", path_, column));
  std::vector<char> bytes(shape.at(0) * width);
  if (!bytes.empty()) {
    // Every rank reads the whole column (not inspected before: ignore, but logged).
    read_selection(file_.comm(), dataset.id(), type.get(), H5S_ALL, H5S_ALL, bytes.data(),
                   fmt::format("reading column '{}' of table '{}'", column, path_),
                   CollectivePolicy::ignore);
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
