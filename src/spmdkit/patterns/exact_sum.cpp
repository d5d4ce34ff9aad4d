#include "spmdkit/patterns/exact_sum.hpp"

#include <algorithm>
#include <array>

#include <bit>
#include <cmath>
#include <limits>
#include <memory>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd {

namespace {

// The bucket path of add(span): every CPU's, and on AVX2 ones the path of the blocks that the
// pre-rounding (below) hands back, of tails and of reproducible_dot. Each finite value x below
// 2^993 is split at mantissa bit 26 into hi (x with its low 26 mantissa bits cleared) and
// lo = x - hi (exact), and both are added in floating point to a pair of buckets chosen by x's
// exponent field f. Every term in bucket f is a multiple of 2^(E-26) (hi) or 2^(E-52) (lo) with
// E the exponent of f, below 2^(E+1) resp. 2^(E-26) in magnitude, so up to 2^26 of them sum to
// a double *exactly*, in any order: each bucket is an exact partial sum, and the buckets join the
// limbs (exactly) at the end. Two floating-point adds per value and no carries; four bucket sets
// interleave so that runs of equal exponents do not wait on each other.
constexpr int exponent_fields = 2048;
constexpr int bucket_sets = 4;
constexpr std::uint64_t fast_limit = 2016;  // f >= 2016 (|x| >= 2^993, inf, NaN): per value
constexpr std::size_t flush_every = std::size_t{1} << 26;
constexpr std::uint64_t low_bits = (std::uint64_t{1} << 26) - 1;

using BucketSet = std::array<std::array<double, 2>, exponent_fields>;  // [field][hi, lo]

struct Buckets {
  std::array<BucketSet, bucket_sets> sets{};  // hi and lo of one field share a cache line
};

Buckets& thread_buckets() {
  // Kept zero between uses: a flush zeroes only the fields it touched, so short spans stay cheap.
  static thread_local auto buckets = std::make_unique<Buckets>();
  return *buckets;
}

// The span path's accumulator: this thread's buckets, flushed into `target` every flush_every
// values and when it goes out of scope. One at a time per thread (they share the buckets).
class SplitBuckets {
 public:
  explicit SplitBuckets(ExactSum& target) : target_(target), buckets_(thread_buckets()) {}
  SplitBuckets(const SplitBuckets&) = delete;
  SplitBuckets& operator=(const SplitBuckets&) = delete;
  ~SplitBuckets() { flush(); }

  void add(std::span<const double> values) {
    while (!values.empty()) {
      if (pending_ == flush_every) flush();
      const std::size_t count = std::min(values.size(), flush_every - pending_);
      add_unflushed(values.first(count));
      pending_ += count;
      values = values.subspan(count);
    }
  }

 private:
  // Adds x (exponent field `field`, below fast_limit) to `set`: hi and lo in one vector add.
  static void bucket(BucketSet& set, double x, std::uint64_t bits, std::uint64_t field) {
    const double hi = std::bit_cast<double>(bits & ~low_bits);
    auto& pair = set[field];
    pair[0] += hi;
    pair[1] += x - hi;
  }
  void add_unflushed(std::span<const double> values) {
    auto& sets = buckets_.sets;
    // The touched range in locals (kept in registers; members would be stored every step).
    std::uint64_t lowest = lowest_, highest = highest_;
    auto one = [&](double x) {  // a value outside the unrolled loop; the exact path if too large
      const auto bits = std::bit_cast<std::uint64_t>(x);
      const std::uint64_t field = (bits >> 52) & 0x7ff;
      if (field >= fast_limit) {
        target_.add(x);
      } else {
        bucket(sets[0], x, bits, field);
        lowest = field < lowest ? field : lowest;
        highest = field > highest ? field : highest;
      }
    };
    const double* data = values.data();
    const std::size_t n = values.size();
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const auto b0 = std::bit_cast<std::uint64_t>(data[i]);
      const auto b1 = std::bit_cast<std::uint64_t>(data[i + 1]);
      const auto b2 = std::bit_cast<std::uint64_t>(data[i + 2]);
      const auto b3 = std::bit_cast<std::uint64_t>(data[i + 3]);
      const std::uint64_t f0 = (b0 >> 52) & 0x7ff, f1 = (b1 >> 52) & 0x7ff;
      const std::uint64_t f2 = (b2 >> 52) & 0x7ff, f3 = (b3 >> 52) & 0x7ff;
      const std::uint64_t high01 = f0 > f1 ? f0 : f1, high23 = f2 > f3 ? f2 : f3;
      const std::uint64_t high = high01 > high23 ? high01 : high23;
      if (high >= fast_limit) [[unlikely]] {
        for (std::size_t j = i; j < i + 4; ++j) one(data[j]);
        continue;
      }
      const std::uint64_t low01 = f0 < f1 ? f0 : f1, low23 = f2 < f3 ? f2 : f3;
      const std::uint64_t low = low01 < low23 ? low01 : low23;
      lowest = low < lowest ? low : lowest;
      highest = high > highest ? high : highest;
      bucket(sets[0], data[i], b0, f0);
      bucket(sets[1], data[i + 1], b1, f1);
      bucket(sets[2], data[i + 2], b2, f2);
      bucket(sets[3], data[i + 3], b3, f3);
    }
    for (; i < n; ++i) one(data[i]);
    lowest_ = lowest;
    highest_ = highest;
  }
  void flush() noexcept {
    for (auto& set : buckets_.sets) {
      for (std::uint64_t f = lowest_; f <= highest_; ++f) {
        target_.add(set[f][0]);  // exact doubles: the per-value path adds them exactly
        target_.add(set[f][1]);
        set[f] = {0.0, 0.0};
      }
    }
    lowest_ = exponent_fields;
    highest_ = 0;
    pending_ = 0;
  }

