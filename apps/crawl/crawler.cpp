#include "crawler.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "html.hpp"
#include "scope.hpp"

namespace crawl {

namespace {

bool is_html(const std::string& content_type) {
  return content_type == "text/html" || content_type == "application/xhtml+xml";
}

}  // namespace

std::string cut_utf8(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) --end;
  return text.substr(0, end);
}

namespace {

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return true;
    default: return false;
  }
}

}  // namespace

std::string describe_status(std::int32_t s) {
  switch (s) {
    case status::fetch_error: return "fetch failed";
    case status::timeout: return "timed out";
    case status::out_of_scope: return "not fetched: outside the allowed hosts or schemes";
    case status::too_deep: return "not fetched: beyond --max-depth";
    case status::over_budget: return "not fetched: beyond --max-pages";
    case status::robots: return "not fetched: disallowed by robots.txt";
    default: return s > 0 ? fmt::format("HTTP {}", s) : fmt::format("status {}", s);
  }
}

std::int32_t classify(const CrawlTask& task, const CrawlOptions& options, std::string* why) {
  const auto url = parts(task.url);
  if (!url) {
    if (why != nullptr) *why = "not a URL";
    return status::out_of_scope;
  }
  if (url->scheme == "file") {
    if (!file_under_a_root(task.url, options.file_roots)) {
      if (why != nullptr) *why = "file outside the seed directories";
      return status::out_of_scope;
    }
  } else if (url->scheme != "http" && url->scheme != "https") {
    if (why != nullptr) *why = fmt::format("scheme {} is not crawled", url->scheme);
    return status::out_of_scope;
  } else if (!host_allowed(*url, options.allow_hosts)) {
    if (why != nullptr) *why = fmt::format("host {} is not allowed", host_key(*url));
    return status::out_of_scope;
  }
  if (task.depth > options.max_depth) return status::too_deep;
  return 0;
}

namespace {

// The page of a completed fetch; throws spmd::Error for a transient failure while attempts
// remain (the farm tries again); every link followed goes to `emit`.
Page page_from(const CrawlTask& task, FetchResult fetched, std::uint32_t attempt,
               const CrawlOptions& options, const std::function<void(CrawlTask)>& emit) {
  Page page;
  const bool last_attempt = attempt >= options.attempts;
  if (fetched.code != CURLE_OK) {
    if (transient(fetched.code) && !last_attempt) {
      throw spmd::Error(fmt::format("{}: {}", task.url, fetched.error));  // the farm retries
    }
    page.status = fetched.code == CURLE_OPERATION_TIMEDOUT ? status::timeout : status::fetch_error;
    page.error = fetched.error;
    return page;
  }
  if (fetched.status >= 500 && !last_attempt) {
    throw spmd::Error(fmt::format("{}: HTTP {}", task.url, fetched.status));
  }
  page.status = static_cast<std::int32_t>(fetched.status);
  page.content_type = cut_utf8(fetched.content_type, max_content_type_bytes);
  page.bytes = fetched.body.size();
  page.truncated = fetched.truncated ? 1 : 0;
  if (fetched.truncated)
    page.error = fmt::format("body cut at --max-bytes {}", options.fetch.max_bytes);

  std::vector<std::string> hrefs;
  std::string base = task.url;
  if (!fetched.redirect.empty()) {
    hrefs.push_back(fetched.redirect);  // a redirect is a link the crawler may follow
  } else if (page.status >= 200 && page.status < 300 && is_html(page.content_type)) {
    HtmlSummary html = parse_html(fetched.body);
    page.title = cut_utf8(html.title, max_title_bytes);
    if (!html.base.empty()) {
      if (auto resolved = normalize(html.base, task.url)) base = *resolved;
    }
    hrefs = std::move(html.links);
  }
  std::set<std::string> seen;
  for (const std::string& href : hrefs) {
    auto link = normalize(href, base);
    if (!link || !seen.insert(*link).second) continue;
    if (link->size() > max_url_bytes || page.links.size() >= options.max_links) {
      ++page.links_cut;
      continue;
    }
    page.links.push_back(*link);
    emit(CrawlTask{*link, task.depth + 1, 0});
  }
  return page;
}

}  // namespace

PageCrawler::PageCrawler(const CrawlOptions& options)
    : options_(options), fetcher_(options.fetch) {}

void PageCrawler::start(Task task) {
  Page page;
  std::string why;
  const CrawlTask& crawl = task.task();
  const std::int32_t verdict = crawl.skip != 0 ? crawl.skip : classify(crawl, options_, &why);
  if (verdict != 0) {
    page.status = verdict;
    page.error = why.empty() ? describe_status(verdict) : describe_status(verdict) + ": " + why;
    task.done(page);
    return;
  }
  const auto url = parts(crawl.url);
  if (options_.ignore_robots || !url) {
    fetch_page(std::move(task));
    return;
  }
  fetcher_.robots(*url, [this, task](const RobotsVerdict& robots) mutable {
    Page refused;
    if (robots.unreachable != CURLE_OK) {
      refused.status =
          robots.unreachable == CURLE_OPERATION_TIMEDOUT ? status::timeout : status::fetch_error;
      refused.error = robots.error;
      task.done(refused);
    } else if (!robots.allowed) {
      refused.status = status::robots;
      refused.error = describe_status(status::robots);
      task.done(refused);
    } else {
      fetch_page(std::move(task));
    }
  });
}

void PageCrawler::fetch_page(Task task) {
  const std::string url = task.task().url;
  fetcher_.fetch(url, [this, task](FetchResult fetched) mutable {
    try {
      task.done(page_from(task.task(), std::move(fetched), task.attempt(), options_,
                          [&task](CrawlTask link) { task.emit(link); }));
    } catch (const spmd::Error& e) {
      task.fail(e.what());  // transient: tried again
    }
  });
}

}  // namespace crawl
