// libFuzzer: link and title extraction from HTML (apps/crawl/html.cpp, on gumbo). Property: no
// crash or sanitizer report; every link is a substring-free copy (owned strings, no views into
// gumbo's freed tree) of bounded size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "html.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  const crawl::HtmlSummary summary = crawl::parse_html(html);
  std::size_t total = summary.title.size() + summary.base.size();
  for (const auto& link : summary.links) total += link.size();
  // Text only comes from the input (entities expand at most 8-fold, e.g. "&nGt;" -> 3 bytes).
  if (total > 8 * size + 64) std::abort();
  return 0;
}
