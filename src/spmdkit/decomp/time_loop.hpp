#pragma once
// A checkpointed time-stepping run: what every solver needs around its update, so that a user's
// own solver is its physics and nothing else.
//
//   spmd::CheckpointFlags checkpoints;                 // --checkpoint-every N, --restart FILE, ...
//   ... declare: checkpoints.declare(cli);
//   spmd::TimeLoop loop(app, checkpoints, {.steps = steps, .snapshot_every = 10});
//   loop.state("u", u);                                // saved in checkpoints, read on restart
//   loop.snapshots("fields/u", u);                     // a time series in the output (+ XDMF)
//   return loop.run([&] { initialise(u); }, [&](long step) { advance(u); });
//
// The loop owns: the output (written as NAME.tmp, published complete), the snapshots, the stop
// request (SIGUSR1/SIGTERM: every rank stops at the same step, writes a checkpoint, exit 75 =
// "requeue me"), periodic checkpoints (NAME.checkpoint.h5, the one before kept as .prev until the
// new one is complete), the restart at any rank count (refused, naming the option, if the
// checkpoint was written with other parameters), and after a complete run the removal of the
// checkpoints. The output's time series continue across a restart with no past frame held in
// memory: a checkpoint carries the snapshots so far and a restart copies them back one by one.
//
// Results after a restart are bit-identical to an uninterrupted run when the step is a function
// of the state fields alone (state everything the step reads: a second field, a counter...).
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "spmdkit/decomp/field.hpp"
#include "spmdkit/io/atomic_file.hpp"
#include "spmdkit/io/time_series.hpp"
#include "spmdkit/runtime/app.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace spmd {

/// The command-line face of a checkpointed run (option group "Checkpoints"):
///   --checkpoint-every N  --checkpoint FILE  --restart FILE  --keep-checkpoint
struct CheckpointFlags {
  long checkpoint_every = 0;  ///< 0: only when stopped by a signal
  std::string checkpoint;     ///< default: OUTPUT with .checkpoint.h5 for .h5
  std::string restart;
  bool keep_checkpoint = false;
  /// Hidden, for tests: the last rank raises SIGUSR1 itself after this step (0: never), so the
  /// stop path is tested at a known step.
  long test_signal_at_step = 0;

  void declare(CLI::App& cli);
  /// Where this run writes its checkpoints.
  [[nodiscard]] std::string checkpoint_path(const App& app) const;
};

struct TimeLoopSettings {
  long steps = 0;           ///< steps 1..steps follow the initial state (step 0)
  double dt = 1.0;          ///< the time of step s is s * dt
  long snapshot_every = 0;  ///< snapshots at step 0, every N steps and the last (0: first, last)
  std::string title;        ///< the output file's title attribute
  /// Options a restart may change (e.g. "--steps": run further). Every other option of the app
  /// must be as when the checkpoint was written.
  std::set<std::string> may_change_on_restart;
  /// Most steps run_blocks() hands to one call (a solver that does several steps per pass over
  /// its data: temporal blocking). A block never passes a snapshot, a checkpoint or the end.
  long max_block = 1;
};

/// A snapshot series: its dataset options (units, long name, and where the cells sit in space:
/// grid_origin and grid_spacing, default 0 and 1 per axis) and its name in the XDMF sidecar
/// that ParaView opens (2-D and 3-D fields).
struct SnapshotOptions {
  io::TimeSeriesOptions series;
  std::string name;  ///< as ParaView shows it; default: the dataset's name
};

class TimeLoop {
 public:
  TimeLoop(App& app, const CheckpointFlags& flags, TimeLoopSettings settings);
  TimeLoop(const TimeLoop&) = delete;
  TimeLoop& operator=(const TimeLoop&) = delete;

