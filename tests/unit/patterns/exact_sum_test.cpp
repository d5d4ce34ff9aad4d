// The exact sum: bit-identical for any order and any rank count, and exact where a plain sum
// loses everything.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/patterns/exact_sum.hpp"
#include "test_support.hpp"

namespace {

double exact_sum(const std::vector<double>& values) {
  spmd::ExactSum sum;
  for (double v : values) sum.add(v);
  return sum.value();
}

// Values spanning many magnitudes and both signs: a plain sum depends on the order.
std::vector<double> wild_values(std::size_t n, unsigned seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-60, 60);
  std::vector<double> values(n);
  for (auto& v : values) v = std::ldexp(mantissa(random), exponent(random));
  return values;
}

TEST(ExactSum, CancellationThatDefeatsAPlainSum) {
  EXPECT_EQ(exact_sum({1e100, 1.0, -1e100}), 1.0);
  EXPECT_EQ(exact_sum({1e308, 1e308, -1e308}), 1e308);  // no intermediate overflow
  EXPECT_EQ(exact_sum({5e-324, 5e-324, 5e-324}), 1.5e-323);
  EXPECT_EQ(exact_sum({0.1, 0.2, -0.3}), 2.7755575615628914e-17);  // the exact value of the doubles
  EXPECT_EQ(exact_sum({}), 0.0);
  EXPECT_EQ(exact_sum({-2.5, -0.5}), -3.0);
}

TEST(ExactSum, NonFiniteValues) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isnan(exact_sum({1.0, std::nan("")})));
  EXPECT_EQ(exact_sum({1.0, inf}), inf);
  EXPECT_EQ(exact_sum({1.0, -inf}), -inf);
  EXPECT_TRUE(std::isnan(exact_sum({inf, -inf})));
}

TEST(ExactSum, OrderDoesNotMatterAndTheResultIsFaithful) {
  auto values = wild_values(20000, 7);
  const double reference = exact_sum(values);
  std::mt19937 random(3);
  for (int shuffle = 0; shuffle < 5; ++shuffle) {
    std::shuffle(values.begin(), values.end(), random);
    EXPECT_EQ(exact_sum(values), reference);
  }
  long double wide = 0;  // 64-bit mantissa: close enough to check the bound on this data
  std::sort(values.begin(), values.end(),
            [](double a, double b) { return std::fabs(a) < std::fabs(b); });
  for (double v : values) wide += v;
  EXPECT_LE(std::fabs(reference - static_cast<double>(wide)),
            2 * std::numeric_limits<double>::epsilon() * std::fabs(reference));
}

TEST(ExactSum, SameBitsAtEveryRankCount) {
  const auto& world = spmd::test::world();
  const auto values = wild_values(10007, 11);
  const double serial = exact_sum(values);
  // Rank r takes every size-th value starting at r (a cyclic split), then the ranks reduce.
  spmd::ExactSum mine;
  for (std::size_t i = static_cast<std::size_t>(world.rank()); i < values.size();
       i += static_cast<std::size_t>(world.size())) {
    mine.add(values[i]);
  }
  mine.all_reduce(world);
  EXPECT_EQ(mine.value(), serial);
  spmd::ExactSum merged;
  spmd::ExactSum half;
  for (std::size_t i = 0; i < values.size(); ++i) (i % 2 == 0 ? merged : half).add(values[i]);
  merged.merge(half);
  EXPECT_EQ(merged.value(), serial);
}

}  // namespace

namespace {

// Both span paths (the fastest this CPU has, and the buckets alone) against value by value.
void expect_span_equals_value_by_value(const std::vector<double>& values, const char* what) {
  const double serial = exact_sum(values);
  for (const bool buckets_only : {false, true}) {
    spmd::ExactSum bulk;
    if (buckets_only) {
      spmd::detail::add_with_buckets(bulk, values);
    } else {
      bulk.add(std::span<const double>(values));
    }
    EXPECT_EQ(std::bit_cast<std::uint64_t>(bulk.value()), std::bit_cast<std::uint64_t>(serial))
        << what << (buckets_only ? " (buckets)" : "");
    // Sharper than comparing rounded results: taking every value back out, one by one, must
    // leave exactly nothing (an error far below the result's last bit would remain).
    if (std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
      for (const double v : values) bulk.add(-v);
      EXPECT_EQ(bulk.value(), 0.0) << what << (buckets_only ? " (buckets)" : "") << ": not exact";
    }
  }
}

// The span path (split values in exponent buckets) gives the same bits as the value-by-value
// path, for every length (tails of the unrolled loop), subnormals, extremes and non-finite values.
TEST(ExactSum, SpanPathEqualsValueByValue) {
  auto values = wild_values(1003, 5);
  values.push_back(std::numeric_limits<double>::denorm_min());
  values.push_back(-std::numeric_limits<double>::max());
  values.push_back(std::numeric_limits<double>::max() / 3);
  values.push_back(5e-324 * 7);
  for (std::size_t n = 0; n <= values.size(); n += (n < 20 ? 1 : (n < 990 ? 97 : 1))) {
    const std::vector<double> part(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n));
    expect_span_equals_value_by_value(part, "wild values");
  }
  std::vector<double> special{1.0, std::numeric_limits<double>::infinity(), 2.0, 3.0, 4.0};
  spmd::ExactSum with_inf;
  with_inf.add(std::span<const double>(special));
  EXPECT_EQ(with_inf.value(), std::numeric_limits<double>::infinity());
  special.push_back(std::numeric_limits<double>::quiet_NaN());
  spmd::ExactSum with_nan;
  with_nan.add(std::span<const double>(special));
  EXPECT_TRUE(std::isnan(with_nan.value()));
}

