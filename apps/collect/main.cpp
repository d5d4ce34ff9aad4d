// spmd-collect: one summary of many outputs -- the merge step of a parameter sweep (a Slurm job
// array writes one HDF5 file per element; this gathers them: parameters -> results).
//
//   mpirun -np 4 spmd-collect results/sweep-42/element-*.h5 --table stats --output summary.h5
//
// For every input file one row of /collected: `file`, `command_line` (from the file's
// provenance), and for each 1-D numeric dataset of the group --table, its last value (a final
// statistic: the last step's max, mean, ...). Files are split over the ranks; each reads its own
// (independently, on MPI_COMM_SELF) and the table is written collectively, rows in file order.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <spmdkit/spmdkit.hpp>

namespace {

struct Options {
  std::vector<std::string> files;
  std::string table = "stats";
  void declare(CLI::App& cli) {
    cli.add_option("files", files, "HDF5 outputs, one per sweep element")->required();
    cli.add_option("--table", table, "the group whose 1-D datasets give the results (last value)")
        ->capture_default_str();
  }
};

struct Row {
  std::string file;
  std::string command_line;
  std::map<std::string, double> values;
};

// The file's command line and the last value of every 1-D numeric dataset directly in group
// `group_path` (named by its last path component).
Row read_row(const std::string& path, const std::string& group_path) {
  Row row;
  row.file = path;
  const auto file = spmd::io::File::open(spmd::Comm::self(), path);
  if (file.has_attribute("command_line")) row.command_line = file.string_attribute("command_line");
  if (!file.exists(group_path)) {
    throw spmd::UsageError(
        fmt::format("{} has no group '{}' (choose one with --table)", path, group_path));
  }
  const auto columns = [](const spmd::io::DatasetInfo& d) {
    return d.numeric() && d.shape.size() == 1 && d.shape[0] > 0;
  };
  for (const auto& info : file.group(group_path).datasets(columns, ".", /*recursive=*/false)) {
    // Read as double whatever the stored type (a conversion: independent I/O, on one process).
    const hsize_t last = info.shape[0] - 1;
    const auto value =
        file.dataset(info.path).read<double>({{last}, {1}}, spmd::io::CollectivePolicy::ignore);
    row.values[info.path.substr(info.path.rfind('/') + 1)] = value[0];
  }
  return row;
}

void run_collect(spmd::App& app, const Options& options) {
  for (const auto& f : options.files) {
    if (!std::filesystem::exists(f)) throw spmd::UsageError(fmt::format("no file {}", f));
  }
  // Each rank reads a contiguous block of the files.
  const spmd::decomp::BlockMap blocks(static_cast<spmd::decomp::Index>(options.files.size()),
                                      app.size());
  std::vector<Row> mine;
  for (spmd::decomp::Index i = 0; i < blocks.local_size(app.rank()); ++i) {
    mine.push_back(read_row(options.files[static_cast<std::size_t>(blocks.offset(app.rank()) + i)],
                            options.table));
  }
  // The columns: every result name any file has (all ranks agree on the sorted union).
  std::set<std::string> names;
  for (const auto& row : mine) {
    for (const auto& [name, value] : row.values) names.insert(name);
  }
  const auto all_names =
      spmd::tree_allreduce(app.comm(), std::vector<std::string>(names.begin(), names.end()),
                           [](std::vector<std::string> a, const std::vector<std::string>& b) {
                             a.insert(a.end(), b.begin(), b.end());
                             std::sort(a.begin(), a.end());
                             a.erase(std::unique(a.begin(), a.end()), a.end());
                             return a;
                           });
  std::vector<std::string> file_column, command_column;
  for (const auto& row : mine) {
    file_column.push_back(row.file);
    command_column.push_back(row.command_line);
  }

  auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
  spmd::io::write_provenance(out.file(), app.provenance(), "spmd-collect: a sweep's results");
  auto table = spmd::io::Table::create(out.file(), "collected");
  spmd::io::TableBatch batch;
  batch.column("file", file_column, spmd::io::TableBatch::longest_value)
      .column("command_line", command_column, spmd::io::TableBatch::longest_value);
  std::vector<std::vector<double>> value_columns;
  for (const auto& name : all_names) {
    auto& column = value_columns.emplace_back();
    for (const auto& row : mine) {
      const auto it = row.values.find(name);
      column.push_back(it == row.values.end() ? std::nan("") : it->second);
    }
  }
  for (std::size_t k = 0; k < all_names.size(); ++k) batch.column(all_names[k], value_columns[k]);
  table.append(batch);
  out.file().set_attribute("source_table", options.table);
  out.commit();

  app.summary().set("files", static_cast<std::int64_t>(options.files.size()));
  app.summary().set("columns", static_cast<std::int64_t>(all_names.size()));
  app.print("spmd-collect: {} file(s) -> {} (/collected: file, command_line, {})\n",
            options.files.size(), app.options().output, fmt::join(all_names, ", "));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  return spmd::run(
      argc, argv,
      {.name = "collect",
       .description = "Gathers many outputs (a sweep's elements) into one summary table",
       .default_output = "collected.h5"},
      [&](CLI::App& cli) { options.declare(cli); },
      [&](spmd::App& app) { run_collect(app, options); });
}
