#pragma once
// The crawl as tasks: a task is a URL at a depth; running it fetches the page (if it is in
// scope), records what was found and emits every link as a task one level deeper. The farm runs
// tasks in waves by depth (breadth-first) and drops URLs it has seen, so the page set and the
// depths are the same at any rank count.
#include <cstdint>
#include <string>
#include <vector>

#include <spmdkit/patterns.hpp>
#include <spmdkit/runtime.hpp>

#include "fetcher.hpp"
#include "scope.hpp"
#include "url.hpp"

namespace crawl {

/// Status codes of pages that were not fetched or whose fetch failed (HTTP codes are positive).
namespace status {
inline constexpr std::int32_t fetch_error = -1;    ///< connection, DNS, protocol, file errors
inline constexpr std::int32_t timeout = -2;        ///< no complete answer within --timeout
inline constexpr std::int32_t out_of_scope = -10;  ///< host not allowed, or not http/https/file
inline constexpr std::int32_t too_deep = -11;      ///< beyond --max-depth
inline constexpr std::int32_t over_budget = -12;   ///< beyond --max-pages
inline constexpr std::int32_t robots = -13;        ///< disallowed by robots.txt
}  // namespace status

struct CrawlTask {
  std::string url;          ///< normalised
  std::uint32_t depth = 0;  ///< links from a seed
  std::int32_t skip = 0;    ///< non-zero: record with this status, do not fetch
};

struct Page {
  std::int32_t status = 0;
  std::string error;
  std::string content_type;
  std::string title;
  std::uint64_t bytes = 0;
  std::uint8_t truncated = 0;
  std::vector<std::string> links;  ///< normalised, each once, in document order
  std::uint32_t links_cut = 0;     ///< links not followed: beyond --max-links, or too long
};

/// Bounds on what one page adds to the output, so that a hostile page cannot blow it up.
/// URLs: RFC 9110 (4.1) asks for at least 8000 octets; longer links are not followed.
inline constexpr std::size_t max_url_bytes = 8000;
inline constexpr std::size_t max_title_bytes = 200;
inline constexpr std::size_t max_content_type_bytes = 256;
inline constexpr std::size_t max_error_bytes = 1024;

struct CrawlOptions {
  std::vector<std::string> seeds;        ///< normalised
  std::vector<std::string> allow_hosts;  ///< "host" (any port) or "host:port"
  std::vector<std::string> file_roots;   ///< file URLs under these prefixes are in scope
  std::uint32_t max_depth = 3;
  std::uint64_t max_pages = 1000;
  std::uint32_t max_links = 1000;  ///< links followed per page, in document order
  bool ignore_robots = false;
  std::uint32_t attempts = 3;  ///< tries of a transient failure (timeout, 5xx)
  FetchOptions fetch;
};

/// Whether a URL may be fetched at this depth (0) or the status that says why not. Pure: the
/// master (budget) and the workers (fetch) agree.
[[nodiscard]] std::int32_t classify(const CrawlTask& task, const CrawlOptions& options,
                                    std::string* why = nullptr);
/// Up to `limit` bytes of `text`, not splitting a UTF-8 sequence.
[[nodiscard]] std::string cut_utf8(const std::string& text, std::size_t limit);
/// What a status code means, for the summary and the error column.
[[nodiscard]] std::string describe_status(std::int32_t status);

}  // namespace crawl

// The wire codecs of the crawl's task and result: every member, in this order.
template <>
struct spmd::wire::Codec<crawl::CrawlTask>
    : spmd::wire::Fields<&crawl::CrawlTask::url, &crawl::CrawlTask::depth,
                         &crawl::CrawlTask::skip> {};

template <>
struct spmd::wire::Codec<crawl::Page>
    : spmd::wire::Fields<&crawl::Page::status, &crawl::Page::error, &crawl::Page::content_type,
                         &crawl::Page::title, &crawl::Page::bytes, &crawl::Page::truncated,
                         &crawl::Page::links, &crawl::Page::links_cut> {};

namespace crawl {

/// The crawl's tasks as asynchronous tasks (the book's asyncio chapter): each rank keeps many
/// pages in flight on one thread (FarmOptions::slots of them), robots.txt first where needed.
/// A page's fetch that fails transiently (time-out, connection, HTTP 5xx) fails the attempt
/// while attempts remain, so the farm tries it again.
class PageCrawler final : public spmd::AsyncWork<CrawlTask, Page> {
 public:
  using Task = spmd::AsyncTask<CrawlTask, Page>;
  explicit PageCrawler(const CrawlOptions& options);
  void start(Task task) override;
  void poll(std::chrono::milliseconds max_wait) override { fetcher_.poll(max_wait); }
  void wake() override { fetcher_.wake(); }
  void cancel() override { fetcher_.cancel(); }

 private:
  void fetch_page(Task task);
  const CrawlOptions& options_;
  Fetcher fetcher_;
};

}  // namespace crawl
