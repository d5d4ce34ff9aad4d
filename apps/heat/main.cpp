// spmd-heat: heat diffusion u_t = alpha * laplace(u) on a 2-D or 3-D box -- the book's data
// decomposition on a cluster. Each rank owns a block of the grid with one ghost layer; every
// step exchanges the ghosts with its neighbours while it updates its interior. With
// --time-block K the ghosts are K deep and K steps are done per exchange and per pass over
// the field (temporal blocking, bit-identical results).
//
//   mpirun -np 4 spmd-heat --nx 256 --ny 256 --steps 1000 --every 100 --output results/heat.h5
//   (then open results/heat.xmf in ParaView, or: spmd-h5stats results/heat.h5 /fields/T)
//
// Checkpoints: --checkpoint-every N, and on SIGUSR1 (or SIGTERM where the launcher delivers it)
// every rank stops at the same step, writes one and exits with code 75 ("requeue me");
// --restart FILE continues at any rank count, with results identical to an uninterrupted run.
#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/ranges.h>

#include <spmdkit/spmdkit.hpp>

#include "options.hpp"
#include "solver.hpp"

namespace {

using heat::Options;
using heat::StepStats;

// The statistics table /stats (error_max only for the sine case, which has an exact solution).
using spmd::io::field;
const spmd::io::RowColumns stats_columns{
    field("step", &StepStats::step),      field("time", &StepStats::time, "s"),
    field("min", &StepStats::min, "K"),   field("max", &StepStats::max, "K"),
    field("mean", &StepStats::mean, "K"), field("l2_norm", &StepStats::l2, "K m")};

// Rank 0's rows (the others add none), in one batch.
void write_stats(const spmd::io::File& file, const std::vector<StepStats>& rows, bool root,
                 bool sine) {
  const std::span<const StepStats> mine = root ? std::span(rows) : std::span<const StepStats>();
  spmd::io::TableBatch batch = stats_columns.batch(mine);
  std::vector<double> error;
  for (const auto& r : mine) error.push_back(r.error_max);
  if (sine) batch.column("error_max", error, "K");
  spmd::io::Table::create(file, "stats").append(batch);
}

std::vector<StepStats> read_stats(const spmd::io::File& file) {
  const auto table = spmd::io::Table::open(file, "stats");
  std::vector<StepStats> rows = stats_columns.read(table);
  const auto error = table.has_column("error_max") ? table.read<double>("error_max")
                                                   : std::vector<double>(rows.size(), std::nan(""));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].error_max = error.at(i);
  return rows;
}

// A run of the solver in the library's checkpointed time loop, with its statistics table.
template <std::size_t D>
class Run {
 public:
  Run(spmd::App& app, const Options& options, const spmd::CheckpointFlags& checkpoints)
      : app_(app),
        options_(options),
        solver_(app.comm(), options),
        loop_(app, checkpoints,
              {.steps = solver_.steps(),
               .dt = solver_.dt(),
               .snapshot_every = options.every,
               .title = fmt::format("spmd-heat: {}-D heat diffusion", D),
               // How the steps are swept, not what they compute: a restart may change it.
               .may_change_on_restart = {"--steps", "--time-block"},
               .max_block = options.time_block}) {
    loop_.state("T", solver_.field());
    loop_.snapshots(
        "fields/T", solver_.field(),
        {.series = {.units = "K",
                    .long_name = "temperature",
                    .grid_origin = {solver_.origin().begin(), solver_.origin().end()},
                    .grid_spacing = {solver_.spacing().begin(), solver_.spacing().end()}},
         .name = "T"});
    const bool sine = options.init == "sine";
    loop_.on_checkpoint(
        [this, sine](const spmd::io::File& f) { write_stats(f, stats_, app_.is_root(), sine); },
        [this](const spmd::io::File& f) { stats_ = read_stats(f); });
    loop_.on_finish(
        [this, sine](const spmd::io::File& f) { write_stats(f, stats_, app_.is_root(), sine); });
  }

  /// Returns the exit code: ok, or requeue when stopped by a signal after a checkpoint.
  int simulate() {
    const int code = loop_.run_blocks(
        [&] {
          solver_.initialise();
          stats_.push_back(solver_.stats(0, 0.0));
        },
        [&](long first, long count) {
          solver_.advance(
              first, count, [&](long step) { return loop_.time_of(step); }, &stats_);
          if (options_.step_delay_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(options_.step_delay_ms * count));
          }
        });
    if (code == spmd::exit_code::ok) report();
    return code;
  }

 private:
  void report() {
    const StepStats& last = stats_.back();
    const bool sine = options_.init == "sine";
    auto& summary = app_.summary();
    summary.set("dims", static_cast<int>(D));
    summary.set("dt", solver_.dt());
    summary.set("time", last.time);
    summary.set("min", last.min);
    summary.set("max", last.max);
    summary.set("mean", last.mean);
    summary.set("l2_norm", last.l2);
    if (sine) summary.set("error_max", last.error_max);
    app_.print("spmd-heat: {}-D grid {} on {} ranks ({}), {} boundaries, init {}\n", D,
               fmt::join(solver_.cells(), " x "), app_.size(),
               fmt::join(solver_.cart().procs(), " x "), options_.boundary, options_.init);
    app_.print("  {} steps of dt {:.4g} s to t = {:.4g} s\n", solver_.steps(), solver_.dt(),
               last.time);
    app_.print("  final T: min {:.6g}, max {:.6g}, mean {:.6g}, L2 norm {:.6g}\n", last.min,
               last.max, last.mean, last.l2);
    if (sine) app_.print("  max error against the exact solution: {:.3e}\n", last.error_max);
    if (!app_.options().output.empty()) {
      app_.print("  snapshots written to {} (ParaView: the .xmf next to it)\n",
                 app_.options().output);
    }
  }

  spmd::App& app_;
  const Options& options_;
  heat::Solver<D> solver_;
  spmd::TimeLoop loop_;
  std::vector<StepStats> stats_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  spmd::CheckpointFlags checkpoints;
  return spmd::run(
      argc, argv,
      {.name = "heat",
       .description = "Heat diffusion on a 2-D or 3-D grid (domain decomposition)",
       .default_output = "heat.h5"},
      [&](CLI::App& cli) {
        options.declare(cli);
        checkpoints.declare(cli);
      },
      [&](spmd::App& app) {
        options.validate();
        if (options.dims == 2) return Run<2>(app, options, checkpoints).simulate();
        return Run<3>(app, options, checkpoints).simulate();
      });
}
