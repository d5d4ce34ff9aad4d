#include "spmdkit/patterns/exact_sum.hpp"

#include <algorithm>
#include <array>

#include <bit>
#include <cmath>
#include <limits>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd {

namespace {

// Bins of the span path: bin g holds sum(mantissa << offset) for values whose shift (counted from
// the smallest subnormal) is in [32g, 32g + 32); 84-bit terms in a 127-bit bin leave room for
// 2^43 values before a flush.
__extension__ typedef __int128 Int128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet
constexpr int bin_count = 66;
constexpr int bin_sets = 4;
using Bins = std::array<std::array<Int128, bin_count>, bin_sets>;
constexpr std::size_t flush_every = std::size_t{1} << 40;

}  // namespace

void ExactSum::add(std::span<const double> values) noexcept {
  Bins bins{};
  auto flush = [&] {
    for (auto& set : bins) {
      for (int g = 0; g < bin_count; ++g) {
        // The signed 128-bit bin as four 32-bit digits at limbs g..g+3 (the top one signed).
        Int128 v = set[g];
        for (int d = 0; d < 4 && g + d < limb_count; ++d) {
          const auto digit = d < 3 ? static_cast<std::int64_t>(v & 0xffffffff)
                                   : static_cast<std::int64_t>(v);
          limbs_[g + d] += digit;
          v >>= 32;  // arithmetic: floor division keeps the value exact
        }
        set[g] = 0;
      }
    }
    pending_ += 8;  // each limb moved by < 2^34 at most per digit sum
    normalize();
  };
  // Four values per step, one bin set each: independent chains the CPU overlaps.
  auto bin = [&bins](std::array<Int128, bin_count>& set, std::uint64_t bits) {
    const auto exponent = static_cast<int>((bits >> 52) & 0x7ff);
    std::uint64_t mantissa = bits & ((std::uint64_t{1} << 52) - 1);
    const int normal = exponent != 0 ? 1 : 0;
    mantissa |= static_cast<std::uint64_t>(normal) << 52;
    const int shift = exponent - normal;
    // mantissa << offset as two 64-bit halves, without branches (a data-dependent branch on the
    // sign or the offset costs more than all the arithmetic here).
    const int offset = shift & 31;
    const std::uint64_t low = mantissa << offset;
    const std::uint64_t high = (mantissa >> 1) >> (63 - offset);
    const Int128 magnitude = (static_cast<Int128>(high) << 64) | low;
    const Int128 sign = -static_cast<Int128>(bits >> 63);  // 0 or -1
    set[shift >> 5] += (magnitude ^ sign) - sign;
    (void)bins;
  };
  const std::size_t n = values.size();
  std::size_t done = 0;
  while (done < n) {
    const std::size_t end = std::min(n, done + flush_every);
    std::size_t i = done;
    for (; i + 4 <= end; i += 4) {
      const auto b0 = std::bit_cast<std::uint64_t>(values[i]);
      const auto b1 = std::bit_cast<std::uint64_t>(values[i + 1]);
      const auto b2 = std::bit_cast<std::uint64_t>(values[i + 2]);
      const auto b3 = std::bit_cast<std::uint64_t>(values[i + 3]);
      constexpr std::uint64_t special = std::uint64_t{0x7ff} << 52;
      if (((b0 & special) == special) | ((b1 & special) == special) |
          ((b2 & special) == special) | ((b3 & special) == special)) [[unlikely]] {
        for (std::size_t j = i; j < i + 4; ++j) add(values[j]);  // NaN and infinities counted
        continue;
      }
      bin(bins[0], b0);
      bin(bins[1], b1);
      bin(bins[2], b2);
      bin(bins[3], b3);
    }
    for (; i < end; ++i) {
      const auto b = std::bit_cast<std::uint64_t>(values[i]);
      if (((b >> 52) & 0x7ff) == 0x7ff) {
        add(values[i]);
      } else {
        bin(bins[0], b);
      }
    }
    done = end;
    flush();
  }
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

double reproducible_sum(MPI_Comm comm, std::span<const double> values) {
  ExactSum sum;
  sum.add(values);
  sum.all_reduce(comm);
  return sum.value();
}

double reproducible_mean(MPI_Comm comm, std::span<const double> values) {
  auto count = static_cast<std::uint64_t>(values.size());
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &count, 1, MPI_UINT64_T, MPI_SUM, comm), "MPI_Allreduce");
  const double sum = reproducible_sum(comm, values);
  return count == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(count);
}

double reproducible_dot(MPI_Comm comm, std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw UsageError("reproducible_dot: x and y differ in length");
  ExactSum sum;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double product = x[i] * y[i];
    sum.add(product);
    sum.add(std::fma(x[i], y[i], -product));  // the rounding error of the product, exactly
  }
  sum.all_reduce(comm);
  return sum.value();
}

}  // namespace spmd
