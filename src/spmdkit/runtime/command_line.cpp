#include "spmdkit/runtime/cli.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/text.hpp"
#include "spmdkit/version.hpp"

namespace spmd {

namespace {

// CLI11 converts numbers with strtoull/strtod, which wrap a negative unsigned value to 2^64-1,
// saturate one too large, and accept nan and inf: every numeric option of every app is checked
// here for those, so no app can forget. Ranges of their own the apps check after parsing.
void check_numbers(const CLI::App& cli) {
  for (const CLI::Option* option : cli.get_options()) {
    const std::string type = option->get_type_name();
    const bool is_unsigned = type.starts_with("UINT");
    const bool is_signed = !is_unsigned && type.starts_with("INT");
    const bool is_float = type.starts_with("FLOAT") || type.starts_with("NUMBER");
    if (!is_unsigned && !is_signed && !is_float) continue;
    const std::string name = option->get_name();
    for (const std::string& result : option->results()) {
      const std::string text(trim_blanks(result));
      if (text.empty()) {
        throw UsageError(fmt::format("{} needs a number, got an empty value (see --help)", name));
      }
      const char* begin = text.data();
      const char* end = text.data() + text.size();
      if (is_unsigned) {
        if (text.starts_with('-')) {
          throw UsageError(fmt::format("{} must not be negative, got {} (see --help)", name,
                                       printable(text, 80)));
        }
        std::uint64_t value = 0;
        if (std::from_chars(begin, end, value).ec == std::errc::result_out_of_range) {
          throw UsageError(
              fmt::format("{} is too large: {} (see --help)", name, printable(text, 80)));
        }
      } else if (is_signed) {
        std::int64_t value = 0;
        if (std::from_chars(begin, end, value).ec == std::errc::result_out_of_range) {
          throw UsageError(
              fmt::format("{} is out of range: {} (see --help)", name, printable(text, 80)));
        }
      } else {
        char* parsed_end = nullptr;
        const double value = std::strtod(text.c_str(), &parsed_end);
        if (parsed_end != text.c_str() && !std::isfinite(value)) {
          throw UsageError(fmt::format("{} must be a finite number, got {} (see --help)", name,
                                       printable(text, 80)));
        }
      }
    }
  }
}

// CLI11 reads TOML leniently: an unknown key is ignored (a typo such as "stpes = 5" would run
// with the default) and a line it cannot read may be taken as something else. A config file is
// user input like the command line, so it is checked strictly first: every line is a comment, or
// `key = value` with a key that names an option of this app and a value that is a TOML string,
// number, boolean or one-line array. Sections are not used (every option is top-level).
void check_config_file(const CLI::App& cli, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("cannot read the config file {}", printable(path, 200)));
  std::set<std::string> known;
  for (const CLI::Option* option : cli.get_options()) {
    for (const std::string& name : option->get_lnames()) known.insert(name);
    if (option->get_lnames().empty()) known.insert(option->get_name(false, true));
  }
  static const std::regex line_form(R"(^([A-Za-z0-9_-]+)\s*=\s*(.+)$)");
  static const std::regex value_form(
      R"(^("([^"\\]|\\.)*"|'[^']*'|[+-]?[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?|[+-]?\.[0-9]+([eE][+-]?[0-9]+)?|0x[0-9A-Fa-f]+|true|false|\[.*\])\s*(#.*)?$)");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text(trim_blanks(line));
    if (text.empty() || text.starts_with('#')) continue;
    const auto where = [&] { return fmt::format("{} line {}", printable(path, 200), number); };
    std::smatch match;
    if (!std::regex_match(text, match, line_form)) {
      throw UsageError(
          fmt::format("{}: expected 'option = value', got '{}'", where(), printable(text, 80)));
    }
    const std::string key = match[1].str();
    if (known.count(key) == 0 || key == "config") {
      throw UsageError(
          fmt::format("{}: unknown option '{}' (see --help)", where(), printable(key, 80)));
    }
    if (!std::regex_match(match[2].str(), value_form)) {
      throw UsageError(fmt::format("{}: '{}' is not a TOML value (a string needs quotes)", where(),
                                   printable(match[2].str(), 80)));
    }
  }
}

// Writing the results must never destroy what the run reads (`spmd-wordcount in.txt -o in.txt`)
// or another of its outputs (`--checkpoint x.h5 -o x.h5`): --output may not name the same file as
// any other argument. A value names a file when it exists (then the same inode counts, whatever
// the spelling), or when it looks like a path (it has a '/' or a '.') and spells the same path.
void refuse_output_over_other_arguments(const CLI::App& cli, const std::string& output) {
  namespace fs = std::filesystem;
  if (output.empty()) return;
  std::error_code error;
  const bool output_exists = fs::exists(output, error);
  const fs::path output_path = fs::absolute(output, error).lexically_normal();
  for (const CLI::Option* option : cli.get_options()) {
    if (option->check_lname("output")) continue;
    for (const std::string& value : option->results()) {
      if (value.empty()) continue;
      bool same = false;
      if (output_exists && fs::exists(value, error)) {
        same = fs::equivalent(value, output, error) && !error;
      } else if (value.find_first_of("/.") != std::string::npos) {
        same = fs::absolute(value, error).lexically_normal() == output_path;
      }
      if (same) {
        throw UsageError(
            fmt::format("--output {} is also given as {} {}: the results would "
                        "overwrite it (choose another --output)",
                        printable(output, 200), option->get_name(), printable(value, 200)));
      }
    }
  }
}

}  // namespace

CommandLine::CommandLine(std::string app_name, std::string description, std::string default_output,
                         std::string program, std::string app_version)
    : cli_(std::make_unique<CLI::App>(std::move(description),
                                      program.empty() ? "spmd-" + app_name : std::move(program))) {
  common_.output = std::move(default_output);
  cli_->set_version_flag(
      "--version", app_version.empty() ? fmt::format("{} {} (spmdkit, git {})", cli_->get_name(),
                                                     version_string, git_commit)
                                       : fmt::format("{} {} (spmdkit {}, git {})", cli_->get_name(),
                                                     app_version, version_string, git_commit));
  cli_->set_config("--config", "", "Read options from a TOML file (command-line values win)");
  cli_->add_option("-o,--output", common_.output, "Where to write the results")
      ->capture_default_str();
  cli_->add_flag("--json", common_.json,
                 "Print a one-line JSON summary on stdout (rank 0) instead of the text report");
  cli_->add_flag("-q,--quiet", common_.quiet, "Print nothing but errors");
  cli_->add_flag("--progress", common_.progress, "Show a progress line on stderr");
  cli_->add_flag("--io-report", common_.io_report,
                 "At the end, report what each parallel HDF5 transfer really did (collective or "
                 "not and why, bytes, time, layout, alignment); under --json as \"io\"");
  cli_->option_defaults()->always_capture_default();
}

void CommandLine::parse(int argc, const char* const* argv, bool print) {
  try {
    cli_->parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    if (print) cli_->exit(e);
    throw ExitRequest{0};
  } catch (const CLI::CallForAllHelp& e) {
    if (print) cli_->exit(e);
    throw ExitRequest{0};
  } catch (const CLI::CallForVersion& e) {
    if (print) cli_->exit(e);
    throw ExitRequest{0};
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  if (auto* config = cli_->get_config_ptr(); config != nullptr && config->count() > 0) {
    common_.config_file = config->as<std::string>();
    check_config_file(*cli_, common_.config_file);
  }
  check_numbers(*cli_);
  refuse_output_over_other_arguments(*cli_, common_.output);
  parsed_ = true;
}

CommandLine::~CommandLine() = default;

std::string CommandLine::config_toml() const { return cli_->config_to_str(true, false); }

// The first line ("--name=value") where two fingerprints differ, said as a change of that option.
std::string first_difference(const std::string& then, const std::string& now) {
  const auto lines = [](const std::string& text) {
    std::map<std::string, std::string> by_name;
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto end = std::min(text.find('\n', start), text.size());
      const std::string line = text.substr(start, end - start);
      const auto eq = line.find('=');
      by_name[line.substr(0, eq)] = eq == std::string::npos ? "" : line.substr(eq + 1);
      start = end + 1;
    }
    return by_name;
  };
  const auto shown = [](const std::string& text) {
    if (text.empty()) return std::string("unset");
    return text.size() > 200 ? text.substr(0, 200) + "..." : text;
  };
  const auto before = lines(then);
  const auto after = lines(now);
  for (const auto& [name, value] : after) {
    const auto it = before.find(name);
    if (it == before.end()) return fmt::format("{} is new", shown(name));
    if (it->second != value) {
      return fmt::format("{} was {}, is {} now", shown(name), shown(it->second), shown(value));
    }
  }
  for (const auto& [name, value] : before) {
    if (!after.contains(name)) return fmt::format("{} is gone", shown(name));
  }
  return "they differ";
}

std::string configuration_fingerprint(const CLI::App& cli,
                                      const std::set<std::string>& may_change) {
  static const std::set<std::string> not_parameters = {"--output",  "--config",   "--json",
                                                       "--quiet",   "--progress", "--help",
                                                       "--version", "--io-report"};
  std::vector<std::string> lines;
  for (const CLI::Option* option : cli.get_options()) {
    const std::string name =
        option->get_lnames().empty() ? option->get_name() : "--" + option->get_lnames().front();
    const std::string& group = option->get_group();
    if (group == farm_option_group || group == checkpoint_option_group || group.empty() ||
        not_parameters.contains(name) || may_change.contains(name)) {
      continue;
    }
    const auto& given =
        option->reduced_results();  // as the app sees it (a repeated option: the last)
    std::string value = option->get_default_str();
    if (option->count() > 0)
      value = given.empty() ? "set" : fmt::format("{}", fmt::join(given, ","));
    lines.push_back(name + "=" + value);
  }
  std::sort(lines.begin(), lines.end());
  return fmt::format("{}\n{}", cli.get_name(), fmt::join(lines, "\n"));
}

}  // namespace spmd
