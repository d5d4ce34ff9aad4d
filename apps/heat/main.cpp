// spmd-heat: heat diffusion u_t = alpha * laplace(u) on a 2-D or 3-D box -- the book's data
// decomposition on a cluster. Each rank owns a block of the grid with one ghost layer; every
// step exchanges the ghosts with its neighbours while it updates its interior.
//
//   mpirun -np 4 spmd-heat --nx 256 --ny 256 --steps 1000 --every 100 --output results/heat.h5
//   (then open results/heat.xmf in ParaView, or: spmd-h5stats results/heat.h5 /fields/T)
//
// Checkpoints: --checkpoint-every N, and on SIGUSR1 (or SIGTERM where the launcher delivers it)
// every rank stops at the same step, writes one and exits with code 75 ("requeue me");
// --restart FILE continues at any rank count, with results identical to an uninterrupted run.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
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

std::vector<StepStats> read_stats(const spmd::io::File& file) {
  const spmd::io::Extents shape = spmd::io::dataset_shape(file, "stats/step");
  const spmd::io::Box all{{0}, shape};
  const auto step = spmd::io::read_array<std::int64_t>(file, "stats/step", all);
  const auto time = spmd::io::read_array<double>(file, "stats/time", all);
  const auto min = spmd::io::read_array<double>(file, "stats/min", all);
  const auto max = spmd::io::read_array<double>(file, "stats/max", all);
  const auto mean = spmd::io::read_array<double>(file, "stats/mean", all);
  const auto l2 = spmd::io::read_array<double>(file, "stats/l2_norm", all);
  const bool sine = spmd::io::exists(file.id(), "stats/error_max");
  const auto error = sine ? spmd::io::read_array<double>(file, "stats/error_max", all)
                          : std::vector<double>(step.size(), std::nan(""));
  std::vector<StepStats> rows;
  for (std::size_t i = 0; i < step.size(); ++i) {
    rows.push_back({step[i], time[i], min[i], max[i], mean[i], l2[i], error[i]});
  }
  return rows;
}

std::string default_checkpoint(const spmd::App& app) {
  const std::string& output = app.options().output;
  if (output.empty()) return "heat.checkpoint.h5";
  return std::filesystem::path(output).replace_extension(".checkpoint.h5").string();
}

// A run of the solver with its outputs: snapshots, statistics, checkpoints.
template <std::size_t D>
class Run {
 public:
  Run(spmd::App& app, const Options& opt)
      : app_(app), opt_(opt), solver_(app.comm(), opt),
        frame_(solver_.cells().begin(), solver_.cells().end()),
        box_(spmd::decomp::io_box(solver_.sub())),
        checkpoint_path_(opt.checkpoint.empty() ? default_checkpoint(app) : opt.checkpoint) {
    if (!app.options().output.empty()) {
      out_.emplace(spmd::io::AtomicFile::create(app.comm(), app.options().output));
      spmd::io::write_provenance(out_->id(), app.provenance(),
                                 fmt::format("spmd-heat: {}-D heat diffusion", D));
      series_.emplace(create_series(out_->file(), "fields/T"));
    }
  }

