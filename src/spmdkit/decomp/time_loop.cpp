#include "spmdkit/decomp/time_loop.hpp"

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/provenance_attributes.hpp"
#include "spmdkit/io/xdmf.hpp"
#include "spmdkit/runtime/cli.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/exit_codes.hpp"
#include "spmdkit/runtime/stop_request.hpp"

namespace spmd {

namespace fs = std::filesystem;

namespace {

// Attributes of a checkpoint file (its root group).
constexpr const char* step_attribute = "checkpoint_step";
constexpr const char* fingerprint_attribute = "checkpoint_configuration";
constexpr const char* program_attribute = "checkpoint_program";

std::string in_checkpoint(const std::string& path) { return "snapshots/" + path; }

}  // namespace

void CheckpointFlags::declare(CLI::App& cli) {
  const std::string& group = checkpoint_option_group;
  cli.add_option("--checkpoint-every", checkpoint_every,
                 "write a checkpoint every N steps (0: only when stopped by SIGUSR1/SIGTERM)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  cli.add_option("--checkpoint", checkpoint, "checkpoint file (default: OUTPUT.checkpoint.h5)")
      ->group(group);
  cli.add_option("--restart", restart,
                 "continue from this checkpoint (any rank count; same parameters)")
      ->group(group);
  cli.add_flag("--keep-checkpoint", keep_checkpoint,
               "keep the checkpoints after a complete run (default: removed)")
      ->group(group);
  cli.add_option("--test-signal-at-step", test_signal_at_step)->group("");
}

std::string CheckpointFlags::checkpoint_path(const App& app) const {
  if (!checkpoint.empty()) return checkpoint;
  const std::string& output = app.options().output;
  if (output.empty()) return app.name() + ".checkpoint.h5";
  return fs::path(output).replace_extension(".checkpoint.h5").string();
}

TimeLoop::TimeLoop(App& app, const CheckpointFlags& flags, TimeLoopSettings settings)
    : app_(app),
      flags_(flags),
      settings_(std::move(settings)),
      checkpoint_path_(flags.checkpoint_path(app)) {
  if (settings_.steps < 0)
    throw UsageError(
        fmt::format("the number of steps must not be negative, got {}", settings_.steps));
  if (settings_.snapshot_every < 0) {
    throw UsageError(fmt::format("the snapshot interval must not be negative, got {}",
                                 settings_.snapshot_every));
  }
  if (!app.options().output.empty() &&
      fs::path(checkpoint_path_) == fs::path(app.options().output)) {
    throw UsageError(fmt::format("the checkpoint {} would overwrite the output", checkpoint_path_));
  }
}

void TimeLoop::on_checkpoint(std::function<void(const io::File&)> save,
                             std::function<void(const io::File&)> load) {
  save_extra_ = std::move(save);
  load_extra_ = std::move(load);
}

void TimeLoop::on_finish(std::function<void(const io::File&)> finish) {
  finish_ = std::move(finish);
}

std::string TimeLoop::fingerprint() const {
  return configuration_fingerprint(app_.cli(), settings_.may_change_on_restart);
}

int TimeLoop::run(const std::function<void()>& initialise, const std::function<void(long)>& step) {
  return run_in_blocks(
      initialise,
      [&](long first, long count) {
        for (long s = first; s < first + count; ++s) step(s);
      },
      1);
}

int TimeLoop::run_blocks(const std::function<void()>& initialise,
                         const std::function<void(long, long)>& advance) {
  if (settings_.max_block < 1) throw UsageError("TimeLoop: max_block must be at least 1");
  return run_in_blocks(initialise, advance, settings_.max_block);
}

// Steps in the next block after step `done`: at most max_block, ending at the next step where
// something happens (a snapshot, a checkpoint, the test's signal, the last step).
long TimeLoop::block_after(long done, long max_block) const {
  long end = std::min(settings_.steps, done + max_block);
  const auto next_multiple = [done](long every) { return (done / every + 1) * every; };
  if (settings_.snapshot_every > 0) end = std::min(end, next_multiple(settings_.snapshot_every));
  if (flags_.checkpoint_every > 0) end = std::min(end, next_multiple(flags_.checkpoint_every));
  if (flags_.test_signal_at_step > done) end = std::min(end, flags_.test_signal_at_step);
  return end - done;
}

int TimeLoop::run_in_blocks(const std::function<void()>& initialise,
                            const std::function<void(long, long)>& advance, long max_block) {
  if (!app_.options().output.empty()) {
    out_.emplace(io::AtomicFile::create(app_.comm(), app_.options().output));
    io::write_provenance(out_->file(), app_.provenance(),
                         settings_.title.empty() ? app_.program() : settings_.title);
    for (Series& series : series_) {
      series.written.emplace(io::TimeSeries::create(out_->file(), series.path, series.type,
                                                    series.shape, series.options.series));
    }
  }
  if (flags_.restart.empty()) {
    initialise();
    snapshot(0.0);
  } else {
    first_step_ = restart();
  }
  StopRequest stop;
  auto progress = app_.progress("steps", static_cast<std::uint64_t>(settings_.steps));
  for (long done = first_step_; done < settings_.steps;) {
    const long count = block_after(done, max_block);
    advance(done + 1, count);
    done += count;
    const long s = done;
    if (s == flags_.test_signal_at_step && app_.rank() == app_.size() - 1) std::raise(SIGUSR1);
    const double time = time_of(s);
    const bool last = s == settings_.steps;
    if (last || (settings_.snapshot_every > 0 && s % settings_.snapshot_every == 0)) snapshot(time);
    progress.update(static_cast<std::uint64_t>(s));
    // Every rank asks at the same step, so all stop together (after the last step the work is
    // done: the run completes instead).
    if (!last && stop.agreed(app_.comm())) {
      write_checkpoint(s);
      progress.finish();
      app_.print(
          "{}: stopped by signal {} at step {}; checkpoint {}\n"
          "  continue with: --restart {}\n",
          app_.program(), stop.signal(), s, checkpoint_path_, checkpoint_path_);
      app_.summary().set("stopped_at_step", static_cast<std::int64_t>(s));
      app_.summary().set("checkpoint", checkpoint_path_);
      return exit_code::requeue;
    }
    if (flags_.checkpoint_every > 0 && s % flags_.checkpoint_every == 0 && !last)
      write_checkpoint(s);
  }
  progress.finish();
  finish();
  return exit_code::ok;
}

void TimeLoop::snapshot(double time) {
  for (Series& series : series_) {
    if (series.written) series.append(*series.written, time);
  }
}

// Everything needed to continue exactly: the state, the snapshots so far (copied frame by frame
// from the output being written), the app's extra data. Atomic, the one before kept as .prev.
void TimeLoop::write_checkpoint(long step) {
  auto checkpoint = io::AtomicFile::create(app_.comm(), checkpoint_path_, {.keep_previous = true});
  io::write_provenance(checkpoint.file(), app_.provenance(), app_.program() + " checkpoint");
  checkpoint.file().set_attribute(step_attribute, static_cast<std::int64_t>(step));
  checkpoint.file().set_attribute(fingerprint_attribute, fingerprint());
  checkpoint.file().set_attribute(program_attribute, app_.program());
  for (const State& state : states_) state.save(checkpoint.file(), "state/" + state.name);
  for (const Series& series : series_) {
    if (!series.written) continue;
    io::TimeSeriesOptions options = series.options.series;
    options.time_path = in_checkpoint(series.written->time_path());
    auto copy = io::TimeSeries::create(checkpoint.file(), in_checkpoint(series.path), series.type,
                                       series.shape, options);
    for (hsize_t i = 0; i < series.written->frames(); ++i) {
      copy.append_copy(*series.written, i, series.box);
    }
  }
  if (save_extra_) save_extra_(checkpoint.file());
  checkpoint.commit();
}

// Continues from a checkpoint written at any rank count; returns its step.
long TimeLoop::restart() {
  const std::string& path = flags_.restart;
  auto checkpoint = io::File::open(app_.comm(), path);
  for (const char* name : {step_attribute, fingerprint_attribute, program_attribute}) {
    if (!checkpoint.has_attribute(name)) {
      throw UsageError(fmt::format("{} is not a checkpoint (no attribute '{}')", path, name));
    }
  }
  const std::string program = checkpoint.string_attribute(program_attribute);
  if (program != app_.program()) {
    throw UsageError(
        fmt::format("{} is a checkpoint of {}, not of {}", path, program, app_.program()));
  }
  const std::string then = checkpoint.string_attribute(fingerprint_attribute);
  if (then != fingerprint()) {
    throw UsageError(
        fmt::format("{} was written by a run with other parameters ({}): restart "
                    "with the same parameters",
                    path, first_difference(then, fingerprint())));
  }
  const long step = checkpoint.scalar_attribute<std::int64_t>(step_attribute);
  if (step < 0 || step > settings_.steps) {
    throw UsageError(fmt::format("{} is at step {}, past the {} steps of this run", path, step,
                                 settings_.steps));
  }
  for (const State& state : states_) {
    if (!checkpoint.exists("state/" + state.name)) {
      throw UsageError(fmt::format("{} holds no state '{}'", path, state.name));
    }
    state.load(checkpoint, "state/" + state.name);
  }
  for (Series& series : series_) {
    if (!series.written) continue;
    const auto saved = io::TimeSeries::open(checkpoint, in_checkpoint(series.path), series.type);
    for (hsize_t i = 0; i < saved.frames(); ++i) series.written->append_copy(saved, i, series.box);
  }
  if (load_extra_) load_extra_(checkpoint);
  checkpoint.close();
  app_.print("{}: restarting from {} at step {}\n", app_.program(), path, step);
  app_.summary().set("restarted_at_step", static_cast<std::int64_t>(step));
  return step;
}

void TimeLoop::finish() {
  if (out_) {
    if (finish_) finish_(out_->file());
    out_->commit();
    if (app_.is_root()) {
      // The sidecar shows every 2-D/3-D series of the first such series' shape.
      std::optional<io::XdmfGrid> grid;
      std::vector<io::XdmfField> fields;
      std::vector<double> times;
      for (const Series& series : series_) {
        const std::size_t dims = series.shape.size();
        if (dims < 2 || dims > 3) continue;
        if (!grid) {
          grid = io::XdmfGrid{{series.shape.begin(), series.shape.end()},
                              series.options.series.grid_origin,
                              series.options.series.grid_spacing};
          times = series.written->times();
        } else if (std::vector<unsigned long long>(series.shape.begin(), series.shape.end()) !=
                   grid->shape) {
          continue;
        }
        const std::string name = series.options.name.empty()
                                     ? fs::path(series.path).filename().string()
                                     : series.options.name;
        fields.push_back(series.written->xdmf_field(name));
      }
      if (grid) {
        const fs::path output(app_.options().output);
        io::write_xdmf(fs::path(output).replace_extension(".xmf").string(),
                       output.filename().string(), *grid, times, fields);
      }
    }
  }
  // The run is complete: its checkpoints (and what a killed checkpoint write left) are moot.
  if (!flags_.keep_checkpoint && app_.is_root()) {
    std::error_code ignored;
    for (const char* suffix : {"", ".prev", ".tmp", ".reserve"}) {
      fs::remove(checkpoint_path_ + suffix, ignored);
    }
  }
  app_.summary().set("steps", static_cast<std::int64_t>(settings_.steps));
  if (!series_.empty() && series_.front().written) {
    app_.summary().set("snapshots", static_cast<std::int64_t>(series_.front().written->frames()));
  }
}

}  // namespace spmd
