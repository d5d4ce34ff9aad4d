// libFuzzer: robots.txt parsing and matching (apps/crawl/robots.cpp). Input: a robots.txt; its
// first line is also matched as a path. Property: no crash or sanitizer report, and matching
// ends (patterns with many '*' must not take exponential time: libFuzzer's -timeout catches it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "robots.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const crawl::RobotsRules rules(text, "spmd-crawl/0.1");
  const std::string path = "/" + std::string(text.substr(0, text.find('\n')));
  (void)rules.allowed(path);
  (void)rules.allowed("/");
  (void)rules.allowed("/private/a.html?x=1");
  return 0;
}
