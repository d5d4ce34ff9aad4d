#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al., SC11): the numbers of sample i are
// a pure function of (seed, i), so any rank can produce any sample's numbers without a shared
// stream -- a Monte Carlo run split over P ranks draws exactly the numbers of the serial run, and
// its result is bit-identical for every P. Passes BigCrush; checked against Random123's known
// answers.
//
//   spmd::Philox rng(seed);
//   auto [x, y] = rng.uniform_pair(i);    // two doubles in [0, 1) for sample i
#include <array>
#include <cstdint>
#include <utility>

namespace spmd {

class Philox {
 public:
  using Counter = std::array<std::uint32_t, 4>;
  using Key = std::array<std::uint32_t, 2>;

  explicit constexpr Philox(std::uint64_t seed) noexcept
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)} {}

  /// The raw Philox4x32-10 block of `counter` under `key`.
  [[nodiscard]] static constexpr Counter block(Counter counter, Key key) noexcept {
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53} * counter[0];
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57} * counter[2];
      counter = {static_cast<std::uint32_t>(p1 >> 32) ^ counter[1] ^ key[0],
                 static_cast<std::uint32_t>(p1),
                 static_cast<std::uint32_t>(p0 >> 32) ^ counter[3] ^ key[1],
                 static_cast<std::uint32_t>(p0)};
      key[0] += 0x9E3779B9;
      key[1] += 0xBB67AE85;
    }
    return counter;
  }

  /// 128 random bits for (index, stream): stream tells apart several blocks of one sample.
  [[nodiscard]] constexpr std::pair<std::uint64_t, std::uint64_t> bits(
      std::uint64_t index, std::uint32_t stream = 0) const noexcept {
    const Counter out = block(
        {static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), stream, 0},
        key_);
    return {(std::uint64_t{out[1]} << 32) | out[0], (std::uint64_t{out[3]} << 32) | out[2]};
  }

  /// Two doubles in [0, 1) with 53 random bits each.
  [[nodiscard]] constexpr std::pair<double, double> uniform_pair(
      std::uint64_t index, std::uint32_t stream = 0) const noexcept {
    const auto [a, b] = bits(index, stream);
    return {static_cast<double>(a >> 11) * 0x1.0p-53, static_cast<double>(b >> 11) * 0x1.0p-53};
  }

 private:
  Key key_;
};

}  // namespace spmd
