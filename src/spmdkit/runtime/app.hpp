#pragma once
// The entry point of every spmdkit app:
//
//   int main(int argc, char** argv) {
//     Options opt;
//     return spmd::run(argc, argv, {.name = "pi", .description = "Monte Carlo estimate of pi"},
//         [&](CLI::App& cli) { cli.add_option("--samples", opt.samples); },   // declare options
//         [&](spmd::App& app) { ... });                                     // the run itself
//   }
//
// spmd::run owns MPI start-up and shut-down, the shared command line, provenance and the --json
// summary, and above all the ending: an exception on any rank ends the whole job within seconds
// with exactly one line `spmd-<app>: error: <what> (rank R)` on stderr and a non-zero exit code,
// never a hang (see failure_agreement.hpp for how).
#include <chrono>
#include <concepts>
#include <cstdio>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "spmdkit/runtime/command_line.hpp"
#include "spmdkit/runtime/environment.hpp"
#include "spmdkit/runtime/progress.hpp"
#include "spmdkit/runtime/provenance.hpp"
#include "spmdkit/runtime/summary.hpp"

namespace spmd {

struct AppInfo {
  std::string name;            ///< "heat": the program is spmd-heat (unless `program` is given)
  std::string description;     ///< one line for --help
  std::string default_output;  ///< default of --output
  Threading threading = Threading::funneled;
  std::string version;  ///< the app's own version (--version, provenance); default: spmdkit's
  std::string program;  ///< the program's name in messages and --help; default spmd-<name>

  [[nodiscard]] std::string program_name() const {
    return program.empty() ? "spmd-" + name : program;
  }
};

/// What the body of a run sees: its communicator, options, provenance and summary.
class App {
 public:
  App(const Environment& env, AppInfo info, int argc, const char* const* argv);

  [[nodiscard]] const std::string& name() const noexcept { return info_.name; }
  [[nodiscard]] std::string program() const { return info_.program_name(); }
  [[nodiscard]] const Comm& comm() const noexcept { return env_.world(); }
  [[nodiscard]] int rank() const noexcept { return comm().rank(); }
  [[nodiscard]] int size() const noexcept { return comm().size(); }
  [[nodiscard]] bool is_root() const noexcept { return rank() == 0; }

  [[nodiscard]] CLI::App& cli() noexcept { return command_line_.cli(); }
  [[nodiscard]] const CommonOptions& options() const noexcept { return command_line_.common(); }
  [[nodiscard]] const Provenance& provenance() const noexcept { return provenance_; }
  [[nodiscard]] Summary& summary() noexcept { return summary_; }
  [[nodiscard]] double elapsed_seconds() const;

  /// Human-readable output goes to rank 0's stdout unless --quiet or --json.
  [[nodiscard]] bool prints() const noexcept {
    return is_root() && !options().quiet && !options().json;
  }
  template <class... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) const {
    if (prints()) {
      fmt::print(format, std::forward<Args>(args)...);
      std::fflush(stdout);
    }
  }
  /// A progress line on rank 0 when --progress was given (and not --quiet).
  [[nodiscard]] Progress progress(std::string label, std::uint64_t total) const;

  /// Parses the command line (collective; run() calls it before the body).
  void parse();
  [[nodiscard]] bool parsed() const noexcept { return command_line_.parsed(); }

 private:
  const Environment& env_;
  AppInfo info_;
  int argc_;
  const char* const* argv_;
  CommandLine command_line_;
  Provenance provenance_;
  Summary summary_;
  std::chrono::steady_clock::time_point start_;
};

using DeclareOptions = std::function<void(CLI::App&)>;
using RunBody = std::function<int(App&)>;

/// Runs `body` as the app described by `info`; returns the process exit code (see exit_codes.hpp).
int run(int argc, char** argv, AppInfo info, DeclareOptions declare, RunBody body);

/// Adapts bodies returning void (exit code 0) or int.
template <class Declare, class Body>
requires std::invocable<Declare, CLI::App&> && std::invocable<Body, App&>
int run(int argc, char** argv, AppInfo info, Declare&& declare, Body&& body) {
  RunBody wrapped = [&body](App& app) -> int {
    if constexpr (std::is_void_v<std::invoke_result_t<Body, App&>>) {
      std::invoke(body, app);
      return 0;
    } else {
      return static_cast<int>(std::invoke(body, app));
    }
  };
  return run(argc, argv, std::move(info), DeclareOptions(std::forward<Declare>(declare)),
             std::move(wrapped));
}

/// An app without options of its own.
template <class Body>
requires std::invocable<Body, App&>
int run(int argc, char** argv, AppInfo info, Body&& body) {
  return run(
      argc, argv, std::move(info), [](CLI::App&) {}, std::forward<Body>(body));
}

}  // namespace spmd