  ExactSum& target_;
  Buckets& buckets_;
  std::uint64_t lowest_ = exponent_fields, highest_ = 0;  // fields touched since the last flush
  std::size_t pending_ = 0;                               // values since the last flush
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPMD_EXACT_SUM_AVX2 1

// The fast path where the CPU has AVX2 and FMA: error-free pre-rounding of a block (after Demmel
// and Nguyen's reproducible summation; the deposit as in ReproBLAS), made exact by a check. With
// m = max|x| < 2^e over the block, level k keeps a sum S_k per vector lane, starting at
// M_k = 1.5 * 2^E_k, E_k = e + 11 - 42k. Depositing what is left of a value, r: S = S_k + r
// (rounded to S_k's last place), q = S - S_k, r -= q -- each exact (Fast2Sum: |r| is far below
// S_k), so S = S_k + q exactly. A lane takes 512 terms of at most 2^(E_k - 11) each, so S_k
// stays within [1.25, 1.75] * 2^E_k: its last place, the level's grid 2^(E_k - 52), never
// changes, and S_k - M_k is the exact sum of the level's terms (their sum over the lanes too:
// multiples of the grid, at most 2^E_k). If nothing is left after the last level, the level sums
// ARE the block's sum; being exact, they are the same in any order (a tie rounds by S_k's last
// bit, which the order decides, but only moves a part of a value from one level to the next).
// Otherwise (a block spanning more than ~4 x 42 bits, non-finite or extreme values) the block
// goes to the bucket path. Three operations per value and level; rounding against the constant
// M_k and summing the roundings apart took four.
constexpr std::size_t prerounded_block = 2048;  // 2^11 values
constexpr int prerounding_levels = 4;
constexpr int level_bits = 42;

// The block's exponent: e with max|x| < 2^e, or false if the block cannot be pre-rounded
// (not finite, or a level's M_k would not be a normal finite double).
__attribute__((target("avx2"))) bool block_exponent(const double* x, int& e) {
  const __m256d magnitude = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  __m256d max0 = _mm256_setzero_pd(), max1 = _mm256_setzero_pd();
  for (std::size_t i = 0; i < prerounded_block; i += 8) {
    max0 = _mm256_max_pd(max0, _mm256_and_pd(_mm256_loadu_pd(x + i), magnitude));
    max1 = _mm256_max_pd(max1, _mm256_and_pd(_mm256_loadu_pd(x + i + 4), magnitude));
  }
  std::array<double, 4> lanes{};
  _mm256_storeu_pd(lanes.data(), _mm256_max_pd(max0, max1));
  const double m = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
  // Finite, and every level's M_k normal and finite (NaN fails the residual check).
  if (!(m < 0x1p990) || (m != 0 && m < 0x1p-900)) return false;
  // m < 2^e, as std::frexp gives it (m is 0 or normal here), read from the bits: a libm call per
  // block (frexp, ldexp) cost as much as the block's arithmetic.
  const auto field = static_cast<int>((std::bit_cast<std::uint64_t>(m) >> 52) & 0x7ff);
  e = m == 0 ? 0 : field - 1022;
  return true;
}

// 1.5 * 2^exponent, for an exponent whose result is a normal double (block_exponent's bounds
// see to it).
double one_and_a_half_times_two_to(int exponent) {
  return std::bit_cast<double>((static_cast<std::uint64_t>(exponent + 1023) << 52) |
                               (std::uint64_t{1} << 51));
}

// One deposit at a level: sum += r rounded to the level's grid, r keeps what the grid missed.
// `fused`: the add as fma(r, 1, sum) -- the same rounding, on the two FMA pipes beside the two add
// pipes (x86 cores since Haswell and Zen have both): half the levels use each.
__attribute__((target("avx2,fma"), always_inline)) inline void deposit(__m256d& sum, __m256d& r,
                                                                       __m256d one, bool fused) {
  const __m256d total = fused ? _mm256_fmadd_pd(r, one, sum) : _mm256_add_pd(sum, r);
  const __m256d q = _mm256_sub_pd(total, sum);
  sum = total;
  r = _mm256_fnmadd_pd(q, one, r);
}

// One step of the software pipeline: the vector at level k is the one loaded k steps ago, so the
// levels of a step do not wait on each other (one value's levels are a chain of 4 x 3 dependent
// operations, longer than the CPU looks ahead). `next` is the vector entering level 0.
template <int Levels, int Phase>
__attribute__((target("avx2,fma"), always_inline)) inline void skewed_step(
    __m256d (&stage)[Levels], __m256d (&level)[Levels], __m256d& left, __m256d one, __m256d next) {
#pragma GCC unroll 4
  for (int k = Levels - 1; k >= 0; --k) {
    __m256d& r = stage[(Phase - k + Levels) % Levels];
    if (k == 0) r = next;
    deposit(level[k], r, one, k % 2 == 0);
    if (k == Levels - 1) left = _mm256_or_pd(left, r);
  }
}

// The block's sums at the first `Levels` levels (the others 0), or false if anything is left
// after them. One vector a step per level, pipelined; while computing, the `ahead` values after
// the block are prefetched, so that a sum of data from memory costs little more than reading it.
template <int Levels>
__attribute__((target("avx2,fma"))) bool prerounded_levels(
    const double* x, std::size_t ahead, int e, std::array<double, prerounding_levels>& sums) {
  static_assert(Levels == 2 || Levels == 4);  // the loop below is unrolled by Levels steps
  static_assert(prerounded_block / 4 % Levels == 0);
  const __m256d magnitude = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  // Plain arrays: std::array would drop the vector type's alignment attribute.
  __m256d boundary[Levels];
  __m256d level[Levels];
  __m256d stage[Levels];
  for (int k = 0; k < Levels; ++k) {
    boundary[k] = _mm256_set1_pd(one_and_a_half_times_two_to(e + 11 - level_bits * k));
    level[k] = boundary[k];
    stage[k] = _mm256_setzero_pd();
  }
  __m256d left = _mm256_setzero_pd();
  __m256d one = _mm256_set1_pd(1.0);
  __asm__("" : "+x"(one));  // unknown to the compiler: fma(a, one, b) must not become a + b
  for (std::size_t i = 0; i < prerounded_block; i += 4 * Levels) {
    // The next block on its way from memory while this one is computed.
    for (std::size_t line = i; line < i + 4 * Levels && line < ahead; line += 8) {
      __builtin_prefetch(x + prerounded_block + line, 0, 3);  // a constant hint even at -O0
    }
    skewed_step<Levels, 0>(stage, level, left, one, _mm256_loadu_pd(x + i));
    skewed_step<Levels, 1>(stage, level, left, one, _mm256_loadu_pd(x + i + 4));
    if constexpr (Levels == 4) {
      skewed_step<Levels, 2>(stage, level, left, one, _mm256_loadu_pd(x + i + 8));
      skewed_step<Levels, 3>(stage, level, left, one, _mm256_loadu_pd(x + i + 12));
    }
  }
  // Drain: the last vectors through the remaining levels.
  const __m256d zero = _mm256_setzero_pd();
  skewed_step<Levels, 0>(stage, level, left, one, zero);
  if constexpr (Levels == 4) {
    skewed_step<Levels, 1>(stage, level, left, one, zero);
    skewed_step<Levels, 2>(stage, level, left, one, zero);
  }
  std::array<double, 4> lanes{};
  _mm256_storeu_pd(lanes.data(), _mm256_and_pd(left, magnitude));  // -0.0 counts as nothing left
  if (lanes[0] != 0 || lanes[1] != 0 || lanes[2] != 0 || lanes[3] != 0) return false;
  sums.fill(0.0);
  for (int k = 0; k < Levels; ++k) {
    _mm256_storeu_pd(lanes.data(), _mm256_sub_pd(level[k], boundary[k]));
    sums[k] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);  // subset sums: exact too
  }
  return true;
}

