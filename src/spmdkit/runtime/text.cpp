#include "spmdkit/runtime/text.hpp"

#include <fmt/format.h>

namespace spmd {

std::size_t utf8_sequence_length(std::string_view bytes, std::size_t at) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;   // bounds of the second byte, which exclude overlong forms,
  unsigned char high = 0xBF;  // surrogates and code points past U+10FFFF (RFC 3629 table)
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (at + length > bytes.size()) return 0;
  if (byte(at + 1) < low || byte(at + 1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) return 0;
  }
  return length;
}

std::string_view trim_blanks(std::string_view text) noexcept {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::string json_quote(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 2);
  out += '"';
  for (std::size_t at = 0; at < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[at]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++at;
    } else if (c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: out += fmt::format("\\u{:04x}", c);
      }
      ++at;
    } else if (const std::size_t length = utf8_sequence_length(bytes, at); length > 0) {
      out.append(bytes.substr(at, length));
      at += length;
    } else {
      out += fmt::format("\\udc{:02x}", c);  // surrogateescape: U+DC80..U+DCFF for 0x80..0xFF
      ++at;
    }
  }
  out += '"';
  return out;
}

namespace {

template <class Json>
void dump_into(const Json& value, std::string& out) {
  if (value.is_string()) {
    out += json_quote(value.template get_ref<const std::string&>());
  } else if (value.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!first) out += ',';
      first = false;
      out += json_quote(it.key());
      out += ':';
      dump_into(it.value(), out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& element : value) {
      if (!first) out += ',';
      first = false;
      dump_into(element, out);
    }
    out += ']';
  } else {
    out += value.dump();  // numbers, booleans, null: no strings inside
  }
}

}  // namespace

std::string json_dump(const nlohmann::ordered_json& value) {
  std::string out;
  dump_into(value, out);
  return out;
}

std::string json_dump(const nlohmann::json& value) {
  std::string out;
  dump_into(value, out);
  return out;
}

std::string printable(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(bytes.size(), max_bytes) + 16);
  for (std::size_t at = 0; at < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[at]);
    const std::size_t length = (c < 0x20 || c == 0x7F) ? 0 : utf8_sequence_length(bytes, at);
    if (c == '\n' || c == '\t') {
      out += ' ';  // a multi-line message (HDF5's have some) folded onto one line
      ++at;
    } else if (length > 0) {
      out.append(bytes.substr(at, length));
      at += length;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++at;
    }
  }
  if (out.size() > max_bytes && max_bytes >= 64) {
    // Keep the start (what failed) and the end (often the reason); never split a character.
    std::size_t head = max_bytes / 2;
    std::size_t tail = out.size() - (max_bytes - head - 40);
    while (head > 0 && (static_cast<unsigned char>(out[head]) & 0xC0) == 0x80) --head;
    while (tail < out.size() && (static_cast<unsigned char>(out[tail]) & 0xC0) == 0x80) ++tail;
    out =
        fmt::format("{}[...{} bytes cut...]{}", out.substr(0, head), tail - head, out.substr(tail));
  }
  return out;
}

}  // namespace spmd
