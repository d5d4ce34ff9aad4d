#include "fetcher.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

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

// One request: its easy handle (owned), where the body goes, and who wants the result.
struct Fetcher::Transfer {
  CURL* easy = nullptr;
  std::string url;
  std::string host;
  bool file = false;
  FetchResult result;
  Sink sink{nullptr, 0};
  std::array<char, CURL_ERROR_SIZE> error{};
  OnFetched done;
};

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    throw spmd::Error("curl_global_init failed");
}
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

Fetcher::Fetcher(FetchOptions options) : options_(std::move(options)), multi_(curl_multi_init()) {
  if (!multi_) throw spmd::Error("curl_multi_init failed");
  options_.per_host = std::max(options_.per_host, 1);
}

Fetcher::~Fetcher() {
  cancel();
  for (CURL* easy : spare_) curl_easy_cleanup(easy);
}

std::size_t Fetcher::pending() const noexcept { return running_.size() + waiting_; }

std::chrono::steady_clock::duration Fetcher::gap() const {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options_.delay * std::max(options_.ranks, 1)));
}

void Fetcher::fetch(const std::string& url, OnFetched done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->url = url;
  const auto p = parts(url);
  transfer->file = p && p->scheme == "file";
  if (p && !transfer->file) transfer->host = host_key(*p);
  transfer->done = std::move(done);
  hosts_[transfer->host].waiting.push_back(std::move(transfer));
  ++waiting_;
  start_due();
}

// Starts every waiting request its host allows now (file URLs: all of them).
void Fetcher::start_due() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [host, state] : hosts_) {
    while (!state.waiting.empty()) {
      const bool limited = !host.empty();
      if (limited && (state.running >= options_.per_host || now < state.next_start)) break;
      std::unique_ptr<Transfer> transfer = std::move(state.waiting.front());
      state.waiting.pop_front();
      --waiting_;
      if (limited) {
        ++state.running;
        state.next_start = now + gap();
      }
      CURL* easy = nullptr;
      if (spare_.empty()) {
        easy = curl_easy_init();
        if (easy == nullptr) throw spmd::Error("curl_easy_init failed");
      } else {
        easy = spare_.back();
        spare_.pop_back();
        curl_easy_reset(easy);
      }
      transfer->easy = easy;
      transfer->sink = Sink{&transfer->result.body, options_.max_bytes};
      curl_easy_setopt(easy, CURLOPT_URL, transfer->url.c_str());
      curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https,file");
      curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // the crawler follows, if in scope
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
      curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.timeout_ms);
      curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
      curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer->sink);
      curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error.data());
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
      if (!options_.ca_file.empty()) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
      }
      if (curl_multi_add_handle(multi_.get(), easy) != CURLM_OK) {
        spare_.push_back(easy);  // still ours: freed with the others
        throw spmd::Error("curl_multi_add_handle failed");
      }
      running_.emplace(easy, std::move(transfer));
    }
  }
}

void Fetcher::poll(std::chrono::milliseconds max_wait) {
  start_due();
  // Wake up for the next start a host's delay holds back, too.
  auto wait = max_wait;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [host, state] : hosts_) {
    if (state.waiting.empty() || host.empty() || state.running >= options_.per_host) continue;
    const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
        state.next_start - now + std::chrono::milliseconds(1));
    wait = std::clamp(until, std::chrono::milliseconds(0), wait);
  }
  if (curl_multi_poll(multi_.get(), nullptr, 0, static_cast<int>(wait.count()), nullptr) !=
      CURLM_OK) {
    throw spmd::Error("curl_multi_poll failed");
  }
  int still_running = 0;
  if (curl_multi_perform(multi_.get(), &still_running) != CURLM_OK) {
    throw spmd::Error("curl_multi_perform failed");
  }
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode code = message->data.result;
    const auto it = running_.find(easy);
    if (it == running_.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    running_.erase(it);
    curl_multi_remove_handle(multi_.get(), easy);
    if (!transfer->host.empty()) --hosts_[transfer->host].running;

    FetchResult& result = transfer->result;
    result.code = code;
    result.truncated = transfer->sink.truncated;
    if (result.code == CURLE_WRITE_ERROR && transfer->sink.truncated) result.code = CURLE_OK;
    if (result.code != CURLE_OK) {
      result.error =
          transfer->error[0] != '\0' ? transfer->error.data() : curl_easy_strerror(result.code);
    } else {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
      const char* content_type = nullptr;
      curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
      result.content_type = media_type(content_type);
      if (transfer->file) {
        result.status = 200;
        result.content_type = guess_type(transfer->url);
      }
      if (result.status >= 300 && result.status < 400) {
        const char* location = nullptr;
        curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location);
        if (location != nullptr) result.redirect = location;
      }
    }
    spare_.push_back(easy);
    transfer->done(std::move(result));
  }
  start_due();
}

