// spmd-fib's fast description of F(n) (leading digits from the top bits) equals the exact one
// (integer arithmetic only), and fast doubling equals GMP's own mpz_fib_ui.
#include <gmpxx.h>

#include <cstdint>
#include <random>

#include <gtest/gtest.h>

#include "fibonacci.hpp"

namespace {

void expect_same(const fib::FibResult& a, const fib::FibResult& b, const std::string& what) {
  EXPECT_EQ(a.digits, b.digits) << what;
  EXPECT_EQ(a.mod1e18, b.mod1e18) << what;
  EXPECT_EQ(a.leading_digits(), b.leading_digits()) << what;
}

TEST(Fibonacci, FastDoublingEqualsGmp) {
  std::mt19937_64 random(42);
  std::vector<std::uint64_t> ns;
  for (std::uint64_t n = 0; n < 400; ++n) ns.push_back(n);
  for (int i = 0; i < 40; ++i) ns.push_back(random() % 300000);
  for (const auto n : ns) {
    mpz_class expected;
    mpz_fib_ui(expected.get_mpz_t(), n);
    EXPECT_EQ(fib::fibonacci(n), expected) << "n = " << n;
  }
}

TEST(Fibonacci, FastDescriptionIsExact) {
  std::mt19937_64 random(7);
  for (std::uint64_t n = 0; n < 3000; n += 7) {
    const auto f = fib::fibonacci(n);
    expect_same(fib::describe(f), fib::describe_exact(f), "F(" + std::to_string(n) + ")");
  }
  for (int i = 0; i < 30; ++i) {
    const std::uint64_t n = random() % 2000000;
    const auto f = fib::fibonacci(n);
    expect_same(fib::describe(f), fib::describe_exact(f), "F(" + std::to_string(n) + ")");
  }
  // Numbers at the edges of the guard: powers of ten and their neighbours.
  for (const unsigned long k : {64UL, 65UL, 100UL, 1000UL, 5000UL}) {
    mpz_class p;
    mpz_ui_pow_ui(p.get_mpz_t(), 10, k);
    for (const mpz_class& v : {mpz_class(p - 1), p, mpz_class(p + 1), mpz_class(p * 7 - 1)}) {
      expect_same(fib::describe(v), fib::describe_exact(v), "10^" + std::to_string(k));
    }
  }
  EXPECT_EQ(fib::describe(mpz_class(0)).digits, 1u);
  EXPECT_EQ(fib::describe(mpz_class(0)).leading_digits(), "0");
}

}  // namespace
