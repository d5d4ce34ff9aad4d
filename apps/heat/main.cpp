// spmd-heat: heat diffusion u_t = alpha * laplace(u) on a 2-D or 3-D box -- the book's data
// decomposition on a cluster. Each rank owns a block of the grid with one ghost layer; every
// step exchanges the ghosts with its neighbours while it updates its interior.
//
//   mpirun -np 4 spmd-heat --nx 256 --ny 256 --steps 1000 --every 100 --output results/heat.h5
//   (then open results/heat.xmf in ParaView, or: spmd-h5stats results/heat.h5 /fields/T)
#include <optional>

#include <fmt/ranges.h>

#include <spmdkit/spmdkit.hpp>

#include "options.hpp"
#include "solver.hpp"

namespace {

using heat::Options;
using heat::StepStats;

// The statistics table, rank 0's rows (the others add none), written in one batch.
void write_stats(const spmd::io::File& file, const std::vector<StepStats>& rows, bool root,
                 bool sine) {
  std::vector<std::int64_t> step;
  std::vector<double> time, min, max, mean, l2, error;
  if (root) {
    for (const auto& r : rows) {
      step.push_back(r.step);
      time.push_back(r.time);
      min.push_back(r.min);
      max.push_back(r.max);
      mean.push_back(r.mean);
      l2.push_back(r.l2);
      error.push_back(r.error_max);
    }
  }
  auto table = spmd::io::Table::create(file, "stats");
  spmd::io::TableBatch batch;
  batch.column("step", step).column("time", time, "s").column("min", min, "K")
      .column("max", max, "K").column("mean", mean, "K").column("l2_norm", l2, "K m");
  if (sine) batch.column("error_max", error, "K");
  table.append(batch);
}

template <std::size_t D>
void simulate(spmd::App& app, const Options& opt) {
  heat::Solver<D> solver(app.comm(), opt);
  solver.initialise();
  const auto& sub = solver.sub();
  const bool write = !app.options().output.empty();
  const bool sine = opt.init == "sine";

  std::optional<spmd::io::AtomicFile> out;
  std::optional<spmd::io::TimeSeries> series;
  const spmd::io::Extents frame(solver.cells().begin(), solver.cells().end());
  const spmd::io::Box box = spmd::decomp::io_box(sub);
  std::vector<double> times;
  if (write) {
    out.emplace(spmd::io::AtomicFile::create(app.comm(), app.options().output));
    spmd::io::write_provenance(out->id(), app.provenance(),
                               fmt::format("spmd-heat: {}-D heat diffusion", D));
    series.emplace(spmd::io::TimeSeries::create<double>(
        out->file(), "fields/T", frame, {.units = "K", .long_name = "temperature"}));
    const auto dataset = spmd::io::owned(H5Dopen2(out->id(), "fields/T", H5P_DEFAULT), "H5Dopen2");
    spmd::io::set_attribute(dataset.get(), "grid_spacing",
                            std::vector<double>(solver.spacing().begin(), solver.spacing().end()));
    spmd::io::set_attribute(dataset.get(), "grid_origin",
                            std::vector<double>(solver.origin().begin(), solver.origin().end()));
    spmd::io::set_attribute(dataset.get(), "axes", D == 2 ? "time y x" : "time z y x");
  }
  auto snapshot = [&](double time) {
    times.push_back(time);
    if (write) series->append<double>(time, box, solver.owned_values());
  };

  std::vector<StepStats> stats{solver.stats(0, 0.0)};
  snapshot(0.0);
  auto progress = app.progress("steps", static_cast<std::uint64_t>(solver.steps()));
  for (long step = 1; step <= solver.steps(); ++step) {
    solver.step();
    const double time = static_cast<double>(step) * solver.dt();
    stats.push_back(solver.stats(step, time));
    if (step % opt.every == 0 || step == solver.steps()) snapshot(time);
    progress.update(static_cast<std::uint64_t>(step));
  }
  progress.finish();

  const StepStats& last = stats.back();
  if (write) {
    write_stats(out->file(), stats, app.is_root(), sine);
    out->commit();
    if (app.is_root()) {
      const std::string& path = app.options().output;
      const auto slash = path.rfind('/');
      const std::string base = path.substr(0, path.rfind('.') == std::string::npos ? path.size() : path.rfind('.'));
      spmd::io::write_xdmf(base + ".xmf", path.substr(slash == std::string::npos ? 0 : slash + 1),
                           {std::vector<unsigned long long>(frame.begin(), frame.end()),
                            std::vector<double>(solver.origin().begin(), solver.origin().end()),
                            std::vector<double>(solver.spacing().begin(), solver.spacing().end())},
                           times, {{"T", "fields/T"}});
    }
  }
  app.summary().set("dims", static_cast<int>(D));
  app.summary().set("steps", static_cast<std::int64_t>(solver.steps()));
  app.summary().set("dt", solver.dt());
  app.summary().set("time", last.time);
  app.summary().set("min", last.min);
  app.summary().set("max", last.max);
  app.summary().set("mean", last.mean);
  app.summary().set("l2_norm", last.l2);
  if (sine) app.summary().set("error_max", last.error_max);
  app.summary().set("snapshots", static_cast<std::int64_t>(times.size()));

  app.print("spmd-heat: {}-D grid {} on {} ranks ({}), {} boundaries, init {}\n", D,
            fmt::join(solver.cells(), " x "), app.size(), fmt::join(solver.cart().procs(), " x "),
            opt.boundary, opt.init);
  app.print("  {} steps of dt {:.4g} s to t = {:.4g} s\n", solver.steps(), solver.dt(), last.time);
  app.print("  final T: min {:.6g}, max {:.6g}, mean {:.6g}, L2 norm {:.6g}\n", last.min, last.max,
            last.mean, last.l2);
  if (sine) app.print("  max error against the exact solution: {:.3e}\n", last.error_max);
  if (write) app.print("  {} snapshots written to {} (ParaView: the .xmf next to it)\n", times.size(), app.options().output);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  return spmd::run(
      argc, argv,
      {.name = "heat", .description = "Heat diffusion on a 2-D or 3-D grid (domain decomposition)",
       .default_output = "heat.h5"},
      [&](CLI::App& cli) { opt.declare(cli); },
      [&](spmd::App& app) {
        opt.validate();
        if (opt.dims == 2) {
          simulate<2>(app, opt);
        } else {
          simulate<3>(app, opt);
        }
      });
}
