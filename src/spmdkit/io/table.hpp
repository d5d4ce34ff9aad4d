#pragma once
// Distributed tables: named 1-D columns in a group, where every rank contributes a different
// number of rows per batch (task results, word counts). Rows land in rank order: each rank's
// offset is the exclusive scan of the row counts. Numeric columns of any arithmetic type, and
// string columns of fixed width (parallel HDF5 cannot write variable-length data collectively).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spmdkit/io/array.hpp"
#include "spmdkit/io/file.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::io {

/// One batch of this rank's rows. Every rank lists the same columns in the same order.
class TableBatch {
 public:
  template <H5Scalar T>
  TableBatch& column(std::string name, std::span<const T> rows, std::string units = {}) {
    columns_.push_back({std::move(name), h5_type<T>(), sizeof(T), rows.size(),
                        {reinterpret_cast<const std::byte*>(rows.data()),
                         reinterpret_cast<const std::byte*>(rows.data()) + rows.size_bytes()},
                        std::move(units), 0});
    return *this;
  }
  template <H5Scalar T>
  TableBatch& column(std::string name, const std::vector<T>& rows, std::string units = {}) {
    return column(std::move(name), std::span<const T>(rows), std::move(units));
  }
  /// A string column of up to `width` bytes (UTF-8, null-terminated); longer is an error.
  TableBatch& column(std::string name, std::span<const std::string> rows, std::size_t width = 64);
  TableBatch& column(std::string name, const std::vector<std::string>& rows, std::size_t width = 64) {
    return column(std::move(name), std::span<const std::string>(rows), width);
  }

  struct Column {
    std::string name;
    hid_t type;             ///< predefined numeric type, or H5T_C_S1 for strings
    std::size_t element_size;  ///< bytes per row in `bytes`
    std::size_t rows;
    std::vector<std::byte> bytes;
    std::string units;
    std::size_t string_width;  ///< 0 for numeric columns
  };
  [[nodiscard]] const std::vector<Column>& columns() const noexcept { return columns_; }

 private:
  std::vector<Column> columns_;
};

class Table {
 public:
  /// Collective: a table in group `path` (created, with intermediate groups).
  [[nodiscard]] static Table create(const File& file, std::string path);
  /// Collective: appends every rank's rows of `batch`; returns the rows now in the table.
  hsize_t append(const TableBatch& batch);
  [[nodiscard]] hsize_t rows() const noexcept { return rows_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  Table(const File& file, std::string path) : file_(&file), path_(std::move(path)) {}
  const File* file_;
  std::string path_;
  hsize_t rows_ = 0;
};

/// Reads a whole string column (every rank gets all rows).
[[nodiscard]] std::vector<std::string> read_string_column(const File& file, const std::string& path);

}  // namespace spmd::io