  /// Returns the exit code: ok, or requeue when stopped by a signal after a checkpoint.
  int simulate() {
    long first = 1;
    if (opt_.restart.empty()) {
      solver_.initialise();
      stats_.push_back(solver_.stats(0, 0.0));
      snapshot(0.0);
    } else {
      first = restart() + 1;
    }
    spmd::StopRequest stop;
    auto progress = app_.progress("steps", static_cast<std::uint64_t>(solver_.steps()));
    for (long step = first; step <= solver_.steps(); ++step) {
      solver_.step();
      if (opt_.step_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt_.step_delay_ms));
      const double time = static_cast<double>(step) * solver_.dt();
      stats_.push_back(solver_.stats(step, time));
      if (step % opt_.every == 0 || step == solver_.steps()) snapshot(time);
      progress.update(static_cast<std::uint64_t>(step));
      const bool periodic = opt_.checkpoint_every > 0 && step % opt_.checkpoint_every == 0 &&
                            step < solver_.steps();
      // Every rank asks at the same step, so all stop together.
      if (stop.agreed(app_.comm())) {
        write_checkpoint(step);
        progress.finish();
        app_.print("spmd-heat: stopped by signal {} at step {}; checkpoint {}\n"
                   "  continue with: --restart {}\n",
                   stop.signal(), step, checkpoint_path_, checkpoint_path_);
        app_.summary().set("stopped_at_step", static_cast<std::int64_t>(step));
        app_.summary().set("checkpoint", checkpoint_path_);
        return spmd::exit_code::requeue;
      }
      if (periodic) write_checkpoint(step);
    }
    progress.finish();
    finish();
    return spmd::exit_code::ok;
  }

 private:
  spmd::io::TimeSeries create_series(const spmd::io::File& file, const std::string& path) {
    auto series = spmd::io::TimeSeries::create<double>(file, path, frame_,
                                                       {.units = "K", .long_name = "temperature"});
    const auto dataset = spmd::io::owned(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), "H5Dopen2");
    spmd::io::set_attribute(dataset.get(), "grid_spacing",
                            std::vector<double>(solver_.spacing().begin(), solver_.spacing().end()));
    spmd::io::set_attribute(dataset.get(), "grid_origin",
                            std::vector<double>(solver_.origin().begin(), solver_.origin().end()));
    spmd::io::set_attribute(dataset.get(), "axes", D == 2 ? "time y x" : "time z y x");
    return series;
  }

  void snapshot(double time) {
    times_.push_back(time);
    if (series_) series_->template append<double>(time, box_, solver_.owned_values());
  }

  // Frame i of a series, this rank's box.
  std::vector<double> read_frame(const spmd::io::File& file, const std::string& path, hsize_t i) {
    spmd::io::Box box{{i}, {1}};
    box.offset.insert(box.offset.end(), box_.offset.begin(), box_.offset.end());
    box.count.insert(box.count.end(), box_.count.begin(), box_.count.end());
    return spmd::io::read_array<double>(file, path, box);
  }

  // Everything needed to continue exactly: the field, the snapshots so far (copied from the
  // output being written), the statistics so far. Atomic, the previous one kept as .prev.
  void write_checkpoint(long step) {
    auto checkpoint = spmd::io::AtomicFile::create(app_.comm(), checkpoint_path_, {.keep_previous = true});
    spmd::io::write_provenance(checkpoint.id(), app_.provenance(), "spmd-heat checkpoint");
    spmd::io::set_attribute(checkpoint.id(), "step", static_cast<std::int64_t>(step));
    spmd::io::set_attribute(checkpoint.id(), "signature", opt_.signature());
    solver_.save(checkpoint.file(), "state/T");
    if (series_) {
      auto copy = create_series(checkpoint.file(), "snapshots/T");
      for (hsize_t i = 0; i < series_->frames(); ++i) {
        copy.template append<double>(times_[i], box_, read_frame(out_->file(), "fields/T", i));
      }
    }
    write_stats(checkpoint.file(), stats_, app_.is_root(), opt_.init == "sine");
    checkpoint.commit();
  }

  // Continues from a checkpoint written at any rank count; returns its step.
  long restart() {
    auto checkpoint = spmd::io::File::open(app_.comm(), opt_.restart);
    for (const char* name : {"signature", "step"}) {
      if (!spmd::io::has_attribute(checkpoint.id(), name) ||
          !spmd::io::exists(checkpoint.id(), "state/T")) {
        throw spmd::UsageError(fmt::format("{} is not a spmd-heat checkpoint (no '{}')",
                                           opt_.restart, name));
      }
    }
    if (spmd::io::string_attribute(checkpoint.id(), "signature") != opt_.signature()) {
      throw spmd::UsageError(fmt::format("{} was written by a run with other options ({}); "
                                         "restart with the same grid and physics",
                                         opt_.restart,
                                         spmd::io::string_attribute(checkpoint.id(), "signature")));
    }
    const long step = spmd::io::attribute<std::int64_t>(checkpoint.id(), "step").at(0);
    if (step < 0 || step > solver_.steps()) {
      throw spmd::UsageError(fmt::format("{} is at step {}, past the {} steps of this run "
                                         "(--steps or --t-end)",
                                         opt_.restart, step, solver_.steps()));
    }
    solver_.load(checkpoint, "state/T");
    stats_ = read_stats(checkpoint);
    if (spmd::io::exists(checkpoint.id(), "snapshots/T")) {
      const auto times = spmd::io::read_times(checkpoint, "snapshots/time");
      for (hsize_t i = 0; i < times.size(); ++i) {
        const auto frame = read_frame(checkpoint, "snapshots/T", i);
        times_.push_back(times[i]);
        if (series_) series_->template append<double>(times[i], box_, frame);
      }
    }
    checkpoint.close();
    app_.print("spmd-heat: restarting from {} at step {}\n", opt_.restart, step);
    return step;
  }

  void finish() {
    const StepStats& last = stats_.back();
    const bool sine = opt_.init == "sine";
    if (out_) {
      write_stats(out_->file(), stats_, app_.is_root(), sine);
      out_->commit();
      if (app_.is_root()) {
        const std::filesystem::path path(app_.options().output);
        spmd::io::write_xdmf(std::filesystem::path(path).replace_extension(".xmf").string(),
                             path.filename().string(),
                             {std::vector<unsigned long long>(frame_.begin(), frame_.end()),
                              std::vector<double>(solver_.origin().begin(), solver_.origin().end()),
                              std::vector<double>(solver_.spacing().begin(), solver_.spacing().end())},
                             times_, {{"T", "fields/T"}});
      }
    }
    auto& summary = app_.summary();
    summary.set("dims", static_cast<int>(D));
    summary.set("steps", static_cast<std::int64_t>(solver_.steps()));
    summary.set("dt", solver_.dt());
    summary.set("time", last.time);
    summary.set("min", last.min);
    summary.set("max", last.max);
    summary.set("mean", last.mean);
    summary.set("l2_norm", last.l2);
    if (sine) summary.set("error_max", last.error_max);
    summary.set("snapshots", static_cast<std::int64_t>(times_.size()));
    app_.print("spmd-heat: {}-D grid {} on {} ranks ({}), {} boundaries, init {}\n", D,
               fmt::join(solver_.cells(), " x "), app_.size(),
               fmt::join(solver_.cart().procs(), " x "), opt_.boundary, opt_.init);
    app_.print("  {} steps of dt {:.4g} s to t = {:.4g} s\n", solver_.steps(), solver_.dt(), last.time);
    app_.print("  final T: min {:.6g}, max {:.6g}, mean {:.6g}, L2 norm {:.6g}\n", last.min,
               last.max, last.mean, last.l2);
    if (sine) app_.print("  max error against the exact solution: {:.3e}\n", last.error_max);
    if (out_) {
      app_.print("  {} snapshots written to {} (ParaView: the .xmf next to it)\n", times_.size(),
                 app_.options().output);
    }
  }

  spmd::App& app_;
  const Options& opt_;
  heat::Solver<D> solver_;
  spmd::io::Extents frame_;
  spmd::io::Box box_;
  std::string checkpoint_path_;
  std::optional<spmd::io::AtomicFile> out_;
  std::optional<spmd::io::TimeSeries> series_;
  std::vector<double> times_;
  std::vector<StepStats> stats_;
};

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
        if (opt.dims == 2) return Run<2>(app, opt).simulate();
        return Run<3>(app, opt).simulate();
      });
}
