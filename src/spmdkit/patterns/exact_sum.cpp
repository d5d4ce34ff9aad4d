#include "spmdkit/patterns/exact_sum.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include "spmdkit/runtime/check.hpp"

namespace spmd {

void ExactSum::add(double value) noexcept {
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

void ExactSum::normalize() noexcept {
  for (int i = 0; i + 1 < limb_count; ++i) {
    const std::int64_t carry = limbs_[i] >> limb_bits;  // floor division by 2^32
    limbs_[i] -= carry * (std::int64_t{1} << limb_bits);
    limbs_[i + 1] += carry;
  }
  pending_ = 0;
}

void ExactSum::merge(const ExactSum& other) noexcept {
  ExactSum copy = other;
  copy.normalize();
  normalize();
  for (int i = 0; i < limb_count; ++i) limbs_[i] += copy.limbs_[i];
  pending_ = 1;
  normalize();
  nan_ += other.nan_;
  positive_infinity_ += other.positive_infinity_;
  negative_infinity_ += other.negative_infinity_;
}

void ExactSum::all_reduce(MPI_Comm comm) {
  normalize();  // every limb in [0, 2^32) but the top: P ranks' sum cannot overflow int64
  std::array<std::int64_t, limb_count + 3> mine{};
  for (int i = 0; i < limb_count; ++i) mine[i] = limbs_[i];
  mine[limb_count] = nan_;
  mine[limb_count + 1] = positive_infinity_;
  mine[limb_count + 2] = negative_infinity_;
  std::array<std::int64_t, limb_count + 3> total{};
  check_mpi(MPI_Allreduce(mine.data(), total.data(), limb_count + 3, MPI_INT64_T, MPI_SUM, comm),
            "MPI_Allreduce");
  for (int i = 0; i < limb_count; ++i) limbs_[i] = total[i];
  nan_ = total[limb_count];
  positive_infinity_ = total[limb_count + 1];
  negative_infinity_ = total[limb_count + 2];
  pending_ = 1;
  normalize();
}

double ExactSum::value() const noexcept {
  if (nan_ > 0 || (positive_infinity_ > 0 && negative_infinity_ > 0)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (positive_infinity_ > 0) return std::numeric_limits<double>::infinity();
  if (negative_infinity_ > 0) return -std::numeric_limits<double>::infinity();
  ExactSum magnitude = *this;
  magnitude.normalize();
  const bool negative = magnitude.limbs_[limb_count - 1] < 0;
  if (negative) {
    for (auto& limb : magnitude.limbs_) limb = -limb;
    magnitude.normalize();
  }
  int top = limb_count - 1;
  while (top >= 0 && magnitude.limbs_[top] == 0) --top;
  if (top < 0) return 0.0;
  // The three highest digits carry at least 65 significant bits: summed from the smallest,
  // the result is within 1 ulp of the exact value, and always the same for the same sum.
  double result = 0.0;
  for (int i = std::max(0, top - 2); i <= top; ++i) {
    result += std::ldexp(static_cast<double>(magnitude.limbs_[i]), i * limb_bits - 1074);
  }
  return negative ? -result : result;
}

}  // namespace spmd
