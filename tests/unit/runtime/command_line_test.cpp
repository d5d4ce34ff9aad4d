// The shared command line: standard options, TOML config files, and errors that every rank
// detects alike (so rank 0 alone can report them).
#include <cstdio>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/runtime/command_line.hpp"
#include "spmdkit/runtime/error.hpp"
#include "test_support.hpp"

namespace {

// argv as CLI11 wants it, from string literals.
void parse(spmd::CommandLine& command_line, std::vector<const char*> args, bool print = false) {
  args.insert(args.begin(), "spmd-demo");
  command_line.parse(static_cast<int>(args.size()), args.data(), print);
}

TEST(CommandLine, DefaultsAndStandardFlags) {
  spmd::CommandLine command_line("demo", "a demo", "demo.h5");
  parse(command_line, {});
  EXPECT_EQ(command_line.common().output, "demo.h5");
  EXPECT_FALSE(command_line.common().json);
  EXPECT_FALSE(command_line.common().quiet);
  EXPECT_FALSE(command_line.common().progress);

  spmd::CommandLine with_flags("demo", "a demo", "demo.h5");
  parse(with_flags, {"--json", "--quiet", "--progress", "--output", "elsewhere.h5"});
  EXPECT_EQ(with_flags.common().output, "elsewhere.h5");
  EXPECT_TRUE(with_flags.common().json);
  EXPECT_TRUE(with_flags.common().quiet);
  EXPECT_TRUE(with_flags.common().progress);
  EXPECT_TRUE(with_flags.parsed());
}

TEST(CommandLine, AppOptions) {
  spmd::CommandLine command_line("demo", "a demo");
  int steps = 10;
  command_line.cli().add_option("--steps", steps, "time steps")->check(CLI::PositiveNumber);
  parse(command_line, {"--steps", "25"});
  EXPECT_EQ(steps, 25);

  spmd::CommandLine negative("demo", "a demo");
  negative.cli().add_option("--steps", steps, "time steps")->check(CLI::PositiveNumber);
  EXPECT_THROW(parse(negative, {"--steps", "-3"}), spmd::UsageError);
}

TEST(CommandLine, UnknownFlagIsAUsageErrorNamingIt) {
  spmd::CommandLine command_line("demo", "a demo");
  try {
    parse(command_line, {"--no-such-flag"});
    FAIL() << "expected a UsageError";
  } catch (const spmd::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--no-such-flag"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(command_line.parsed());
}

TEST(CommandLine, HelpAndVersionEndTheRunAndPrintOnlyWhenAsked) {
  for (const char* flag : {"--help", "--version"}) {
    spmd::CommandLine silent("demo", "a demo");
    testing::internal::CaptureStdout();
    EXPECT_THROW(parse(silent, {flag}, /*print=*/false), spmd::ExitRequest);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "") << flag;

    spmd::CommandLine loud("demo", "a demo");
    testing::internal::CaptureStdout();
    try {
      parse(loud, {flag}, /*print=*/true);
      ADD_FAILURE() << "expected ExitRequest for " << flag;
    } catch (const spmd::ExitRequest& request) {
      EXPECT_EQ(request.exit_code, 0);
    }
    const std::string printed = testing::internal::GetCapturedStdout();
    EXPECT_NE(printed.find(std::string(flag) == "--help" ? "--config" : "spmdkit"),
              std::string::npos)
        << printed;
  }
}

TEST(CommandLine, ConfigFileInTomlSetsOptionsAndCommandLineWins) {
  const std::string path = spmd::test::scratch_path(
      "config-" + std::to_string(spmd::test::world().rank()) + ".toml");
  {
    std::ofstream toml(path);
    toml << "steps = 40\nalpha = 0.25\noutput = \"from-config.h5\"\n";
  }
  spmd::CommandLine command_line("demo", "a demo");
  int steps = 0;
  double alpha = 0;
  command_line.cli().add_option("--steps", steps);
  command_line.cli().add_option("--alpha", alpha);
  parse(command_line, {"--config", path.c_str(), "--steps", "7"});
  EXPECT_EQ(steps, 7);
  EXPECT_DOUBLE_EQ(alpha, 0.25);
  EXPECT_EQ(command_line.common().output, "from-config.h5");
  EXPECT_EQ(command_line.common().config_file, path);
  const std::string toml = command_line.config_toml();
  EXPECT_NE(toml.find("steps=7"), std::string::npos) << toml;
  EXPECT_NE(toml.find("alpha=0.25"), std::string::npos) << toml;
  std::remove(path.c_str());
}

TEST(CommandLine, MissingConfigFileIsAUsageError) {
  spmd::CommandLine command_line("demo", "a demo");
  const std::string path = spmd::test::scratch_path("no-such-config.toml");
  EXPECT_THROW(parse(command_line, {"--config", path.c_str()}), spmd::UsageError);
}

}  // namespace
