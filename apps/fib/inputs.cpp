#include "inputs.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <istream>
#include <random>

#include <fmt/format.h>

#include <spmdkit/runtime.hpp>

namespace fib {

namespace {

// std::getline, but a line may not exceed max_line_bytes: a file without line breaks (a binary,
// /dev/zero) is bad input, not a reason to fill the memory.
bool read_line(std::istream& in, std::string& line, const std::string& path, std::size_t number) {
  line.clear();
  for (int c = in.get(); c != std::char_traits<char>::eof(); c = in.get()) {
    if (c == '\n') return true;
    line.push_back(static_cast<char>(c));
    if (line.size() > max_line_bytes) {
      throw spmd::UsageError(
          fmt::format("{}:{}: a line of more than {} bytes", path, number, max_line_bytes));
    }
  }
  return !line.empty();
}

}  // namespace

std::uint64_t parse_n(std::string_view text, std::string_view where, std::uint64_t max_n) {
  const std::string_view trimmed = spmd::trim_blanks(text);
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), n);
  if (trimmed.empty() || error != std::errc{} || end != trimmed.data() + trimmed.size()) {
    const bool negative = trimmed.starts_with('-');
    throw spmd::UsageError(
        fmt::format("{}: '{}' is not {}", where, trimmed,
                    negative ? "allowed: n must not be negative" : "a non-negative integer"));
  }
  if (n > max_n) {
    throw spmd::UsageError(
        fmt::format("{}: n = {} is above --max-n {} (raise --max-n to allow it)", where, n, max_n));
  }
  return n;
}

std::vector<std::uint64_t> skewed_inputs(std::uint64_t count, std::uint64_t max_n,
                                         std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<std::uint64_t> inputs;
  inputs.reserve(count);
  const double log_span = std::log(static_cast<double>(max_n) + 1.0);
  for (std::uint64_t i = 0; i < count; ++i) {
    // 53 random bits -> [0, 1) the same way everywhere (no distribution objects, whose
    // algorithms differ between standard libraries).
    const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
    const auto n = static_cast<std::uint64_t>(std::exp(u * log_span) - 1.0);
    inputs.push_back(std::min(n, max_n));
  }
  return inputs;
}

std::vector<std::uint64_t> resolve_inputs(const InputOptions& options) {
  const int sources = (options.inputs.empty() ? 0 : 1) + (options.inputs_file.empty() ? 0 : 1) +
                      (options.random_count == 0 ? 0 : 1);
  if (sources != 1) {
    throw spmd::UsageError(
        "give exactly one of --inputs N,N,..., --inputs-file FILE or --random COUNT");
  }
  std::vector<std::uint64_t> inputs;
  if (!options.inputs.empty()) {
    for (const std::string& text : options.inputs) {
      inputs.push_back(parse_n(text, "--inputs", options.max_n));
    }
  } else if (!options.inputs_file.empty()) {
    std::error_code error;
    if (std::filesystem::is_directory(options.inputs_file, error)) {
      throw spmd::UsageError(fmt::format("--inputs-file {} is a directory", options.inputs_file));
    }
    std::ifstream in(options.inputs_file);
    if (!in)
      throw spmd::UsageError(fmt::format("cannot read --inputs-file {}", options.inputs_file));
    std::string line;
    for (std::size_t number = 1; read_line(in, line, options.inputs_file, number); ++number) {
      const auto start = line.find_first_not_of(" \t\r");
      if (start == std::string::npos || line[start] == '#') continue;  // blank or comment
      inputs.push_back(
          parse_n(line, fmt::format("{}:{}", options.inputs_file, number), options.max_n));
      if (inputs.size() > max_inputs) {
        throw spmd::UsageError(fmt::format("{} holds more than {} inputs (split it)",
                                           options.inputs_file, max_inputs));
      }
    }
    if (inputs.empty()) {
      throw spmd::UsageError(fmt::format("{} holds no inputs", options.inputs_file));
    }
  } else {
    inputs = skewed_inputs(options.random_count, options.max_n, options.seed);
  }
  return inputs;
}

}  // namespace fib
