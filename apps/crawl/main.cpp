// spmd-crawl: the book's web crawler (chapters 3-7), distributed: rank 0 keeps the frontier and
// drops URLs it has seen, every rank fetches pages (libcurl's multi interface: --slots transfers
// in flight per rank on one thread, the asyncio chapter) and parses them (gumbo); every link
// found becomes a task. Breadth-first by depth, so the result is the same at any rank count and
// any --slots.
//
//   mpirun -np 4 spmd-crawl https://example.org/ --max-depth 2 --output results/crawl.h5
//   mpirun -np 2 spmd-crawl ./site/index.html --ignore-robots        (a local directory)
//
// Only the seed URLs' hosts are requested unless --allow-host says otherwise; robots.txt is
// honoured unless --ignore-robots. Output: /pages (one row per URL found, sorted by URL) and
// /links (src, dst row indices into /pages). Interrupted runs continue with --resume.
#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <spmdkit/spmdkit.hpp>

#include "crawler.hpp"
#include "fetcher.hpp"
#include "url.hpp"

namespace {

using Farm = spmd::TaskFarm<crawl::CrawlTask, crawl::Page>;

struct Options {
  std::vector<std::string> seeds;
  std::vector<std::string> allow_hosts;
  std::uint32_t max_depth = 3;
  std::uint64_t max_pages = 1000;
  std::uint32_t max_links = 1000;
  double timeout = 10;
  std::uint64_t max_bytes = 1 << 20;
  std::uint32_t retries = 2;
  double delay = 0;
  std::uint32_t slots = 16;
  std::uint32_t per_host = 8;
  bool ignore_robots = false;
  std::string user_agent;
  std::string ca_file;
  spmd::FarmFlags farm;

