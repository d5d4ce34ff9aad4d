#pragma once
// URLs as the crawler compares them: absolute, fragment dropped, scheme and host lower-cased,
// default port dropped, dot segments resolved (RFC 3986, through libcurl's URL API).
#include <optional>
#include <string>
#include <string_view>

namespace crawl {

struct UrlParts {
  std::string scheme;  ///< "http", "https", "file", ... (lower case)
  std::string host;    ///< lower case; empty for file URLs
  std::string port;    ///< empty for the scheme's default
  std::string path;    ///< with query, without fragment
};

/// `href` resolved against `base` and normalised; nullopt if it is not a usable URL.
[[nodiscard]] std::optional<std::string> normalize(std::string_view href, std::string_view base);
/// An absolute URL normalised (seed URLs).
[[nodiscard]] std::optional<std::string> normalize(std::string_view url);
/// The parts of a normalised URL (nullopt if it does not parse).
[[nodiscard]] std::optional<UrlParts> parts(std::string_view url);
/// The file-system path a file URL names, percent-decoded as libcurl will decode it when it
/// fetches ("%2e%2e/" is "../"); nullopt if it is not a file URL or decodes to a NUL byte.
[[nodiscard]] std::optional<std::string> file_path(std::string_view url);
/// "host" or "host:port" of a URL, as --allow-host matches it.
[[nodiscard]] std::string host_key(const UrlParts& parts);

}  // namespace crawl
