#include "spmdkit/patterns/keyed_reduce.hpp"

namespace spmd {

std::uint64_t stable_hash(std::string_view key) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace spmd