  void declare(CLI::App& cli) {
    cli.add_option("urls", seeds, "seed URLs (http, https, file; a local path means file://)")
        ->required();
    cli.add_option("--allow-host", allow_hosts,
                   "hosts that may be requested: host (any port) or host:port (default: the "
                   "seeds' hosts); nothing else is ever fetched");
    cli.add_option("--max-depth", max_depth, "links to follow from a seed")->capture_default_str();
    cli.add_option("--max-pages", max_pages,
                   "pages to fetch at most (the first in breadth-first, URL order)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--max-links", max_links,
                   "links followed per page, the first in document order (more, and links "
                   "longer than 8000 bytes, are counted in links_cut)")
        ->check(CLI::Range(0u, 1000000u))
        ->capture_default_str();
    cli.add_option("--timeout", timeout, "seconds per request")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--max-bytes", max_bytes, "longer bodies are cut (and marked truncated)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--retries", retries, "retries of a timeout, connection error or HTTP 5xx")
        ->check(CLI::Range(0u, 100u))
        ->capture_default_str();
    cli.add_option("--delay", delay, "seconds between requests to one host, over all workers")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    // How the pages are fetched, not which: a resume may change these (the farm's group).
    cli.add_option("--slots", slots,
                   "pages in flight at once per rank (asynchronous transfers on one thread)")
        ->check(CLI::Range(1U, 1024U))
        ->capture_default_str()
        ->group(spmd::farm_option_group);
    cli.add_option("--per-host", per_host,
                   "requests to one host at once, over all ranks (each rank gets its share, at "
                   "least 1)")
        ->check(CLI::Range(1U, 1024U))
        ->capture_default_str()
        ->group(spmd::farm_option_group);
    cli.add_flag("--ignore-robots", ignore_robots, "do not read robots.txt");
    cli.add_option("--user-agent", user_agent, "User-Agent header (default: spmd-crawl/VERSION)");
    cli.add_option("--ca-file", ca_file,
                   "PEM file of the certificate authorities to trust for https, instead of the "
                   "system's (a site with an internal CA); certificates are always verified")
        ->check(CLI::ExistingFile);
    farm.declare(cli);
  }
};

// A seed as a normalised URL: local paths become file:// URLs.
std::string seed_url(const std::string& text) {
  std::string url = text;
  if (text.find("://") == std::string::npos) {
    std::error_code error;
    const auto absolute = std::filesystem::absolute(text, error);
    if (error || !std::filesystem::exists(absolute)) {
      throw spmd::UsageError(fmt::format("seed '{}' is neither a URL nor an existing file", text));
    }
    url = "file://" + absolute.lexically_normal().string();
  }
  auto normal = crawl::normalize(url);
  if (!normal) throw spmd::UsageError(fmt::format("seed '{}' is not a valid URL", text));
  const auto p = crawl::parts(*normal);
  if (!p || (p->scheme != "http" && p->scheme != "https" && p->scheme != "file")) {
    throw spmd::UsageError(
        fmt::format("seed '{}': only http, https and file URLs are crawled", text));
  }
  return *normal;
}

crawl::CrawlOptions crawl_options(const Options& options, int workers) {
  crawl::CrawlOptions c;
  for (const std::string& seed : options.seeds) c.seeds.push_back(seed_url(seed));
  for (const std::string& url : c.seeds) {
    const auto p = crawl::parts(url);
    if (p->scheme == "file") {
      c.file_roots.push_back(url.substr(0, url.rfind('/') + 1));  // the seed's directory
    } else if (options.allow_hosts.empty()) {
      c.allow_hosts.push_back(crawl::host_key(*p));
    }
  }
  for (const std::string& host : options.allow_hosts) {
    std::string h = host;
    std::transform(h.begin(), h.end(), h.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    c.allow_hosts.push_back(h);
  }
  c.max_depth = options.max_depth;
  c.max_pages = options.max_pages;
  c.max_links = options.max_links;
  c.ignore_robots = options.ignore_robots;
  c.attempts = options.retries + 1;
  c.fetch.timeout_ms = static_cast<long>(options.timeout * 1000);
  c.fetch.max_bytes = options.max_bytes;
  c.fetch.user_agent = options.user_agent.empty()
                           ? fmt::format("spmd-crawl/{}", spmd::version_string)
                           : options.user_agent;
  c.fetch.delay = options.delay;
  c.fetch.ranks = workers;
  c.fetch.per_host = std::max(1, static_cast<int>(options.per_host) / std::max(workers, 1));
  if (!options.ca_file.empty())
    c.fetch.ca_file = std::filesystem::absolute(options.ca_file).string();
  return c;
}

std::string fingerprint(const crawl::CrawlOptions& c) {
  // The trusted CAs decide which https pages can be fetched: part of what a journal resumes.
  return fmt::format(
      "spmd-crawl 2 seeds={} allow={} files={} depth={} pages={} links={} bytes={} robots={}{}",
      fmt::join(c.seeds, " "), fmt::join(c.allow_hosts, " "), fmt::join(c.file_roots, " "),
      c.max_depth, c.max_pages, c.max_links, c.fetch.max_bytes,
      c.ignore_robots ? "ignored" : "honoured",
      c.fetch.ca_file.empty() ? "" : " ca=" + c.fetch.ca_file);
}

// One row of /pages and of /links (a link: row indices of its source and target page).
struct PageRow {
  std::string url;
  std::int32_t status = 0;
  std::string error, content_type, title;
  std::uint32_t depth = 0;
  std::uint64_t bytes = 0;
  std::uint8_t truncated = 0;
  std::int32_t worker = 0;
  std::uint32_t attempts = 0, links_cut = 0;
  double ms = 0;
};
struct LinkRow {
  std::int64_t src = 0, dst = 0;
};

void write_output(const spmd::App& app, const std::vector<Farm::Outcome>& outcomes) {
  // Rows sorted by URL; links as row indices.
  std::vector<const Farm::Outcome*> rows;
  rows.reserve(outcomes.size());
  for (const auto& outcome : outcomes) rows.push_back(&outcome);
  std::sort(rows.begin(), rows.end(),
            [](const auto* a, const auto* b) { return a->task.url < b->task.url; });
  std::unordered_map<std::string, std::int64_t> row_of;
  for (std::size_t i = 0; i < rows.size(); ++i) row_of.emplace(rows[i]->task.url, i);

  std::vector<PageRow> pages;
  std::vector<LinkRow> links;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Farm::Outcome& outcome = *rows[i];
    const crawl::Page page = outcome.result.value_or(crawl::Page{});
    pages.push_back(
        {outcome.task.url, outcome.ok() ? page.status : crawl::status::fetch_error,
         crawl::cut_utf8(outcome.ok() ? page.error : outcome.error, crawl::max_error_bytes),
         page.content_type, page.title, outcome.task.depth, page.bytes, page.truncated,
         outcome.worker, outcome.attempts, page.links_cut, outcome.seconds * 1e3});
    std::vector<std::int64_t> targets;
    for (const std::string& link : page.links) {
      if (const auto it = row_of.find(link); it != row_of.end()) targets.push_back(it->second);
    }
    std::sort(targets.begin(), targets.end());
    for (const auto t : targets) links.push_back({static_cast<std::int64_t>(i), t});
  }
  // Strings as wide as their longest value: bounded by crawl::max_*_bytes, stored compressed.
  using spmd::io::field;
  const spmd::io::RowColumns page_columns{field("url", &PageRow::url),
                                          field("status", &PageRow::status),
                                          field("error", &PageRow::error),
                                          field("content_type", &PageRow::content_type),
                                          field("title", &PageRow::title),
                                          field("depth", &PageRow::depth),
                                          field("bytes", &PageRow::bytes, "byte"),
                                          field("truncated", &PageRow::truncated),
                                          field("worker", &PageRow::worker),
                                          field("attempts", &PageRow::attempts),
                                          field("links_cut", &PageRow::links_cut),
                                          field("ms", &PageRow::ms, "ms")};
  const spmd::io::RowColumns link_columns{field("src", &LinkRow::src), field("dst", &LinkRow::dst)};

  auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
  spmd::io::write_provenance(out.file(), app.provenance(), "spmd-crawl: pages and links");
  spmd::io::Table::create(out.file(), "pages").append(page_columns.batch(pages));
  spmd::io::Table::create(out.file(), "links").append(link_columns.batch(links));
  out.file().set_attribute("status_codes",
                           "HTTP status > 0; -1 fetch error, -2 timeout, -10 outside scope, "
                           "-11 beyond max-depth, -12 beyond max-pages, -13 robots.txt");
  out.commit();
}

int run_crawl(spmd::App& app, const Options& options) {
  // Ranks that fetch (for --delay): all of them, unless the master only schedules.
  const int workers = options.farm.master_schedules_only ? std::max(app.size() - 1, 1) : app.size();
  const crawl::CrawlOptions crawl = crawl_options(options, workers);
  crawl::CurlGlobal curl;
  spmd::StopRequest stop;
  auto progress = app.progress("pages", crawl.seeds.size());

  spmd::FarmOptions farm_options = options.farm.options(app.options().output);
  farm_options.fingerprint += "\ncrawl=" + fingerprint(crawl);  // seeds as normalised, CA path
  farm_options.stop = &stop;
  farm_options.max_attempts = crawl.attempts;
  farm_options.slots = options.slots;
  spmd::attach_progress(farm_options, progress);

  Farm farm(app.comm(), farm_options);
  farm.key_by([](const crawl::CrawlTask& t) { return t.url; });
  farm.level_by([](const crawl::CrawlTask& t) { return t.depth; });
  // The page budget, in breadth-first and URL order: the same pages at any rank count.
  std::uint64_t admitted = 0;
  farm.admit([&](crawl::CrawlTask& task) {
    if (task.skip != 0) return;
    task.skip = crawl::classify(task, crawl);
    if (task.skip != 0) return;
    if (admitted < crawl.max_pages) {
      ++admitted;
    } else {
      task.skip = crawl::status::over_budget;
    }
  });
  for (const std::string& seed : crawl.seeds) farm.submit(crawl::CrawlTask{seed, 0, 0});

  crawl::PageCrawler crawler(crawl);  // this rank's transfers
  const auto run = farm.run_async(crawler);
  progress.finish();
  const auto& report = run.report;
  auto& summary = app.summary();
  summary.set("pages", static_cast<std::int64_t>(report.tasks));
  summary.set("resumed", static_cast<std::int64_t>(report.resumed));
  summary.set("workers", report.workers);
  summary.set("makespan_s", report.seconds);
  if (report.stopped) {
    summary.set("stopped", true);
    app.print("spmd-crawl: stopped on request: {} of {} known pages done, journal {}\n",
              report.done, report.tasks, farm_options.journal);
    return spmd::exit_code::requeue;
  }

  std::map<std::int32_t, std::uint64_t> by_status;
  std::uint64_t link_count = 0, truncated = 0, links_cut = 0;
  for (const auto& outcome : run.outcomes) {
    const crawl::Page page = outcome.result.value_or(crawl::Page{});
    ++by_status[outcome.ok() ? page.status : crawl::status::fetch_error];
    link_count += page.links.size();
    links_cut += page.links_cut;
    truncated += page.truncated;
  }
  std::uint64_t fetched = 0, ok = 0;
  for (const auto& [code, count] : by_status) {
    if (code > 0) fetched += count;
    if (code >= 200 && code < 300) ok += count;
  }
  write_output(app, run.outcomes);
  summary.set("fetched", static_cast<std::int64_t>(fetched));
  summary.set("ok", static_cast<std::int64_t>(ok));
  summary.set("links", static_cast<std::int64_t>(link_count));
  summary.set("links_cut", static_cast<std::int64_t>(links_cut));
  summary.set("failed", static_cast<std::int64_t>(report.failed));
  summary.set("output", app.options().output);
  std::string counts;
  for (const auto& [code, count] : by_status) {
    counts += fmt::format("\n    {:>5}  {:6}  {}", code, count, crawl::describe_status(code));
  }
  if (app.is_root())
    summary.set_json("status_counts", [&] {
      std::string json = "{";
      for (const auto& [code, count] : by_status) {
        json += fmt::format("{}\"{}\":{}", json.size() > 1 ? "," : "", code, count);
      }
      return json + "}";
    }());
  app.print(
      "spmd-crawl: {} URLs found from {} seed(s) on {} worker(s) in {:.2f} s: {} fetched "
      "({} ok), {} links ({} not followed: --max-links or longer than {} bytes), {} bodies "
      "cut{}\n",
      report.tasks, crawl.seeds.size(), report.workers, report.seconds, fetched, ok, link_count,
      links_cut, crawl::max_url_bytes, truncated, counts);
  app.print("  wrote {} (/pages, /links)\n", app.options().output);
  if (report.failed > 0) return spmd::exit_code::tasks_failed;
  return spmd::exit_code::ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  return spmd::run(
      argc, argv,
      {.name = "crawl",
       .description = "A breadth-first web crawler (http, https, file) as a master-worker farm",
       .default_output = "crawl.h5"},
      [&](CLI::App& cli) { options.declare(cli); },
      [&](spmd::App& app) { return run_crawl(app, options); });
}
