#include "fibonacci.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace fib {

mpz_class fibonacci(std::uint64_t n) {
  mpz_class a = 0;  // F(k)
  mpz_class b = 1;  // F(k+1)
  mpz_class c, d;
  // Walk the bits of n from the top: k doubles at each bit, plus one where the bit is set.
  for (int bit = 63 - std::countl_zero(n); bit >= 0; --bit) {
    c = 2 * b - a;
    c *= a;          // F(2k)
    d = a * a;
    d += b * b;      // F(2k+1)
    if (((n >> bit) & 1U) != 0) {
      a = d;
      b = c + d;     // F(2k+2)
    } else {
      a = c;
      b = d;
    }
  }
  return a;
}

FibResult describe(const mpz_class& value) {
  FibResult result;
  const std::string text = value.get_str(10);
  result.digits = text.size();
  result.mod1e18 = mpz_fdiv_ui(value.get_mpz_t(), 1000000000000000000UL);
  const std::size_t lead = std::min<std::size_t>(text.size(), result.leading.size() - 1);
  std::memcpy(result.leading.data(), text.data(), lead);
  result.leading[lead] = '\0';
  return result;
}

}  // namespace fib
