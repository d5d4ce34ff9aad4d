#include "spmdkit/runtime/command_line.hpp"

#include <sstream>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/version.hpp"

namespace spmd {

CommandLine::CommandLine(std::string app_name, std::string description,
                         std::string default_output)
    : cli_(std::move(description), "spmd-" + app_name) {
  common_.output = std::move(default_output);
  cli_.set_version_flag("--version", cli_.get_name() + " " + std::string(version_string) +
                                         " (spmdkit, git " + std::string(git_commit) + ")");
  cli_.set_config("--config", "", "Read options from a TOML file (command-line values win)");
  cli_.add_option("-o,--output", common_.output, "Where to write the results")
      ->capture_default_str();
  cli_.add_flag("--json", common_.json,
                "Print a one-line JSON summary on stdout (rank 0) instead of the text report");
  cli_.add_flag("-q,--quiet", common_.quiet, "Print nothing but errors");
  cli_.add_flag("--progress", common_.progress, "Show a progress line on stderr");
  cli_.option_defaults()->always_capture_default();
}

void CommandLine::parse(int argc, const char* const* argv, bool print) {
  try {
    cli_.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    if (print) cli_.exit(e);
    throw ExitRequest{0};
  } catch (const CLI::CallForAllHelp& e) {
    if (print) cli_.exit(e);
    throw ExitRequest{0};
  } catch (const CLI::CallForVersion& e) {
    if (print) cli_.exit(e);
    throw ExitRequest{0};
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  if (auto* config = cli_.get_config_ptr(); config != nullptr && config->count() > 0) {
    common_.config_file = config->as<std::string>();
  }
  parsed_ = true;
}

std::string CommandLine::config_toml() const { return cli_.config_to_str(true, false); }

}  // namespace spmd