// A block's level sums, or false (then it goes to the buckets). Most data spans far fewer bits
// in a block than four levels take: two levels take every value down to 2^-31 of the block's
// largest (and zeros), at half the work. `levels` is the caller's guess, 2 or 4: a block two
// levels do not finish is done again with four, and the guess becomes 4 for what follows.
bool prerounded_block_sums(const double* x, std::size_t ahead,
                           std::array<double, prerounding_levels>& sums, int& levels) {
  int e = 0;
  if (!block_exponent(x, e)) return false;
  if (levels == 2) {
    if (prerounded_levels<2>(x, ahead, e, sums)) return true;
    levels = prerounding_levels;
  }
  return prerounded_levels<prerounding_levels>(x, ahead, e, sums);
}

bool cpu_has_avx2_and_fma() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}
#endif

}  // namespace

void ExactSum::add(std::span<const double> values) {
  SplitBuckets buckets(*this);
#ifdef SPMD_EXACT_SUM_AVX2
  if (cpu_has_avx2_and_fma()) {
    // Blocks whose range is too wide fall back to the buckets; after a few in a row the rest of
    // the span goes there directly (the data is like that). Either way the sum is exact.
    int misses = 0;
    int levels = 2;
    while (values.size() >= prerounded_block && misses < 4) {
      std::array<double, prerounding_levels> sums{};
      if (prerounded_block_sums(values.data(),
                                std::min(values.size() - prerounded_block, prerounded_block), sums,
                                levels)) {
        for (const double s : sums) add(s);
        misses = 0;
      } else {
        buckets.add(values.first(prerounded_block));
        ++misses;
      }
      values = values.subspan(prerounded_block);
    }
  }
#endif
  buckets.add(values);
}