  /// `field` is part of the state: saved in every checkpoint, read back on restart.
  template <class T, std::size_t D>
  void state(const std::string& name, decomp::Field<T, D>& field) {
    states_.push_back({name,
                       [&field](const io::File& f, const std::string& p) { field.write(f, p); },
                       [&field](const io::File& f, const std::string& p) { field.read(f, p); }});
  }

  /// `field` is written to the output as time series `path` at every snapshot.
  template <class T, std::size_t D>
  void snapshots(const std::string& path, decomp::Field<T, D>& field,
                 SnapshotOptions options = {}) {
    Series series;
    series.path = path;
    series.box = decomp::io_selection(field.sub());
    series.shape = decomp::io_shape(field.sub());
    series.type = io::h5_type<T>();
    series.options = std::move(options);
    auto& grid = series.options.series;
    if (grid.grid_origin.empty()) grid.grid_origin.assign(D, 0.0);
    if (grid.grid_spacing.empty()) grid.grid_spacing.assign(D, 1.0);
    if (grid.axes.empty()) grid.axes = D == 1 ? "time x" : D == 2 ? "time y x" : "time z y x";
    series.append = [&field](io::TimeSeries& s, double time) { field.append_to(s, time); };
    series_.push_back(std::move(series));
  }

  /// Extra data of a checkpoint (diagnostics so far, a counter): `save` writes it into the
  /// checkpoint file, `load` reads it back on restart. Collective, both.
  void on_checkpoint(std::function<void(const io::File&)> save,
                     std::function<void(const io::File&)> load);
  /// Called with the output file just before it is published (tables, attributes). Collective.
  void on_finish(std::function<void(const io::File&)> finish);

  /// Runs steps first..steps: `initialise()` for a new run (the loop writes the step-0
  /// snapshot after it), `step(s)` for each step. Returns the exit code: ok, or requeue when
  /// stopped by a signal after a checkpoint. Collective.
  int run(const std::function<void()>& initialise, const std::function<void(long)>& step);
  /// The same, with the steps in blocks: `advance(first, count)` runs steps first..first+count-1
  /// (count <= settings().max_block; a block ends at every snapshot and checkpoint step, and the
  /// stop request is looked at between blocks, so all ranks stop at the same step).
  int run_blocks(const std::function<void()>& initialise,
                 const std::function<void(long first, long count)>& advance);

  /// The step a restart continued from (0 for a new run).
  [[nodiscard]] long first_step() const noexcept { return first_step_; }
  [[nodiscard]] const TimeLoopSettings& settings() const noexcept { return settings_; }
  /// The time of step `step` (step * dt): the one formula the snapshots' times use too.
  [[nodiscard]] double time_of(long step) const noexcept {
    return static_cast<double>(step) * settings_.dt;
  }
  /// The output being written (during run(); nullptr without --output).
  [[nodiscard]] const io::File* output() const noexcept { return out_ ? &out_->file() : nullptr; }

 private:
  struct State {
    std::string name;
    std::function<void(const io::File&, const std::string&)> save, load;
  };
  struct Series {
    std::string path;
    io::Selection box;
    io::Extents shape;
    hid_t type = H5I_INVALID_HID;
    SnapshotOptions options;
    std::function<void(io::TimeSeries&, double)> append;
    std::optional<io::TimeSeries> written;
  };

  [[nodiscard]] std::string fingerprint() const;
  [[nodiscard]] long block_after(long done, long max_block) const;
  int run_in_blocks(const std::function<void()>& initialise,
                    const std::function<void(long, long)>& advance, long max_block);
  void snapshot(double time);
  void write_checkpoint(long step);
  long restart();
  void finish();

  App& app_;
  const CheckpointFlags& flags_;
  TimeLoopSettings settings_;
  std::string checkpoint_path_;
  std::vector<State> states_;
  std::vector<Series> series_;
  std::function<void(const io::File&)> save_extra_, load_extra_, finish_;
  std::optional<io::AtomicFile> out_;
  long first_step_ = 0;
};

}  // namespace spmd
