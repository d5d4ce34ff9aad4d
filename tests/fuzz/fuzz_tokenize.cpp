// libFuzzer: spmd-wordcount's tokenizer (apps/wordcount/tokenize.cpp). Properties: no crash or
// sanitizer report; every word is non-empty valid UTF-8; counting is additive (the words of a
// text split at a byte that is not a word character are the words of the two halves).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenize.hpp"

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  wordcount::Counts whole;
  const auto words = wordcount::count_words(text, whole);
  std::uint64_t total = 0;
  for (const auto& [word, count] : whole) {
    if (word.empty() || !valid_utf8(word) || count == 0) std::abort();
    total += count;
  }
  if (total != words) std::abort();
  const auto space = text.find(' ');
  if (space != std::string_view::npos) {
    wordcount::Counts halves;
    const auto n = wordcount::count_words(text.substr(0, space), halves) +
                   wordcount::count_words(text.substr(space + 1), halves);
    if (n != words || halves != whole) std::abort();
  }
  return 0;
}
