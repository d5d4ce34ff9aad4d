#pragma once
// Exact Fibonacci numbers with GMP: fast doubling, O(log n) big-integer multiplications.
#include <gmpxx.h>

#include <array>
#include <cstdint>
#include <string>

namespace fib {

/// What spmd-fib records of F(n): trivially copyable, so it travels as raw bytes.
struct FibResult {
  std::uint64_t digits = 0;        ///< decimal digits of F(n)
  std::uint64_t mod1e18 = 0;       ///< F(n) mod 10^18
  std::array<char, 21> leading{};  ///< first (up to) 20 decimal digits, null-terminated

  [[nodiscard]] std::string leading_digits() const { return leading.data(); }
};

/// F(n) by fast doubling: O(log n) steps of two big-integer squarings each.
[[nodiscard]] mpz_class fibonacci(std::uint64_t n);

/// Digit count, residue and leading digits of a non-negative integer (fast: from the top bits).
[[nodiscard]] FibResult describe(const mpz_class& value);
/// The same by integer arithmetic only (the reference, and the fallback of describe()).
[[nodiscard]] FibResult describe_exact(const mpz_class& value);

}  // namespace fib
