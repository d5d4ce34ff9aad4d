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
#include <tuple>
#include <type_traits>
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
    columns_.push_back({std::move(name),
                        h5_type<T>(),
                        sizeof(T),
                        rows.size(),
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
  TableBatch& column(std::string name, const std::vector<std::string>& rows,
                     std::size_t width = 64) {
    return column(std::move(name), std::span<const std::string>(rows), width);
  }
  static constexpr std::size_t longest_value = 0;

  struct Column {
    std::string name;
    hid_t type;                ///< predefined numeric type, or H5T_C_S1 for strings
    std::size_t element_size;  ///< bytes per row in `bytes` (numeric columns)
    std::size_t rows;
    std::vector<std::byte> bytes;  ///< numeric columns
    std::string units;
    bool is_string = false;
    std::size_t string_width = 0;      ///< bytes without the null; longest_value: agreed in append
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
  /// Collective: an existing table (its columns equally long), to read it or append to it. A
  /// missing group is an Error naming it.
  [[nodiscard]] static Table open(const File& file, std::string path);
  /// Collective: appends every rank's rows of `batch`; returns the rows now in the table.
  hsize_t append(const TableBatch& batch);
  [[nodiscard]] hsize_t rows() const noexcept { return rows_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The column names, in name order.
  [[nodiscard]] std::vector<std::string> column_names() const;
  [[nodiscard]] bool has_column(const std::string& name) const;
  /// Collective: every row of a numeric column on every rank, converted to T.
  template <H5Scalar T>
  [[nodiscard]] std::vector<T> read(const std::string& column) const {
    return file_.dataset(path_ + "/" + column).read_all<T>();
  }
  /// Collective: every row of a string column on every rank.
  [[nodiscard]] std::vector<std::string> read_strings(const std::string& column) const;
  /// Memory per rank for padding string rows before they are written (default 16 MiB); the
  /// same on every rank.
  void set_string_slab_bytes(std::size_t bytes) noexcept {
    string_slab_bytes_ = std::max<std::size_t>(bytes, 1);
  }

 private:
  Table(const File& file, std::string path) : file_(file), path_(std::move(path)) {}
  File file_;  // shared with the caller's File: never dangles
  std::string path_;
  hsize_t rows_ = 0;
  std::size_t string_slab_bytes_ = std::size_t{16} << 20;
};

/// One column of a table of `Row` structs: its name, the member it holds, and the units of a
/// number or the width of a string (TableBatch::longest_value: as wide as the longest value).
template <class Row, class Member>
struct RowField {
  std::string name;
  Member Row::*member;
  std::string units;
  std::size_t width = TableBatch::longest_value;
};

/// A numeric column of `Row` (any arithmetic member but bool).
template <class Row, H5Scalar Member>
[[nodiscard]] RowField<Row, Member> field(std::string name, Member Row::*member,
                                          std::string units = {}) {
  return {std::move(name), member, std::move(units)};
}
/// A string column of `Row`, `width` bytes at most (longest_value: as wide as the longest).
template <class Row>
[[nodiscard]] RowField<Row, std::string> field(std::string name, std::string Row::*member,
                                               std::size_t width = TableBatch::longest_value) {
  return {std::move(name), member, {}, width};
}

/// The columns of a table of `Row` structs, declared once: a vector of rows becomes a batch in
/// one call, and a table reads back into rows.
///
///   struct Step { std::int64_t step; double time; std::string note; };
///   const spmd::io::RowColumns columns{spmd::io::field("step", &Step::step),
///                                      spmd::io::field("time", &Step::time, "s"),
///                                      spmd::io::field("note", &Step::note)};
///   table.append(columns.batch(rows));           // every rank its rows, in rank order
///   std::vector<Step> all = columns.read(spmd::io::Table::open(file, "steps"));
template <class Row, class... Members>
class RowColumns {
 public:
  explicit RowColumns(RowField<Row, Members>... fields) : fields_(std::move(fields)...) {}

  /// This rank's `rows` as a batch (the values are copied: `rows` may go away).
  [[nodiscard]] TableBatch batch(std::span<const Row> rows) const {
    TableBatch batch;
    std::apply([&](const auto&... field) { (add(batch, rows, field), ...); }, fields_);
    return batch;
  }
  [[nodiscard]] TableBatch batch(const std::vector<Row>& rows) const {
    return batch(std::span<const Row>(rows));
  }

  /// Collective: every row of `table` on every rank.
  [[nodiscard]] std::vector<Row> read(const Table& table) const {
    std::vector<Row> rows(table.rows());
    std::apply([&](const auto&... field) { (fill(table, rows, field), ...); }, fields_);
    return rows;
  }

 private:
  template <class Member>
  static void add(TableBatch& batch, std::span<const Row> rows,
                  const RowField<Row, Member>& field) {
    std::vector<Member> column;
    column.reserve(rows.size());
    for (const Row& row : rows) column.push_back(row.*field.member);
    if constexpr (std::is_same_v<Member, std::string>) {
      batch.column(field.name, column, field.width);
    } else {
      batch.column(field.name, column, field.units);
    }
  }
  template <class Member>
  static void fill(const Table& table, std::vector<Row>& rows, const RowField<Row, Member>& field) {
    std::vector<Member> column;
    if constexpr (std::is_same_v<Member, std::string>) {
      column = table.read_strings(field.name);
    } else {
      column = table.template read<Member>(field.name);
    }
    if (column.size() != rows.size()) {
      throw Error("table '" + table.path() + "': column '" + field.name + "' has " +
                  std::to_string(column.size()) + " rows, the table " +
                  std::to_string(rows.size()));
    }
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i].*field.member = std::move(column[i]);
  }
  std::tuple<RowField<Row, Members>...> fields_;
};

}  // namespace spmd::io
