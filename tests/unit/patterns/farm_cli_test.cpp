// A farm's fingerprint is the app's configuration: what changes results is in it, the farm's
// own options, the output, display flags and hidden test options are not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spmdkit/patterns/farm_cli.hpp"
#include "spmdkit/runtime/cli.hpp"

namespace {

std::string fingerprint_of(std::vector<const char*> argv) {
  spmd::CommandLine command_line("fingerprint", "a test app", "out.h5");
  auto& cli = command_line.cli();
  std::uint64_t count = 10;
  double scale = 1;
  bool exact = false;
  int delay = 0;
  std::vector<std::string> inputs;
  cli.add_option("--count", count, "count")->capture_default_str();
  cli.add_option("--scale", scale, "scale");
  cli.add_flag("--exact", exact, "exact");
  cli.add_option("--test-delay", delay)->group("");
  cli.add_option("inputs", inputs, "inputs");
  spmd::FarmFlags farm;
  farm.declare(cli);
  argv.insert(argv.begin(), "spmd-fingerprint");
  command_line.parse(static_cast<int>(argv.size()), argv.data(), false);
  return farm.options(command_line.common().output).fingerprint;
}

TEST(FarmFingerprint, IsTheConfigurationWithoutFarmOutputAndDisplayOptions) {
  const std::string base = fingerprint_of({"a", "b", "--count", "5"});
  EXPECT_EQ(base, "spmd-fingerprint\n--count=5\n--exact=\n--scale=1\ninputs=a,b");
  // Not parameters: the farm's own options, the output, display flags, hidden test options.
  EXPECT_EQ(fingerprint_of({"a", "b", "--count", "5", "--resume", "--batch", "7", "-o", "x.h5",
                            "--json", "--quiet", "--test-delay", "3"}),
            base);
  // Parameters: any other value, a flag, a default made explicit differently.
  EXPECT_NE(fingerprint_of({"a", "b", "--count", "6"}), base);
  EXPECT_NE(fingerprint_of({"a", "c", "--count", "5"}), base);
  EXPECT_NE(fingerprint_of({"a", "b", "--count", "5", "--exact"}), base);
  EXPECT_NE(fingerprint_of({"a", "b"}), base);  // --count 10 (its default)
}

}  // namespace
