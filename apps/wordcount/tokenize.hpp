#pragma once
// spmd-wordcount's definition of a word, for UTF-8 text.
//
// A word is a maximal run of word characters:
//  - ASCII letters and digits (not '_');
//  - any other code point, except punctuation, symbols and spaces: U+0080-U+00BF (Latin-1
//    punctuation and signs), U+00D7, U+00F7, combining marks U+0300-U+036F, U+2000-U+2BFF
//    (punctuation, currency, letterlike and number forms, arrows, maths, technical, boxes,
//    shapes, dingbats), U+3000-U+303F (CJK punctuation), U+FE00-U+FE0F, U+FE30-U+FE4F, U+FEFF,
//    fullwidth punctuation (U+FF00-U+FF0F, U+FF1A-U+FF20, U+FF3B-U+FF40, U+FF5B-U+FF65) and
//    U+1F000-U+1FAFF (emoji and pictographs).
// Bytes that are not valid UTF-8 separate words. Words are lower-cased: ASCII, Latin-1,
// Latin Extended-A (not U+0130), Greek (with the final sigma, as Unicode's rules give it) and
// Cyrillic; other scripts are kept as written. On text in those scripts this agrees with
// Python's re.findall(r"[^\W_]+", text) followed by str.lower() on each word.
#include <string>
#include <string_view>
#include <unordered_map>

namespace wordcount {

using Counts = std::unordered_map<std::string, std::uint64_t>;

/// Adds every word of `text` (lower-cased) to `counts`; returns how many words there were.
std::uint64_t count_words(std::string_view text, Counts& counts);

}  // namespace wordcount
