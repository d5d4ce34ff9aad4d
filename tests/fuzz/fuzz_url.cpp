// libFuzzer: the crawler's URL normaliser and scope (apps/crawl/url.cpp, scope.cpp). Input: a
// link and a base URL separated by a newline. Properties: no crash or sanitizer report; a
// normalised URL parses and normalises to itself (one key per page for the farm); a file URL
// judged inside the root reaches a file under it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "scope.hpp"
#include "url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view href = input.substr(0, newline);
  const std::string_view base = newline == std::string_view::npos ? "http://example.test/a/b.html"
                                                                  : input.substr(newline + 1);
  const auto url = crawl::normalize(href, base);
  if (!url) return 0;
  const auto parts = crawl::parts(*url);
  if (!parts) std::abort();  // the normaliser produced something it cannot read back
  if (crawl::normalize(*url) != url) std::abort();  // not a fixed point: two keys for one page
  (void)crawl::host_key(*parts);
  (void)crawl::host_allowed(*parts, {"example.test", "127.0.0.1:8080"});
  if (parts->scheme == "file") {
    (void)crawl::file_path(*url);
    // The root does not exist, so no symbolic link can take a path elsewhere: a plain path
    // (nothing percent-encoded) is inside exactly when its lexically normal form is.
    const bool inside = crawl::file_under_a_root(*url, {"file:///tmp/spmd-fuzz-root/"});
    const auto path = crawl::file_path(*url);
    const std::string normal =
        path ? std::filesystem::path(*path).lexically_normal().string() : std::string();
    if (path && url->find('%') == std::string::npos &&
        inside != (normal == "/tmp/spmd-fuzz-root" || normal.starts_with("/tmp/spmd-fuzz-root/"))) {
      std::abort();  // the scope check and the path disagree
    }
  }
  return 0;
}
