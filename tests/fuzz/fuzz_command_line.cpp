// libFuzzer: the shared command line and its TOML config files (src/spmdkit/runtime/
// command_line.cpp). Input: NUL-separated arguments; after a first argument "@config", the rest
// is a config file's text. Property: parsing ends in success, spmd::UsageError or ExitRequest
// (exit 2 or a printed help) -- never another exception, a crash or a sanitizer report.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "spmdkit/runtime/cli.hpp"
#include "spmdkit/runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args{"spmd-fuzz"};
  std::string config_path;
  if (input.starts_with("@config")) {
    config_path = "/tmp/spmd-fuzz-config-" + std::to_string(getpid()) + ".toml";
    std::ofstream(config_path, std::ios::binary) << input.substr(input.find('\n') + 1);
    args.insert(args.end(), {"--config", config_path});
  } else {
    std::size_t start = 0;
    while (start <= input.size()) {
      const auto end = input.find('\0', start);
      args.emplace_back(input.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  spmd::CommandLine command_line("fuzz", "a fuzzed app", "fuzz.h5");
  std::uint64_t steps = 10;
  std::uint32_t ranks = 1;
  double dt = 0.1;
  std::string name;
  std::vector<std::string> inputs;
  bool flag = false;
  auto& cli = command_line.cli();
  cli.add_option("--steps", steps, "steps")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000}));
  cli.add_option("--ranks", ranks, "ranks");
  cli.add_option("--dt", dt, "time step");
  cli.add_option("--name", name, "a name");
  cli.add_option("inputs", inputs, "input files");
  cli.add_flag("--flag", flag, "a flag");
  try {
    command_line.parse(static_cast<int>(argv.size()), argv.data(), false);
  } catch (const spmd::UsageError&) {
  } catch (const spmd::ExitRequest&) {
  }
  if (!config_path.empty()) std::remove(config_path.c_str());
  return 0;
}
