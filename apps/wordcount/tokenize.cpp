#include "tokenize.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace wordcount {

namespace {

constexpr char32_t invalid = 0xFFFFFFFF;

// The next code point of `text` at `at` (advancing it); `invalid` for a malformed sequence,
// which then consumes one byte.
char32_t next_code_point(std::string_view text, std::size_t& at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) {
    ++at;
    return lead;
  }
  std::size_t length = 0;
  char32_t cp = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    ++at;
    return invalid;
  }
  if (at + length > text.size()) {
    ++at;
    return invalid;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char c = byte(at + i);
    if ((c & 0xC0) != 0x80) {
      ++at;
      return invalid;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  // Overlong forms, surrogates and values above U+10FFFF are malformed.
  static constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[length] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++at;
    return invalid;
  }
  at += length;
  return cp;
}

// Properties of code points from `first` up to the next run's first.
struct CharacterRun {
  char32_t first;
  std::uint8_t flags;
};
// str.lower() of a word character: one code point, or two (`then` non-zero).
struct LowerCase {
  char32_t from;
  char32_t to;
  char32_t then;
};
constexpr std::uint8_t word_flag = 1;
constexpr std::uint8_t cased_flag = 2;
constexpr std::uint8_t case_ignorable_flag = 4;

#include "unicode_tables.inc"

std::uint8_t flags_of(char32_t c) {
  if (c < 0x80) {  // the common case, without a search
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return word_flag | cased_flag;
    return (c >= '0' && c <= '9') ? word_flag : 0;
  }
  if (c == invalid) return 0;
  const auto* after =
      std::upper_bound(std::begin(character_runs), std::end(character_runs), c,
                       [](char32_t v, const CharacterRun& run) { return v < run.first; });
  return std::prev(after)->flags;
}

bool is_word_char(char32_t c) { return (flags_of(c) & word_flag) != 0; }

// Appends str.lower() of a word character to `out`.
void append_lower(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out += (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
    return;
  }
  const auto* it =
      std::lower_bound(std::begin(lower_cases), std::end(lower_cases), c,
                       [](const LowerCase& entry, char32_t v) { return entry.from < v; });
  if (it == std::end(lower_cases) || it->from != c) {
    out += c;
    return;
  }
  out += it->to;
  if (it->then != 0) out += it->then;
}

// Python's final-sigma rule (unicodeobject.c, handle_capital_sigma): U+03A3 at `i` of `word` is
// final when a cased letter precedes it and none follows, case-ignorable letters skipped.
bool is_final_sigma(const std::u32string& word, std::size_t i) {
  std::size_t j = i;
  std::uint8_t before = 0;
  while (j > 0) {
    before = flags_of(word[--j]);
    if ((before & case_ignorable_flag) == 0) break;
    before = 0;
  }
  if ((before & cased_flag) == 0) return false;
  for (std::size_t k = i + 1; k < word.size(); ++k) {
    const std::uint8_t after = flags_of(word[k]);
    if ((after & case_ignorable_flag) == 0) return (after & cased_flag) == 0;
  }
  return true;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace

const char* unicode_version() { return tables_unicode_version; }

std::uint64_t count_words(std::string_view text, Counts& counts) {
  std::uint64_t words = 0;
  std::u32string word;
  std::u32string lower;
  std::string utf8;
  auto finish = [&] {
    if (word.empty()) return;
    lower.clear();
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (word[i] == 0x3A3) {
        lower += is_final_sigma(word, i) ? U'\u03C2' : U'\u03C3';
      } else {
        append_lower(lower, word[i]);
      }
    }
    utf8.clear();
    for (const char32_t c : lower) append_utf8(utf8, c);
    ++counts[utf8];
    ++words;
    word.clear();
  };
  std::size_t at = 0;
  while (at < text.size()) {
    const char32_t c = next_code_point(text, at);
    if (is_word_char(c)) {
      word += c;
    } else {
      finish();
    }
  }
  finish();
  return words;
}

}  // namespace wordcount
