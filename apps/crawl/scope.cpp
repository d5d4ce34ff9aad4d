#include "scope.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>

namespace crawl {

bool host_allowed(const UrlParts& url, const std::vector<std::string>& allowed) {
  const std::string with_port = host_key(url);
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
    return entry == with_port || entry == url.host;
  });
}

namespace {

// The file a file URL really reaches: percent-decoded (as libcurl decodes it to open the file),
// dot segments removed and symbolic links followed. Comparing the URL's text would let
// "%2e%2e/", "..%2f" or a link to "/" out of the seed's directory.
std::optional<std::filesystem::path> reached_file(const std::string& url) {
  const auto path = file_path(url);
  if (!path || path->empty()) return std::nullopt;
  std::error_code error;
  auto resolved = std::filesystem::weakly_canonical(std::filesystem::path(*path), error);
  if (error) return std::nullopt;
  if (resolved.filename().empty()) resolved = resolved.parent_path();  // "dir/" is "dir"
  return resolved;
}

}  // namespace

bool file_under_a_root(const std::string& url, const std::vector<std::string>& roots) {
  const auto file = reached_file(url);
  if (!file) return false;
  return std::any_of(roots.begin(), roots.end(), [&](const std::string& root_url) {
    const auto root = reached_file(root_url);
    if (!root) return false;
    const auto relative = file->lexically_relative(*root);
    return !relative.empty() && *relative.begin() != ".." && !relative.is_absolute();
  });
}

}  // namespace crawl
