#pragma once
// An exact floating-point accumulator: the sum of any doubles, in any order, split over any
// number of ranks, is the same integer multiple of 2^-1074 (the smallest subnormal), so results
// are bit-identical for every rank count and data order. Conversion to double at the end is
// faithful (error below 1 ulp of the exact sum) and deterministic.
//
// Cost: a handful of integer operations per value (no branches on the data order); merging two
// accumulators, or an MPI all-reduce of them, is a sum of 70 int64 limbs.
#include <mpi.h>

#include <array>
#include <cstdint>

namespace spmd {

class ExactSum {
 public:
  static constexpr int limb_bits = 32;
  static constexpr int limb_count = 70;  ///< 2240 bits: 2098 for the double range + headroom

  void add(double value) noexcept;
  void merge(const ExactSum& other) noexcept;
  /// The sum rounded to double (faithfully). +-inf when it overflows; NaN if a NaN or both
  /// infinities were added.
  [[nodiscard]] double value() const noexcept;

  /// Collective: the exact sum over every rank of `comm` (order-independent integer sums).
  void all_reduce(MPI_Comm comm);

 private:
  void normalize() noexcept;
  std::array<std::int64_t, limb_count> limbs_{};  // little-endian, each holds a signed digit
  std::int64_t pending_ = 0;                      // adds since the last normalize
  std::int64_t nan_ = 0;
  std::int64_t positive_infinity_ = 0;
  std::int64_t negative_infinity_ = 0;
};

}  // namespace spmd
