#pragma once
// Bytes from the outside world (arguments, paths, file contents, dataset names, web pages) made
// safe to print and to put into JSON, whatever they hold.
//
// Nothing here assumes UTF-8 input. In JSON, valid UTF-8 passes through unchanged and every byte
// that is not part of valid UTF-8 becomes the escape \udcXX -- Python's "surrogateescape" (PEP
// 383): json.loads gives a str whose os.fsencode() is the original bytes, so a path with a
// Latin-1 byte in it survives a round trip through a --json summary or a provenance attribute.
// In messages, control bytes and invalid UTF-8 are shown as \xNN and long texts are cut in the
// middle, so a hostile value can neither move the terminal's cursor nor flood a log.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace spmd {

/// A JSON string literal (with the quotes) for any bytes: see above.
[[nodiscard]] std::string json_quote(std::string_view bytes);

/// `value` as compact JSON text, its strings (and object keys) quoted by json_quote. Use instead
/// of nlohmann's dump(), which throws on the first byte that is not UTF-8.
[[nodiscard]] std::string json_dump(const nlohmann::ordered_json& value);
[[nodiscard]] std::string json_dump(const nlohmann::json& value);

/// One printable line: control bytes (line breaks too) and bytes that are not valid UTF-8
/// as \xNN, and at most `max_bytes` of it (the middle cut out and marked).
[[nodiscard]] std::string printable(std::string_view bytes, std::size_t max_bytes = 2000);

/// `text` without the blanks (space, tab, carriage return) at either end: a value from a line
/// of a file or a command-line word.
[[nodiscard]] std::string_view trim_blanks(std::string_view text) noexcept;

/// Length of the valid UTF-8 sequence starting at bytes[at], or 0 if none starts there
/// (overlong forms, surrogates and code points past U+10FFFF are not valid).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view bytes, std::size_t at) noexcept;

}  // namespace spmd