// The buckets stay exact where they are fullest: many values of one exponent with every mantissa
// bit set (their sum needs 53 + 20 bits), the largest values the buckets take and the smallest
// they refuse (2^992 .. 2^994), subnormals by the thousand, and all of it at once, shuffled.
TEST(ExactSum, SpanPathStaysExactAtTheBucketLimits) {
  const double full = std::nextafter(2.0, 0.0);  // 1.111...1 (53 ones)
  std::vector<double> same(1 << 20, full);
  for (std::size_t i = 0; i < same.size(); i += 3) same[i] = std::ldexp(full, -26) + 1.0;
  expect_span_equals_value_by_value(same, "one exponent, full mantissas");

  std::vector<double> large;
  for (int e = 990; e <= 995; ++e) {
    for (int k = 0; k < 500; ++k)
      large.push_back((k % 2 ? -1 : 1) * std::ldexp(full - k * 1e-13, e));
  }
  large.push_back(std::ldexp(1.0, 993));
  expect_span_equals_value_by_value(large, "near the largest bucket");
  // Values too large for the buckets (two of them would overflow one) take the exact path.
  const double huge = std::numeric_limits<double>::max() * 0.9;
  std::vector<double> overflowing{
      huge, 0, 0, 0, huge, 0, 0, 0, -huge, 0, 0, 0, std::ldexp(full, 994)};
  expect_span_equals_value_by_value(overflowing, "values that would overflow a bucket");

  std::vector<double> tiny;
  for (int k = 1; k < 5000; ++k)
    tiny.push_back((k % 3 ? 1 : -1) * k * std::numeric_limits<double>::denorm_min());
  for (int k = 0; k < 100; ++k) tiny.push_back(std::ldexp(1.0 + k * 0x1p-40, -1022));
  expect_span_equals_value_by_value(tiny, "subnormals and the smallest normals");

  std::vector<double> all = same;
  all.insert(all.end(), large.begin(), large.end());
  all.insert(all.end(), tiny.begin(), tiny.end());
  const auto wild = wild_values(10000, 9);
  all.insert(all.end(), wild.begin(), wild.end());
  std::mt19937_64 random(3);
  std::shuffle(all.begin(), all.end(), random);
  expect_span_equals_value_by_value(all, "everything, shuffled");
  spmd::ExactSum halves;  // and split into two spans: the scratch buckets are clean in between
  halves.add(std::span<const double>(all).first(all.size() / 2));
  halves.add(std::span<const double>(all).subspan(all.size() / 2));
  EXPECT_EQ(halves.value(), exact_sum(all));
}

}  // namespace

