// spmd-h5stats: parallel analysis of any numeric dataset in any HDF5 file -- ours or foreign,
// contiguous or chunked, 1-D to 4-D. The leading dimension is split over the ranks (the book's
// data decomposition), each rank reduces its part, and the partial results are combined with
// order-free reductions, so the numbers are bit-identical for any rank count.
//
//   mpirun -np 4 spmd-h5stats results/heat.h5                 every numeric dataset
//   mpirun -np 4 spmd-h5stats results/heat.h5 /fields/T --bins 20 --json
#include <cmath>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <spmdkit/spmdkit.hpp>

#include "dataset_stats.hpp"

namespace {

struct Options {
  std::string file;
  std::vector<std::string> datasets;
  int bins = 10;
  double slab_mb = 64;
};

std::string shape_text(const std::vector<unsigned long long>& shape) {
  return fmt::format("({}{})", fmt::join(shape, ", "), shape.size() == 1 ? "," : "");
}

nlohmann::ordered_json number(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json to_json(const h5stats::DatasetStats& s) {
  return {{"path", s.path},           {"shape", s.shape},         {"type", s.type},
          {"count", s.count},         {"nan_count", s.nan_count}, {"min", number(s.min)},
          {"max", number(s.max)},     {"mean", number(s.mean)},   {"std", number(s.stddev)},
          {"histogram", s.histogram}, {"bin_edges", s.bin_edges}};
}

// The summary as HDF5: one group per analysed dataset, mirroring its path under /datasets.
void write_summary(const spmd::App& app, const Options& options,
                   const std::vector<h5stats::DatasetStats>& all) {
  auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
  spmd::io::write_provenance(out.file(), app.provenance(),
                             "spmd-h5stats summary of " + options.file);
  out.file().set_attribute("source_file", options.file);
  for (const auto& s : all) {
    const std::string group_path = "/datasets" + s.path;
    {
      const auto group = out.file().create_group(group_path);
      group.set_attribute("dataset", s.path);
      group.set_attribute("type", s.type);
      group.set_attribute("shape", std::vector<std::uint64_t>(s.shape.begin(), s.shape.end()));
      group.set_attribute("count", s.count);
      group.set_attribute("nan_count", s.nan_count);
      for (auto [name, value] :
           {std::pair{"min", s.min}, {"max", s.max}, {"mean", s.mean}, {"std", s.stddev}}) {
        group.set_attribute(name, value);
      }
    }
    if (!s.histogram.empty()) {
      // Small arrays: rank 0 writes them, the others take part with empty boxes.
      const hsize_t bins = s.histogram.size();
      const bool root = app.is_root();
      spmd::io::write_array<std::uint64_t>(
          out.file(), group_path + "/histogram", {bins}, {{0}, {root ? bins : 0}},
          root ? std::span<const std::uint64_t>(s.histogram) : std::span<const std::uint64_t>(),
          {.units = "1", .long_name = "count of finite values per bin"});
      spmd::io::write_array<double>(
          out.file(), group_path + "/bin_edges", {bins + 1}, {{0}, {root ? bins + 1 : 0}},
          root ? std::span<const double>(s.bin_edges) : std::span<const double>(),
          {.long_name = "bin edges (numpy.histogram convention)"});
    }
  }
  out.commit();
}

void run(spmd::App& app, Options& options) {
  // A histogram is held whole on every rank: 10^6 bins is 8 MB, more is no longer a summary.
  constexpr int max_bins = 1'000'000;
  if (options.bins < 0 || options.bins > max_bins) {
    throw spmd::UsageError(
        fmt::format("--bins must be in [0, {}], got {}", max_bins, options.bins));
  }
  // Reads take at least one row whatever the slab; at most 64 GiB per rank.
  if (!(options.slab_mb > 0 && options.slab_mb <= 65536)) {
    throw spmd::UsageError(fmt::format("--slab-mb must be in (0, 65536], got {}", options.slab_mb));
  }
  auto file = spmd::io::File::open(app.comm(), options.file);
  const bool listing = options.datasets.empty();
  if (listing) options.datasets = h5stats::numeric_datasets(file);
  std::vector<h5stats::DatasetStats> all;
  for (auto path : options.datasets) {
    if (!path.starts_with('/')) path = "/" + path;
    all.push_back(h5stats::analyse(file, path, options.bins,
                                   static_cast<std::size_t>(options.slab_mb * (1 << 20))));
  }
  file.close();

  app.print("{} ({} numeric dataset{}{}, {} ranks)\n", options.file, all.size(),
            all.size() == 1 ? "" : "s", listing ? " found" : "", app.size());
  app.print("{:<28} {:<16} {:>8} {:>10} {:>5} {:>12} {:>12} {:>12} {:>12}\n", "dataset", "shape",
            "type", "count", "NaN", "min", "max", "mean", "std");
  for (const auto& s : all) {
    app.print("{:<28} {:<16} {:>8} {:>10} {:>5} {:>12.5g} {:>12.5g} {:>12.5g} {:>12.5g}\n", s.path,
              shape_text(s.shape), s.type, s.count, s.nan_count, s.min, s.max, s.mean, s.stddev);
    if (!s.histogram.empty()) {
      app.print("{:<28} histogram [{:.5g}, {:.5g}]: {}\n", "", s.bin_edges.front(),
                s.bin_edges.back(), fmt::join(s.histogram, " "));
    }
  }
  nlohmann::ordered_json datasets = nlohmann::ordered_json::array();
  for (const auto& s : all) datasets.push_back(to_json(s));
  app.summary().set("file", options.file);
  app.summary().set("bins", options.bins);
  app.summary().set_json_value("datasets", datasets);
  if (!app.options().output.empty()) {
    write_summary(app, options, all);
    app.print("summary written to {}\n", app.options().output);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  return spmd::run(
      argc, argv,
      {.name = "h5stats",
       .description = "Parallel statistics (count, NaN, min, max, mean, std, histogram) of the "
                      "numeric datasets of an HDF5 file; identical for any rank count"},
      [&](CLI::App& cli) {
        cli.add_option("file", options.file, "HDF5 file to analyse")->required();
        cli.add_option("datasets", options.datasets,
                       "datasets to analyse (default: every numeric one)");
        cli.add_option("--bins", options.bins, "histogram bins (0: none)")->capture_default_str();
        cli.add_option("--slab-mb", options.slab_mb, "memory per rank per read, MiB")
            ->capture_default_str();
      },
      [&](spmd::App& app) { run(app, options); });
}
