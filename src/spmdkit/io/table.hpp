#pragma once
// Distributed tables: named 1-D columns in a group, where every rank contributes a different
// number of rows per batch (task results, word counts). Rows land in rank order: each rank's
// offset is the exclusive scan of the row counts. Numeric columns of any arithmetic type, and
// string columns of fixed width (parallel HDF5 cannot write variable-length data collectively).
//
// Bounded output: a fixed width pads every value to the longest one, so one long value among
// many short ones would make the file rows x longest bytes (a 20 KB word among 20,000 made a
// 405 MB word count). String columns are therefore stored compressed (deflate: the padding
// costs next to nothing on disk), and written in slabs of at most 16 MiB of padded rows per
// rank, so that neither the file nor the memory grows beyond the text the column really holds.
#include <algorithm>
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
                        std::move(units)});
    return *this;
  }
  template <H5Scalar T>
  TableBatch& column(std::string name, const std::vector<T>& rows, std::string units = {}) {
    return column(std::move(name), std::span<const T>(rows), std::move(units));
  }
  /// A string column of up to `width` bytes (UTF-8, null-terminated); longer is an error.
  /// `longest_value`: as wide as the longest value of this batch on any rank (agreed in append).
  TableBatch& column(std::string name, std::span<const std::string> rows, std::size_t width = 64);
  TableBatch& column(std::string name, const std::vector<std::string>& rows, std::size_t width = 64) {
    return column(std::move(name), std::span<const std::string>(rows), width);
  }
  static constexpr std::size_t longest_value = 0;

  struct Column {
    std::string name;
    hid_t type;             ///< predefined numeric type, or H5T_C_S1 for strings
    std::size_t element_size;  ///< bytes per row in `bytes` (numeric columns)
    std::size_t rows;
    std::vector<std::byte> bytes;  ///< numeric columns
    std::string units;
    bool is_string = false;
    std::size_t string_width = 0;  ///< bytes without the null; longest_value: agreed in append
    std::vector<std::string> strings;  ///< string columns, padded slab by slab when written
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
  /// Memory per rank for padding string rows before they are written (default 16 MiB); the
  /// same on every rank.
  void set_string_slab_bytes(std::size_t bytes) noexcept { string_slab_bytes_ = std::max<std::size_t>(bytes, 1); }

 private:
  Table(const File& file, std::string path) : file_(&file), path_(std::move(path)) {}
  const File* file_;
  std::string path_;
  hsize_t rows_ = 0;
  std::size_t string_slab_bytes_ = std::size_t{16} << 20;
};

/// Reads a whole string column (every rank gets all rows).
[[nodiscard]] std::vector<std::string> read_string_column(const File& file, const std::string& path);

}  // namespace spmd::io