void Fetcher::wake() { curl_multi_wakeup(multi_.get()); }

void Fetcher::cancel() {
  for (auto& [easy, transfer] : running_) {
    curl_multi_remove_handle(multi_.get(), easy);
    spare_.push_back(easy);
  }
  running_.clear();
  hosts_.clear();
  robots_.clear();
  waiting_ = 0;
}

void Fetcher::robots(const UrlParts& url, OnRobots done) {
  if (url.scheme != "http" && url.scheme != "https") {
    done(RobotsVerdict{});
    return;
  }
  const std::string origin = url.scheme + "://" + host_key(url);
  RobotsState& state = robots_[origin];
  if (state.known) {
    done({state.known->rules.allowed(url.path), state.known->unreachable, state.known->error});
    return;
  }
  const bool first = state.waiting.empty();
  state.waiting.emplace_back(url.path, std::move(done));
  if (first) read_robots(origin, origin + "/robots.txt", 0);
}

// The rules of a host, as RFC 9309 2.3.1 says: a robots.txt that is there (2xx) is parsed; one
// that redirects is followed, up to five times (on the same scheme, host and port only: the
// crawler requests no host it was not allowed, so a redirect elsewhere counts as unreachable);
// one that is unavailable (4xx, or more than five redirects) allows everything; one that is
// unreachable (5xx, a time-out, a refused connection) disallows everything.
void Fetcher::read_robots(const std::string& origin, const std::string& location, int redirects) {
  fetch(location, [this, origin, location, redirects](FetchResult robots) {
    const RobotsRules disallow_all("User-agent: *\nDisallow: /\n", options_.user_agent);
    if (robots.code != CURLE_OK) {
      robots_known(origin, {disallow_all, robots.code,
                            "robots.txt unreachable, not fetched: " + robots.error});
    } else if (robots.status >= 200 && robots.status < 300) {
      robots_known(origin, {RobotsRules(robots.body, options_.user_agent)});
    } else if (robots.status >= 300 && robots.status < 400) {
      const auto next =
          robots.redirect.empty() ? std::nullopt : normalize(robots.redirect, location);
      const auto next_parts = next ? parts(*next) : std::nullopt;
      if (!next_parts || next_parts->scheme + "://" + host_key(*next_parts) != origin) {
        robots_known(origin, {disallow_all});
      } else if (redirects >= 5) {
        robots_known(origin, {});  // more than five redirects: unavailable
      } else {
        read_robots(origin, *next, redirects + 1);
      }
    } else if (robots.status >= 400 && robots.status < 500) {
      robots_known(origin, {});
    } else {
      robots_known(origin, {disallow_all});
    }
  });
}

void Fetcher::robots_known(const std::string& origin, HostRobots rules) {
  RobotsState& state = robots_[origin];
  state.known = std::move(rules);
  auto waiting = std::move(state.waiting);
  state.waiting.clear();
  for (auto& [path, done] : waiting) {
    done({state.known->rules.allowed(path), state.known->unreachable, state.known->error});
  }
}

}  // namespace crawl
