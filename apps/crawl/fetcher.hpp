#pragma once
// One rank's HTTP(S)/file client, asynchronous (libcurl's multi interface): many transfers in
// flight on one thread, connections reused across them, bodies cut at a byte limit, redirects
// reported (not followed: the crawler decides whether the target is in scope), robots.txt read
// once per host and rank, and politeness per host: at most `per_host` transfers at once and
// `delay * ranks` seconds between two starts (so about `delay` over all ranks).
#include <curl/curl.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "robots.hpp"
#include "url.hpp"

namespace crawl {

struct FetchOptions {
  long timeout_ms = 10000;
  std::size_t max_bytes = 1 << 20;
  std::string user_agent = "spmd-crawl";
  /// Seconds between two requests to the same host, across all ranks: each rank waits
  /// `delay * ranks` (an approximation without coordination).
  double delay = 0;
  int ranks = 1;
  /// Transfers to one host at once on this rank (the app divides its --per-host by the ranks).
  int per_host = 1;
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

/// What robots.txt of a URL's host says. A robots.txt that cannot be reached disallows
/// everything (RFC 9309 2.3.1.4); then `unreachable` says how the transfer failed, so that a page
/// is recorded with the real cause (a refused certificate, a time-out) rather than as a robots
/// exclusion.
struct RobotsVerdict {
  bool allowed = true;
  CURLcode unreachable = CURLE_OK;
  std::string error;
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
  using OnFetched = std::function<void(FetchResult)>;
  using OnRobots = std::function<void(const RobotsVerdict&)>;

  explicit Fetcher(FetchOptions options);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  /// Queues a request for `url`; `done` is called from a later poll() with the result.
  void fetch(const std::string& url, OnFetched done);
  /// Calls `done` with the verdict of robots.txt on `url` (http/https: fetched once per host and
  /// rank; at once when known, else from a later poll()). Other schemes are allowed.
  void robots(const UrlParts& url, OnRobots done);
  /// Waits at most `max_wait` for transfers, then calls the callbacks of those that finished.
  void poll(std::chrono::milliseconds max_wait);
  /// From any thread: a poll in progress returns now.
  void wake();
  /// Drops every transfer and waiting request; their callbacks are never called.
  void cancel();
  /// Requests started or waiting for their host.
  [[nodiscard]] std::size_t pending() const noexcept;

 private:
  struct Transfer;
  struct Host {
    int running = 0;
    std::chrono::steady_clock::time_point next_start{};
    std::deque<std::unique_ptr<Transfer>> waiting;
  };
  struct HostRobots {
    RobotsRules rules;
    CURLcode unreachable = CURLE_OK;
    std::string error;
  };
  struct RobotsState {
    std::optional<HostRobots> known;
    std::vector<std::pair<std::string, OnRobots>> waiting;  // (path, callback)
  };
  struct MultiDeleter {
    void operator()(CURLM* multi) const noexcept { curl_multi_cleanup(multi); }
  };

  void start_due();
  void read_robots(const std::string& origin, const std::string& location, int redirects);
  void robots_known(const std::string& origin, HostRobots rules);
  [[nodiscard]] std::chrono::steady_clock::duration gap() const;

  FetchOptions options_;
  std::unique_ptr<CURLM, MultiDeleter> multi_;
  std::map<std::string, Host> hosts_;  // by host key ("" for file URLs: no limits)
  std::map<CURL*, std::unique_ptr<Transfer>> running_;
  std::vector<CURL*> spare_;                   // easy handles kept for reuse
  std::map<std::string, RobotsState> robots_;  // by origin (scheme://host:port)
  std::size_t waiting_ = 0;
};

}  // namespace crawl
