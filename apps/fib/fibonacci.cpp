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

namespace {

void set_leading(FibResult& result, const std::string& top) {
  const std::size_t shown = std::min(top.size(), result.leading.size() - 1);
  std::memcpy(result.leading.data(), top.data(), shown);
  result.leading[shown] = '\0';
}

}  // namespace

FibResult describe_exact(const mpz_class& value) {
  FibResult result;
  result.mod1e18 = mpz_fdiv_ui(value.get_mpz_t(), 1000000000000000000UL);
  constexpr std::size_t lead = 20;
  // sizeinbase is exact or one too high, so dividing by 10^(estimate - 22) leaves a 21- or
  // 22-digit quotient whose own length and first digits are those of `value`.
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
  set_leading(result, top);
  return result;
}

FibResult describe(const mpz_class& value) {
  // A decimal conversion of the whole number costs O(M(n) log n), a power of ten O(M(n)); the
  // leading digits need neither. The top 320 bits, scaled by 2^shift / 10^k in 384-bit floating
  // point, give ~110 correct digits: the first 20 are exact unless the next 40 are all 0 or all
  // 9 (a carry could still reach them) -- then the exact path decides.
  const std::size_t bits = mpz_sizeinbase(value.get_mpz_t(), 2);
  const std::size_t estimate = mpz_sizeinbase(value.get_mpz_t(), 10);
  if (bits <= 320 || estimate <= 64) return describe_exact(value);
  FibResult result;
  result.mod1e18 = mpz_fdiv_ui(value.get_mpz_t(), 1000000000000000000UL);
  const std::size_t shift = bits - 320;
  mpz_class top_bits;
  mpz_tdiv_q_2exp(top_bits.get_mpz_t(), value.get_mpz_t(), shift);
  const std::size_t keep = 64;            // digits of the scaled value before the point
  const std::size_t k = estimate - keep;  // value / 10^k has 64 or 65 digits before the point
  mpf_class scaled(0, 384), power(0, 384);
  mpf_set_z(scaled.get_mpf_t(), top_bits.get_mpz_t());
  mpf_mul_2exp(scaled.get_mpf_t(), scaled.get_mpf_t(), shift);
  mpf_set_ui(power.get_mpf_t(), 10);
  mpf_pow_ui(power.get_mpf_t(), power.get_mpf_t(), k);
  scaled /= power;
  mpz_class integral(scaled);  // 64 or 65 digits
  const std::string top = integral.get_str(10);
  const std::string guard = top.substr(20, 40);
  if (top.size() < 64 || guard.find_first_not_of('0') == std::string::npos ||
      guard.find_first_not_of('9') == std::string::npos) {
    return describe_exact(value);
  }
  result.digits = top.size() + k;
  set_leading(result, top);
  return result;
}

}  // namespace fib
