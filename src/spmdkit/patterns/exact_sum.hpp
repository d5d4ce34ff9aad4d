#pragma once
// An exact floating-point accumulator: the sum of any doubles, in any order, split over any
// number of ranks, is the same integer multiple of 2^-1074 (the smallest subnormal), so results
// are bit-identical for every rank count and data order. Conversion to double at the end is
// faithful (error below 1 ulp of the exact sum) and deterministic.
//
// Cost: on the span path, for data from memory, about as much as a plain sum where the CPU has
// AVX2 and FMA (1.2-1.4 times a vectorised sum's time; about 2 in cache); two floating-point
// adds per value otherwise (a handful of integer operations one by one); merging two
// accumulators, or an MPI all-reduce of them, is a sum of 70 int64 limbs.
#include <array>
#include <bit>
#include <cstdint>
#include <span>

#include "spmdkit/runtime/comm.hpp"

namespace spmd {

class ExactSum {
 public:
  static constexpr int limb_bits = 32;
  static constexpr int limb_count = 70;  ///< 2240 bits: 2098 for the double range + headroom

  void add(double value) noexcept;
  /// Adds every value, exactly and much faster than one by one. Where the CPU has AVX2 and FMA,
  /// blocks of 2048 values are pre-rounded to two or four levels of fixed grids (three vector
  /// operations per value and level) and taken when nothing is left over -- blocks spanning up
  /// to ~160 bits; other blocks, and every block elsewhere, split each value in two halves that
  /// go, by exponent, into floating-point buckets whose sums stay exact (two adds per value, no
  /// carries). Uses 128 KiB of scratch per thread (allocated on the first call: may throw
  /// std::bad_alloc).
  void add(std::span<const double> values);
  void merge(const ExactSum& other) noexcept;
  /// The sum rounded to double (faithfully). +-inf when it overflows; NaN if a NaN or both
  /// infinities were added.
  [[nodiscard]] double value() const noexcept;

  /// Collective: the exact sum over every rank of `comm` (order-independent integer sums).
  void all_reduce(const Comm& comm);

 private:
  void normalize() noexcept;
  std::array<std::int64_t, limb_count> limbs_{};  // little-endian, each holds a signed digit
  std::int64_t pending_ = 0;                      // adds since the last normalize
  std::int64_t nan_ = 0;
  std::int64_t positive_infinity_ = 0;
  std::int64_t negative_infinity_ = 0;
};

/// Collective: the sum of every rank's values, bit-identical for any rank count and order;
/// faithful: within 1 ulp of the exact sum.
[[nodiscard]] double reproducible_sum(const Comm& comm, std::span<const double> values);
/// Collective: reproducible_sum / the total count (two roundings: within 1.5 ulp of the exact
/// mean); NaN for no values.
[[nodiscard]] double reproducible_mean(const Comm& comm, std::span<const double> values);
/// Collective: sum of x[i] * y[i], each product split exactly (FMA) into two doubles, so the
/// result is the faithful rounding of the exact dot product (barring under/overflow of a product).
[[nodiscard]] double reproducible_dot(const Comm& comm, std::span<const double> x,
                                      std::span<const double> y);

namespace detail {
/// The span path without the AVX2 blocks (the path of CPUs without AVX2): for tests and
/// benchmarks on machines that have it.
void add_with_buckets(ExactSum& sum, std::span<const double> values);
}  // namespace detail

// Inline: called once per value in tight loops.
inline void ExactSum::add(double value) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  const auto exponent = static_cast<int>((bits >> 52) & 0x7ff);
  std::uint64_t mantissa = bits & ((std::uint64_t{1} << 52) - 1);
  const bool negative = (bits >> 63) != 0;
  if (exponent == 0x7ff) {
    if (mantissa != 0) {
      ++nan_;
    } else if (negative) {
      ++negative_infinity_;
    } else {
      ++positive_infinity_;
    }
    return;
  }
  // value = mantissa * 2^(shift - 1074), shift counted from the smallest subnormal.
  int shift = 0;
  if (exponent != 0) {
    mantissa |= std::uint64_t{1} << 52;
    shift = exponent - 1;
  }
  const int limb = shift / limb_bits;
  const int offset = shift % limb_bits;
  // mantissa << offset spans at most 53 + 31 = 84 bits: three 32-bit digits. (Unsigned shifts
  // wrap, so the low digit is right even where mantissa << offset overflows 64 bits.)
  constexpr std::uint64_t mask = 0xffffffffULL;
  const std::uint64_t digit0 = (mantissa << offset) & mask;
  const std::uint64_t digit1 = (mantissa >> (limb_bits - offset)) & mask;
  const std::uint64_t digit2 = offset == 0 ? 0 : (mantissa >> (64 - offset)) & mask;
  const std::int64_t sign = negative ? -1 : 1;
  limbs_[limb] += sign * static_cast<std::int64_t>(digit0);
  limbs_[limb + 1] += sign * static_cast<std::int64_t>(digit1);
  limbs_[limb + 2] += sign * static_cast<std::int64_t>(digit2);
  // Each limb moves by less than 2^32 per add: normalize long before 2^63 could be reached.
  if (++pending_ >= (std::int64_t{1} << 29)) normalize();
}

}  // namespace spmd
