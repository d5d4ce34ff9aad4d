#include "url.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace crawl {

namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

struct CurlString {
  char* text = nullptr;
  ~CurlString() { curl_free(text); }
};

std::optional<std::string> get(CURLU* url, CURLUPart part, unsigned flags = 0) {
  CurlString value;
  if (curl_url_get(url, part, &value.text, flags) != CURLUE_OK || value.text == nullptr) {
    return std::nullopt;
  }
  return std::string(value.text);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::optional<std::string> rebuild(CURLU* url) {
  const auto scheme = get(url, CURLUPART_SCHEME);
  if (!scheme) return std::nullopt;
  const std::string s = lower(*scheme);
  std::string out = s + "://";
  if (s != "file") {
    const auto host = get(url, CURLUPART_HOST);
    if (!host || host->empty()) return std::nullopt;
    out += lower(*host);
    // CURLU_NO_DEFAULT_PORT: no port when it is the scheme's default.
    if (const auto port = get(url, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT)) out += ":" + *port;
  }
  const auto path = get(url, CURLUPART_PATH);
  out += path && !path->empty() ? *path : "/";
  if (const auto query = get(url, CURLUPART_QUERY)) out += "?" + *query;
  return out;
}

}  // namespace

namespace {

std::optional<std::string> normalize_once(const std::string& text) {
  UrlHandle url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(),
                           CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) != CURLUE_OK) {
    return std::nullopt;
  }
  return rebuild(url.get());
}

// A normalised URL must read back (parts) and normalise to itself, or one page would have two
// keys. libcurl's output is not always its own fixed point (a host spelled "%37" becomes "7",
// which it then reads as the address 0.0.0.7; a file URL with a percent-encoded host is refused
// when read again): normalise again until nothing changes, and drop what never settles
// (fuzz_url found these).
std::optional<std::string> settled(std::optional<std::string> url) {
  for (int round = 0; url && round < 3; ++round) {
    auto again = normalize_once(*url);
    if (again == url) return parts(*url) ? url : std::nullopt;
    url = std::move(again);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> normalize(std::string_view href, std::string_view base) {
  UrlHandle url(curl_url());
  if (!url) return std::nullopt;
  const std::string base_text(base);
  // Encoded as the link is: a base with raw bytes (a <base href>) must not give the links it
  // resolves, or a fragment-only link, a second spelling of one page (fuzz_url found it).
  if (curl_url_set(url.get(), CURLUPART_URL, base_text.c_str(),
                   CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) != CURLUE_OK) {
    return std::nullopt;
  }
  // Leading/trailing white space is common in real hrefs and not part of the URL.
  const auto first = href.find_first_not_of(" \t\r\n");
  const auto last = href.find_last_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  std::string link(href.substr(first, last - first + 1));
  // libcurl resolves a fragment-only or query-only reference against the host, not the
  // document (RFC 3986 5.2.2 keeps the base path): spell those out.
  if (link.front() == '#') return settled(rebuild(url.get()));
  if (link.front() == '?') {
    const std::string base_text_no_query(base.substr(0, base.find_first_of("?#")));
    link = base_text_no_query + link;
  }
  // Setting a relative URL on a handle that holds one resolves it against it (RFC 3986).
  if (curl_url_set(url.get(), CURLUPART_URL, link.c_str(),
                   CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) != CURLUE_OK) {
    return std::nullopt;
  }
  return settled(rebuild(url.get()));
}

std::optional<std::string> normalize(std::string_view url_text) {
  UrlHandle url(curl_url());
  if (!url) return std::nullopt;
  const std::string text(url_text);
  if (curl_url_set(url.get(), CURLUPART_URL, text.c_str(),
                   CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) != CURLUE_OK) {
    return std::nullopt;
  }
  return settled(rebuild(url.get()));
}

std::optional<UrlParts> parts(std::string_view url_text) {
  UrlHandle url(curl_url());
  const std::string text(url_text);
  if (!url ||
      curl_url_set(url.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return std::nullopt;
  }
  UrlParts p;
  p.scheme = lower(get(url.get(), CURLUPART_SCHEME).value_or(""));
  p.host = lower(get(url.get(), CURLUPART_HOST).value_or(""));
  p.port = get(url.get(), CURLUPART_PORT, CURLU_NO_DEFAULT_PORT).value_or("");
  p.path = get(url.get(), CURLUPART_PATH).value_or("/");
  if (const auto query = get(url.get(), CURLUPART_QUERY)) p.path += "?" + *query;
  return p;
}

std::optional<std::string> file_path(std::string_view url_text) {
  UrlHandle url(curl_url());
  const std::string text(url_text);
  if (!url ||
      curl_url_set(url.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return std::nullopt;
  }
  if (lower(get(url.get(), CURLUPART_SCHEME).value_or("")) != "file") return std::nullopt;
  // CURLU_URLDECODE refuses a decoded NUL (CURLUE_URLDECODE): such a path names no file.
  return get(url.get(), CURLUPART_PATH, CURLU_URLDECODE);
}

std::string host_key(const UrlParts& p) { return p.port.empty() ? p.host : p.host + ":" + p.port; }

}  // namespace crawl
