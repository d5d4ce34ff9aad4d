#pragma once
// spmd-wordcount's definition of a word, for UTF-8 text: exactly Python's
//   [w.lower() for w in re.findall(r"[^\W_]+", text)]
// for every code point of Unicode 14.0 (Python 3.11, Debian 12's):
//  - a word is a maximal run of characters for which str.isalnum() is true: letters (L*) and
//    numbers (Nd, Nl, No and those with a numeric value). Combining marks (Mn, Mc, Me) are not
//    word characters in Python, so they split words (a Hindi vowel sign, a decomposed accent);
//  - words are lower-cased as str.lower() does: the full mapping (U+0130 becomes "i" + U+0307)
//    and the final sigma in context (a capital sigma after a cased letter and not before one,
//    case-ignorable letters skipped, becomes U+03C2);
//  - bytes that are not valid UTF-8 separate words (Python's decode with errors="replace").
// The properties come from unicode_tables.inc, generated from Python's own unicodedata by
// make_unicode_tables.py. A code point assigned after Unicode 14.0 is not a word character.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wordcount {

using Counts = std::unordered_map<std::string, std::uint64_t>;

/// The Unicode version of the tokenizer's tables.
[[nodiscard]] const char* unicode_version();

/// Adds every word of `text` (lower-cased) to `counts`; returns how many words there were.
std::uint64_t count_words(std::string_view text, Counts& counts);

}  // namespace wordcount