namespace {

// The pre-rounded blocks (the AVX2 path, 2048 values each) against value by value: data they
// take (a few dozen binades), blocks at their limits (full-mantissa maxima of one sign, ranges
// just inside and just outside what four levels cover), blocks they must hand back (NaN, inf,
// extremes, wide ranges) next to blocks they take, and every tail length.
TEST(ExactSum, PreroundedBlocksAreExact) {
  std::mt19937_64 random(17);
  std::uniform_real_distribution<double> unit(-1, 1);
  auto narrow = [&](std::size_t n, int binades, int shift) {
    std::vector<double> v(n);
    for (auto& x : v)
      x = unit(random) * std::ldexp(1.0, static_cast<int>(random() % binades) + shift);
    return v;
  };
  for (const std::size_t n : {2048u, 2049u, 4095u, 6144u, 100003u}) {
    expect_span_equals_value_by_value(narrow(n, 80, -40), "80 binades");
    expect_span_equals_value_by_value(narrow(n, 3, 500), "3 binades near 2^500");
    expect_span_equals_value_by_value(narrow(n, 20, -880), "tiny values");
  }
  const double full = std::nextafter(2.0, 0.0);
  std::vector<double> maxima(4096, std::ldexp(full, 30));  // level 0 at its bound
  expect_span_equals_value_by_value(maxima, "2048 equal maxima per block");
  for (auto& x : maxima) x = -x;
  maxima[5] = std::ldexp(1.0, -100);  // 130 bits below the top: inside four levels
  maxima[3000] = std::ldexp(full, -126);
  expect_span_equals_value_by_value(maxima, "a block spanning about 160 bits");
  maxima[7] = std::ldexp(1.0, -200);  // beyond four levels: that block is handed back
  expect_span_equals_value_by_value(maxima, "a block spanning about 230 bits");
  // Blocks two levels finish (values within 2^31 of the block's largest), then one that needs
  // four (done again), then two-level blocks again.
  auto two_then_four = narrow(5 * 2048, 25, 0);
  two_then_four[2 * 2048 + 100] = std::ldexp(full, -60);
  expect_span_equals_value_by_value(two_then_four, "two levels, four, two");

  // Levels filled to their bounds: same-sign full mantissas just below the top (level 0 sums
  // need 52 bits), and just below level 0's grid under large values that cancel in pairs (level 1
  // sums need 50 bits, and an error there would show in the small total).
  std::uniform_int_distribution<std::uint64_t> mantissa(0, (std::uint64_t{1} << 52) - 1);
  auto full_mantissa = [&] { return 1.0 + std::ldexp(static_cast<double>(mantissa(random)), -52); };
  std::vector<double> top(2 * 2048);
  for (auto& x : top) x = std::ldexp(full_mantissa(), 30);
  expect_span_equals_value_by_value(top, "level 0 filled");
  std::vector<double> second(2 * 2048);
  for (std::size_t i = 0; i < second.size(); i += 4) {
    second[i] = std::ldexp(full_mantissa(), 30);
    second[i + 1] = std::ldexp(full_mantissa(), -12);
    second[i + 2] = -second[i];
    second[i + 3] = std::ldexp(full_mantissa(), -12);
  }
  expect_span_equals_value_by_value(second, "level 1 filled");
  // Ties at level 0's grid (2^-10 under a largest value just below 2^31): each level's sum
  // rounds them by its own last bit, which depends on the order; the sum must not.
  std::vector<double> ties(2 * 2048);
  for (std::size_t i = 0; i < ties.size(); ++i) {
    ties[i] = (i % 3 == 0 ? -1.0 : 1.0) *
              (std::ldexp(static_cast<double>(i % 1000), -10) + std::ldexp(1.0, -11));
  }
  ties[0] = std::ldexp(full, 30);
  ties[2048] = std::ldexp(full, 30);
  expect_span_equals_value_by_value(ties, "ties at level 0's grid");
  // Cancellation that leaves only what the last level cannot hold: the block must be handed
  // back, or 2^-200 is lost.
  std::vector<double> cancelling(2048, 0.0);
  cancelling[0] = std::ldexp(full, 30);
  cancelling[1] = -std::ldexp(full, 30);
  cancelling[2] = std::ldexp(1.0, -200);
  spmd::ExactSum tiny_left;
  tiny_left.add(std::span<const double>(cancelling));
  EXPECT_EQ(tiny_left.value(), std::ldexp(1.0, -200));

  auto mixed = narrow(8 * 2048 + 77, 40, 0);
  mixed[2048 + 3] = std::numeric_limits<double>::infinity();
  mixed[2 * 2048 + 9] = std::ldexp(1.0, 1000);
  mixed[3 * 2048 + 1] = -std::ldexp(1.0, 1000);
  mixed[4 * 2048 + 2] = std::ldexp(1.0, -1070);  // a subnormal next to values near 1
  mixed[8 * 2048 + 5] = 5e-324;
  {
    spmd::ExactSum bulk;
    bulk.add(std::span<const double>(mixed));
    EXPECT_EQ(bulk.value(), std::numeric_limits<double>::infinity());
  }
  mixed[2048 + 3] = 1.0;
  expect_span_equals_value_by_value(mixed, "taken and handed-back blocks interleaved");
  mixed[6 * 2048] = std::numeric_limits<double>::quiet_NaN();
  spmd::ExactSum with_nan;
  with_nan.add(std::span<const double>(mixed));
  EXPECT_TRUE(std::isnan(with_nan.value()));
}

// Mean and dot: the same bits at every rank count, and right where a plain loop is not.
TEST(ExactSum, ReproducibleMeanAndDot) {
  const auto& world = spmd::test::world();
  const auto all = wild_values(1000, 9);
  const auto n = all.size();
  const std::size_t begin = n * world.rank() / world.size(),
                    end = n * (world.rank() + 1) / world.size();
  const std::span<const double> mine(all.data() + begin, end - begin);
  const double mean = spmd::reproducible_mean(world, mine);
  EXPECT_EQ(mean, exact_sum(all) / static_cast<double>(n));
  // x . y with y = x: exact products make the result independent of the split.
  const double dot = spmd::reproducible_dot(world, mine, mine);
  spmd::ExactSum serial;
  for (const double v : all) {
    serial.add(v * v);
    serial.add(std::fma(v, v, -(v * v)));
  }
  EXPECT_EQ(dot, serial.value());
  // A dot product a plain loop gets wrong: 1e16*1 + 1*1 - 1e16*1 = 1.
  const std::vector<double> x{1e16, 1.0, -1e16}, y{1.0, 1.0, 1.0};
  const bool mine_too = world.rank() == 0;
  EXPECT_EQ(spmd::reproducible_dot(
                world, mine_too ? std::span<const double>(x) : std::span<const double>(),
                mine_too ? std::span<const double>(y) : std::span<const double>()),
            1.0);
  EXPECT_TRUE(std::isnan(spmd::reproducible_mean(world, std::span<const double>())));
}

}  // namespace
