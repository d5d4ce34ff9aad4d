#include "fibonacci.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace fib {

mpz_class fibonacci(std::uint64_t n) {
  if (n == 0) return 0;
  // Fast doubling on (F(k), F(k-1)) with two squarings per bit (squaring is cheaper than a
  // general product):
  //   F(2k+1) = 4 F(k)^2 - F(k-1)^2 + 2 (-1)^k,  F(2k-1) = F(k)^2 + F(k-1)^2,
  //   F(2k) = F(2k+1) - F(2k-1).
  mpz_class f1 = 1;  // F(k), starting at k = 1 (the top bit of n)
  mpz_class f0 = 0;  // F(k-1)
  mpz_class s1, s0, up, down;
  bool k_odd = true;
  for (int bit = 62 - std::countl_zero(n); bit >= 0; --bit) {
    s1 = f1 * f1;
    s0 = f0 * f0;
    up = 4 * s1 - s0;  // F(2k+1) without the sign term
    if (k_odd) {
      up -= 2;
    } else {
      up += 2;
    }
    down = s1 + s0;  // F(2k-1)
    if (((n >> bit) & 1U) != 0) {
      f0 = up - down;  // F(2k)
      f1 = std::move(up);
      k_odd = true;
    } else {
      f1 = up - down;  // F(2k)
      f0 = std::move(down);
      k_odd = false;
    }
  }
  return f1;
}

FibResult describe(const mpz_class& value) {
  FibResult result;
  result.mod1e18 = mpz_fdiv_ui(value.get_mpz_t(), 1000000000000000000UL);
  constexpr std::size_t lead = 20;
  // A full decimal conversion costs O(M(n) log n); the digit count and the leading digits need
  // only the top: sizeinbase is exact or one too high, so dividing by 10^(estimate - 22) leaves
  // a 21- or 22-digit quotient whose own length and first digits are those of `value`.
  const std::size_t estimate = mpz_sizeinbase(value.get_mpz_t(), 10);
  std::string top;
  std::size_t dropped = 0;
  if (estimate <= lead + 2) {
    top = value.get_str(10);
  } else {
    dropped = estimate - (lead + 2);
    mpz_class scale, quotient;
    mpz_ui_pow_ui(scale.get_mpz_t(), 10, dropped);
    mpz_tdiv_q(quotient.get_mpz_t(), value.get_mpz_t(), scale.get_mpz_t());
    top = quotient.get_str(10);
  }
  result.digits = top.size() + dropped;
  const std::size_t shown = std::min(top.size(), lead);
  std::memcpy(result.leading.data(), top.data(), shown);
  result.leading[shown] = '\0';
  return result;
}

}  // namespace fib
