#pragma once
// What the crawler takes from an HTML page, parsed by gumbo (an HTML5-conformant parser: any
// byte sequence parses, malformed markup included).
#include <string>
#include <string_view>
#include <vector>

namespace crawl {

struct HtmlSummary {
  std::string title;               ///< text of the first <title>, white space collapsed
  std::string base;                ///< <base href>, if any
  std::vector<std::string> links;  ///< href of <a> and <area>, src of <frame>/<iframe>, in order
};

[[nodiscard]] HtmlSummary parse_html(std::string_view html);

}  // namespace crawl
