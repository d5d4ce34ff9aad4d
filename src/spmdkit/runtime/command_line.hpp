#pragma once
// The shared command line of every spmdkit app, on CLI11: --help, --version, --config FILE (TOML),
// --output PATH, --json, --quiet, --progress. An app adds its own options to cli() before parse().
//
// CLI11 is only declared here: its header costs ~10 s of compile time in every translation unit
// (in Debian's header-only build), so only those that declare options include it -- through
// spmdkit/spmdkit.hpp or spmdkit/runtime/cli.hpp.
#include <memory>
#include <set>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace spmd {

/// The options every app has.
struct CommonOptions {
  std::string output;       ///< where the app writes its results
  std::string config_file;  ///< the TOML file options were read from, if any
  bool json = false;        ///< one-line JSON summary on rank 0's stdout (and no other stdout)
  bool quiet = false;       ///< no human-readable output
  bool progress = false;    ///< a progress line on rank 0's stderr
  bool io_report = false;   ///< at the end, what the parallel HDF5 transfers really did
};

/// Thrown (on every rank alike) when the command line asked for --help or --version: the text has
/// been printed and the run ends successfully without doing anything.
struct ExitRequest {
  int exit_code = 0;
};

class CommandLine {
 public:
  /// The program is `program` (default "spmd-" + app_name); --version shows `app_version` (an
  /// app's own version; default: spmdkit's) with spmdkit's version and commit.
  CommandLine(std::string app_name, std::string description, std::string default_output = {},
              std::string program = {}, std::string app_version = {});
  ~CommandLine();
  // Not movable: the options CLI11 holds point into common_.
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  /// Add the app's own options here before parse().
  [[nodiscard]] CLI::App& cli() noexcept { return *cli_; }

  /// Parses argv. Every rank parses the same argv and reaches the same verdict, so errors need no
  /// communication: throws UsageError on bad input, ExitRequest after --help/--version (printed
  /// only where `print` is true, i.e. on rank 0).
  void parse(int argc, const char* const* argv, bool print);

  [[nodiscard]] const CommonOptions& common() const noexcept { return common_; }
  [[nodiscard]] bool parsed() const noexcept { return parsed_; }

  /// Every option's effective value as TOML (for provenance: enough to repeat the run).
  [[nodiscard]] std::string config_toml() const;

 private:
  std::unique_ptr<CLI::App> cli_;
  CommonOptions common_;
  bool parsed_ = false;
};

/// Option groups that hold how a run is carried out, not what it computes: the task farm's
/// (FarmFlags) and the checkpoints' (CheckpointFlags). A resume or restart may change them.
inline const std::string farm_option_group = "Task farm";
inline const std::string checkpoint_option_group = "Checkpoints";

/// Every option of `cli` that can change a run's results, one "--name=value" line each, sorted:
/// all options except those of the farm and checkpoint groups, --output, --config (its values are
/// counted), the display flags (--json, --quiet, --progress), --help/--version, hidden (test)
/// options and those named in `may_change` ("--steps": a restart may run further).
[[nodiscard]] std::string configuration_fingerprint(const CLI::App& cli,
                                                    const std::set<std::string>& may_change = {});

/// The first line where two fingerprints differ, as "--name was A, is B now" (empty if equal).
[[nodiscard]] std::string first_difference(const std::string& before, const std::string& now);

}  // namespace spmd
