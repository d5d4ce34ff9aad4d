#include "fetcher.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

#include <spmdkit/runtime.hpp>

namespace crawl {

namespace {

struct Sink {
  std::string* body;
  std::size_t limit;
  bool truncated = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * count;
  const std::size_t room = sink->limit - std::min(sink->limit, sink->body->size());
  if (bytes > room) {
    sink->body->append(data, room);
    sink->truncated = true;
    return 0;  // stop the transfer: the rest is not wanted
  }
  sink->body->append(data, bytes);
  return bytes;
}

std::string media_type(const char* content_type) {
  if (content_type == nullptr) return {};
  std::string type(content_type);
  if (const auto semicolon = type.find(';'); semicolon != std::string::npos) type.resize(semicolon);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

// file:// has no content type: guess from the extension.
std::string guess_type(const std::string& url) {
  const std::string path = url.substr(0, url.find_first_of("?#"));
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html";
  if (ext == "txt") return "text/plain";
  if (ext == "css") return "text/css";
  if (ext == "json") return "application/json";
  if (ext == "png") return "image/png";
  return "application/octet-stream";
}

}  // namespace

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    throw spmd::Error("curl_global_init failed");
}
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

Fetcher::Fetcher(FetchOptions options) : options_(std::move(options)), easy_(curl_easy_init()) {
  if (!easy_) throw spmd::Error("curl_easy_init failed");
}

void Fetcher::wait_politely(const std::string& host) {
  if (options_.delay <= 0) return;
  const auto gap = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options_.delay * std::max(options_.workers, 1)));
  const auto now = std::chrono::steady_clock::now();
  if (const auto it = last_request_.find(host);
      it != last_request_.end() && now - it->second < gap) {
    std::this_thread::sleep_for(gap - (now - it->second));
  }
  last_request_[host] = std::chrono::steady_clock::now();
}

FetchResult Fetcher::fetch(const std::string& url) {
  FetchResult result;
  const auto p = parts(url);
  if (p) wait_politely(host_key(*p));
  CURL* easy = easy_.get();
  curl_easy_reset(easy);
  char error_buffer[CURL_ERROR_SIZE] = {};
  Sink sink{&result.body, options_.max_bytes};
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // the crawler follows, after a scope check
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  result.code = curl_easy_perform(easy);
  result.truncated = sink.truncated;
  if (result.code == CURLE_WRITE_ERROR && sink.truncated) result.code = CURLE_OK;
  if (result.code != CURLE_OK) {
    result.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(result.code);
    return result;
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
  const char* content_type = nullptr;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
  result.content_type = media_type(content_type);
  if (p && p->scheme == "file") {
    result.status = 200;
    result.content_type = guess_type(url);
  }
  if (result.status >= 300 && result.status < 400) {
    const char* location = nullptr;
    curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location);
    if (location != nullptr) result.redirect = location;
  }
  return result;
}

Fetcher::RobotsVerdict Fetcher::robots_allow(const UrlParts& url) {
  if (url.scheme != "http" && url.scheme != "https") return {};
  const std::string key = url.scheme + "://" + host_key(url);
  auto it = robots_.find(key);
  if (it == robots_.end()) it = robots_.emplace(key, read_robots(key)).first;
  return {it->second.rules.allowed(url.path), it->second.unreachable, it->second.error};
}

// The rules of a host, as RFC 9309 2.3.1 says: a robots.txt that is there (2xx) is parsed; one
// that redirects is followed, up to five times (on the same scheme, host and port only: the
// crawler requests no host it was not allowed, so a redirect elsewhere counts as unreachable);
// one that is unavailable (4xx, or more than five redirects) allows everything; one that is
// unreachable (5xx, a time-out, a refused connection) disallows everything.
Fetcher::HostRobots Fetcher::read_robots(const std::string& origin) {
  const HostRobots disallow_all{RobotsRules("User-agent: *\nDisallow: /\n", options_.user_agent)};
  std::string location = origin + "/robots.txt";
  for (int redirects = 0; redirects <= 5; ++redirects) {
    const FetchResult robots = fetch(location);
    if (robots.code != CURLE_OK) {
      return {disallow_all.rules, robots.code,
              "robots.txt unreachable, not fetched: " + robots.error};
    }
    if (robots.status >= 200 && robots.status < 300) {
      return {RobotsRules(robots.body, options_.user_agent)};
    }
    if (robots.status >= 300 && robots.status < 400) {
      const auto next =
          robots.redirect.empty() ? std::nullopt : normalize(robots.redirect, location);
      const auto next_parts = next ? parts(*next) : std::nullopt;
      if (!next_parts || next_parts->scheme + "://" + host_key(*next_parts) != origin) {
        return disallow_all;
      }
      location = *next;
      continue;
    }
    if (robots.status >= 400 && robots.status < 500) return {};
    return disallow_all;
  }
  return {};  // more than five redirects: unavailable
}

}  // namespace crawl
