#pragma once
// The command-line face of a task farm, shared by every master-worker app:
//   --schedule dynamic|static  --prefetch N  --batch N  --batch-ms MS  --attempts N
//   --retry-backoff S
//   --journal DIR  --no-journal  --resume  --journal-interval S  --stop-grace S
//   --time-left S  --deadline UNIX_SECONDS  --host-tag TAG=HOSTGLOB (and SPMD_FARM_TAGS)
//   --master-schedules-only
#include <string>

#include "spmdkit/patterns/farm_options.hpp"
#include "spmdkit/runtime/command_line.hpp"
#include "spmdkit/runtime/progress.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace spmd {

struct FarmFlags {
  std::string schedule = "dynamic";
  std::uint32_t prefetch = 4;
  std::uint32_t batch = 0;
  double batch_ms = 2.0;
  std::uint32_t attempts = 3;
  double retry_backoff = 0;  ///< seconds before a retry, doubled each time
  std::string journal;       ///< default: OUTPUT.journal
  bool no_journal = false;
  bool resume = false;
  double journal_interval = 1.0;
  double stop_grace = 30.0;
  double time_left = 0;                ///< seconds from the start the run may take (0: no limit)
  double deadline = 0;                 ///< Unix time by which the run must end (0: none)
  std::vector<std::string> host_tags;  ///< TAG=GLOB: ranks on hosts matching GLOB have TAG
  bool master_schedules_only = false;  ///< rank 0 runs no tasks (FarmOptions::master_runs_tasks)

  /// Adds the options to `cli` (in an option group "Task farm"), and remembers `cli`: its
  /// options, as parsed, make the run's fingerprint.
  void declare(CLI::App& cli);
  /// The options for a run writing `output`; the journal defaults to OUTPUT.journal. The
  /// fingerprint is the app's whole configuration (configuration_fingerprint): a journal is
  /// resumed only with the parameters that wrote it. An app may append lines of its own.
  [[nodiscard]] FarmOptions options(const std::string& output) const;
  [[nodiscard]] std::string journal_path(const std::string& output) const;
  /// This rank's tags: those of --host-tag whose pattern matches this host's name, and those
  /// listed in SPMD_FARM_TAGS (comma-separated) in this rank's environment.
  [[nodiscard]] std::vector<std::string> rank_tags() const;

 private:
  const CLI::App* cli_ = nullptr;
};

/// Shows a farm's progress on `progress`: done / known, failed, rate, ETA.
void attach_progress(FarmOptions& options, Progress& progress);

}  // namespace spmd
