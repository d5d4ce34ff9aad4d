#pragma once
// One worker's HTTP(S)/file client: a reused libcurl easy handle (connection reuse), bodies cut
// at a byte limit, redirects reported (not followed: the crawler decides whether the target is
// in scope), robots.txt cached per host, and per-host politeness delays.
#include <curl/curl.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "robots.hpp"
#include "url.hpp"

namespace crawl {

struct FetchOptions {
  long timeout_ms = 10000;
  std::size_t max_bytes = 1 << 20;
  std::string user_agent = "spmd-crawl";
  /// Seconds between two requests to the same host, across all workers: each worker waits
  /// `delay * workers` (an approximation without coordination).
  double delay = 0;
  int workers = 1;
  /// PEM file of the certificate authorities to trust for https (empty: the system's).
  std::string ca_file;
};

struct FetchResult {
  long status = 0;           ///< HTTP status; 200 for a file read
  CURLcode code = CURLE_OK;  ///< transfer result (a cut body counts as OK)
  std::string error;         ///< curl's message when code != OK
  std::string content_type;  ///< lower case, parameters dropped ("text/html")
  std::string body;
  bool truncated = false;  ///< body longer than max_bytes, cut
  std::string redirect;    ///< Location of a 3xx, resolved
};

/// Process-wide libcurl set-up; create one in main before any Fetcher.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

class Fetcher {
 public:
  explicit Fetcher(FetchOptions options);
  [[nodiscard]] FetchResult fetch(const std::string& url);
  /// What robots.txt of the URL's host says (fetched once per host and worker). A robots.txt
  /// that cannot be reached disallows everything (RFC 9309 2.3.1.4); then `unreachable` says
  /// how the transfer failed, so that a page is recorded with the real cause (a refused
  /// certificate, a time-out) rather than as a robots exclusion.
  struct RobotsVerdict {
    bool allowed = true;
    CURLcode unreachable = CURLE_OK;
    std::string error;
  };
  [[nodiscard]] RobotsVerdict robots_allow(const UrlParts& url);

 private:
  struct EasyDeleter {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
  };
  void wait_politely(const std::string& host);
  struct HostRobots {
    RobotsRules rules;
    CURLcode unreachable = CURLE_OK;
    std::string error;
  };
  [[nodiscard]] HostRobots read_robots(const std::string& origin);

  FetchOptions options_;
  std::unique_ptr<CURL, EasyDeleter> easy_;
  std::map<std::string, HostRobots> robots_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_request_;
};

}  // namespace crawl
