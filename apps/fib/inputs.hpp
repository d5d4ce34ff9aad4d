#pragma once
// Where spmd-fib's inputs come from: a list, a file (one n per line), or a skewed random mix.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fib {

/// Bounds of the inputs (documented in --help and the README): F(10^9) has 209 million digits
/// (87 MB) and takes about a minute; beyond, GMP's numbers outgrow what it can address. 10^7
/// inputs per run (a sweep splits bigger sets): every input is a task the master holds.
inline constexpr std::uint64_t max_n_ceiling = 1'000'000'000;
inline constexpr std::uint64_t max_inputs = 10'000'000;
/// A line of --inputs-file longer than this is not an n (and /dev/zero has no lines at all).
inline constexpr std::size_t max_line_bytes = 4096;

struct InputOptions {
  std::vector<std::string> inputs;   ///< --inputs 10,200,3000
  std::string inputs_file;           ///< --inputs-file FILE
  std::uint64_t random_count = 0;    ///< --random COUNT
  std::uint64_t max_n = 10'000'000;  ///< --max-n: the largest n accepted (and drawn)
  std::uint64_t seed = 1;            ///< --seed of --random
};

/// Exactly one source must be given; every n is a non-negative integer <= max_n. Errors are
/// UsageErrors naming the offending text (and file line).
[[nodiscard]] std::vector<std::uint64_t> resolve_inputs(const InputOptions& options);

/// Parses one n ("where" names it in the error).
[[nodiscard]] std::uint64_t parse_n(std::string_view text, std::string_view where,
                                    std::uint64_t max_n);

/// COUNT inputs, log-uniform in [0, max_n]: mostly cheap, a few very expensive (the cost of F(n)
/// grows like n log n), the same for a given seed on every machine.
[[nodiscard]] std::vector<std::uint64_t> skewed_inputs(std::uint64_t count, std::uint64_t max_n,
                                                       std::uint64_t seed);

}  // namespace fib