void detail::add_with_buckets(ExactSum& sum, std::span<const double> values) {
  SplitBuckets(sum).add(values);
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

void ExactSum::all_reduce(const Comm& comm) {
  normalize();  // every limb in [0, 2^32) but the top: P ranks' sum cannot overflow int64
  std::array<std::int64_t, limb_count + 3> mine{};
  for (int i = 0; i < limb_count; ++i) mine[i] = limbs_[i];
  mine[limb_count] = nan_;
  mine[limb_count + 1] = positive_infinity_;
  mine[limb_count + 2] = negative_infinity_;
  std::array<std::int64_t, limb_count + 3> total{};
  comm.allreduce(std::span<const std::int64_t>(mine), std::span<std::int64_t>(total),
                 std::plus<>{});
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

double reproducible_sum(const Comm& comm, std::span<const double> values) {
  ExactSum sum;
  sum.add(values);
  sum.all_reduce(comm);
  return sum.value();
}

double reproducible_mean(const Comm& comm, std::span<const double> values) {
  const auto count = comm.allreduce(static_cast<std::uint64_t>(values.size()), std::plus<>{});
  const double sum = reproducible_sum(comm, values);
  return count == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(count);
}

double reproducible_dot(const Comm& comm, std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw UsageError("reproducible_dot: x and y differ in length");
  ExactSum sum;
  {
    // Products and their rounding errors (exact, by FMA) in chunks, through the span path.
    SplitBuckets buckets(sum);
    std::array<double, 1024> terms{};
    for (std::size_t start = 0; start < x.size(); start += terms.size() / 2) {
      const std::size_t count = std::min(terms.size() / 2, x.size() - start);
      for (std::size_t i = 0; i < count; ++i) {
        const double product = x[start + i] * y[start + i];
        terms[2 * i] = product;
        terms[2 * i + 1] = std::fma(x[start + i], y[start + i], -product);
      }
      buckets.add(std::span<const double>(terms.data(), 2 * count));
    }
  }
  sum.all_reduce(comm);
  return sum.value();
}

}  // namespace spmd
