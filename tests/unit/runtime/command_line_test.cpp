// The shared command line: standard options, TOML config files, and errors that every rank
// detects alike (so rank 0 alone can report them).
#include <cstdio>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/runtime/cli.hpp"
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
  const std::string path =
      spmd::test::scratch_path("config-" + std::to_string(spmd::test::world().rank()) + ".toml");
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

namespace {

// The message of the UsageError that parsing `args` throws, or "" if it throws none.
std::string usage_error(spmd::CommandLine& command_line, std::vector<const char*> args) {
  try {
    parse(command_line, std::move(args));
  } catch (const spmd::UsageError& e) {
    return e.what();
  }
  return "";
}

std::string write_config(const std::string& stem, const std::string& text) {
  const std::string path =
      spmd::test::scratch_path(stem + "-" + std::to_string(spmd::test::world().rank()) + ".toml");
  std::ofstream(path) << text;
  return path;
}

TEST(CommandLine, NumbersThatWrapOrSaturateAreRefused) {
  std::uint64_t count = 1;
  std::int32_t steps = 1;
  double dt = 0.1;
  auto make = [&] {
    auto command_line = std::make_unique<spmd::CommandLine>("demo", "a demo");
    command_line->cli().add_option("--count", count);
    command_line->cli().add_option("--steps", steps);
    command_line->cli().add_option("--dt", dt);
    return command_line;
  };
  EXPECT_NE(usage_error(*make(), {"--count", "-1"}).find("--count must not be negative"),
            std::string::npos);
  EXPECT_NE(usage_error(*make(), {"--count", "18446744073709551616"}).find("--count is too large"),
            std::string::npos);
  EXPECT_NE(usage_error(*make(), {"--steps", "99999999999999999999"}), "");
  for (const char* bad : {"nan", "inf", "-inf", "1e400", "NaN"}) {
    EXPECT_NE(usage_error(*make(), {"--dt", bad}).find("--dt must be a finite number"),
              std::string::npos)
        << bad;
  }
  EXPECT_EQ(usage_error(*make(), {"--count", "18446744073709551615", "--dt", "1e-300"}), "");
  EXPECT_EQ(count, 18446744073709551615ULL);
}

TEST(CommandLine, ConfigFileTyposAndSyntaxErrorsAreRefused) {
  int steps = 10;
  auto make = [&] {
    auto command_line = std::make_unique<spmd::CommandLine>("demo", "a demo");
    command_line->cli().add_option("--steps", steps);
    command_line->cli().add_option("--max-depth", steps);
    return command_line;
  };
  const std::string typo = write_config("typo", "# a comment\nstpes = 5\n");
  EXPECT_NE(usage_error(*make(), {"--config", typo.c_str()}).find("line 2: unknown option 'stpes'"),
            std::string::npos);
  const std::string no_equals = write_config("no-equals", "steps 100\n");
  EXPECT_NE(usage_error(*make(), {"--config", no_equals.c_str()}).find("line 1: expected"),
            std::string::npos);
  const std::string section = write_config("section", "[[[\n");
  EXPECT_NE(usage_error(*make(), {"--config", section.c_str()}).find("line 1"), std::string::npos);
  const std::string underscore = write_config("underscore", "max_depth = 2\n");
  EXPECT_NE(
      usage_error(*make(), {"--config", underscore.c_str()}).find("unknown option 'max_depth'"),
      std::string::npos);
  std::remove(underscore.c_str());
  const std::string bare = write_config("bare", "output = results.h5\n");
  EXPECT_NE(usage_error(*make(), {"--config", bare.c_str()}).find("not a TOML value"),
            std::string::npos);
  const std::string good =
      write_config("good", "steps = 5 # five\nmax-depth = 2\noutput = \"x.h5\"\njson = true\n");
  EXPECT_EQ(usage_error(*make(), {"--config", good.c_str()}), "");
  for (const auto& path : {typo, no_equals, section, bare, good}) std::remove(path.c_str());
}

TEST(CommandLine, OutputThatIsAlsoAnInputIsRefused) {
  const std::string input =
      spmd::test::scratch_path("input-" + std::to_string(spmd::test::world().rank()) + ".txt");
  std::ofstream(input) << "precious\n";
  std::vector<std::string> paths;
  std::string checkpoint;
  auto make = [&] {
    auto command_line = std::make_unique<spmd::CommandLine>("demo", "a demo");
    command_line->cli().add_option("paths", paths);
    command_line->cli().add_option("--checkpoint", checkpoint);
    return command_line;
  };
  EXPECT_NE(usage_error(*make(), {input.c_str(), "-o", input.c_str()}).find("would overwrite"),
            std::string::npos);
  // The same file under another spelling.
  const std::string dotted = "/tmp/./" + input.substr(5);
  EXPECT_NE(usage_error(*make(), {input.c_str(), "--output", dotted.c_str()}), "");
  // Two outputs on one file, before either exists.
  EXPECT_NE(usage_error(*make(), {"--checkpoint", "/tmp/none/x.h5", "-o", "/tmp/none/x.h5"}), "");
  EXPECT_EQ(usage_error(*make(), {input.c_str(), "-o", "/tmp/none/other.h5"}), "");
  std::remove(input.c_str());
}

}  // namespace
